// The page hooks' end of the private channel (E-03): only a port this very window offers, once, is
// taken; the hooks announce themselves to their own origin; a proposal is decided once, by a release or
// a settlement for its id, and nothing else said on the channel counts; without a config in 30 s the
// hooks stop waiting. Driven with a fake window and Node's MessageChannel. Node only (tests).
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BridgeToHook, HookConfig, HookToBridge } from '@/lib/content/channel';
import { HELLO_MESSAGE, PORT_MESSAGE } from '@/lib/content/channel';
import { openHookChannel } from '@/lib/content/page-hooks/hook-channel';

const ORIGIN = 'http://forum.corp:8080';
const CONFIG: HookConfig = { actions: [], generic: true, markerHeaders: [], markerFields: {}, markerSelectors: [], strictMode: false };
const tick = () => new Promise((r) => setTimeout(r, 10));

function fakeWindow() {
  const listeners: Array<(e: unknown) => void> = [];
  const posted: Array<[unknown, string]> = [];
  const win = { location: { origin: ORIGIN }, postMessage: (msg: unknown, origin: string) => posted.push([msg, origin]) };
  const listen = ((type: string, fn: (e: unknown) => void) => type === 'message' && listeners.push(fn)) as unknown as Window['addEventListener'];
  const channel = openHookChannel(win as unknown as Window & typeof globalThis, listen);
  /** A window message event: from this window unless `source` says otherwise. */
  const offer = (ports: MessagePort[], data: unknown = { type: PORT_MESSAGE }, source: unknown = win) => listeners.forEach((fn) => fn({ source, data, ports }));
  return { win, channel, posted, offer };
}

/** A bridge: its end of a channel, and what the hooks said on it. */
function bridge() {
  const { port1, port2 } = new MessageChannel();
  const heard: HookToBridge[] = [];
  port1.onmessage = (e: MessageEvent<HookToBridge>) => heard.push(e.data);
  return { hookEnd: port2, heard, say: (msg: BridgeToHook | Record<string, unknown>) => port1.postMessage(msg), close: () => port1.close() };
}

afterEach(() => vi.useRealTimers());

describe('the handshake', () => {
  it('announces itself to its own origin only', () => {
    const { posted } = fakeWindow();
    expect(posted).toEqual([[{ type: HELLO_MESSAGE }, ORIGIN]]);
  });

  it('takes the port its own window offers and answers ready on it', async () => {
    const { offer } = fakeWindow();
    const b = bridge();
    offer([b.hookEnd]);
    await tick();
    expect(b.heard).toEqual([{ t: 'ready' }]);
    b.close();
  });

  it('a port offered by another window (a frame, an opener), a message of another type, or one without a port is not taken', async () => {
    const { offer } = fakeWindow();
    const b = bridge();
    offer([b.hookEnd], { type: PORT_MESSAGE }, { other: 'window' });
    offer([b.hookEnd], { type: 'something-else' });
    offer([]);
    await tick();
    expect(b.heard).toEqual([]);
    b.close();
  });

  it('a page offering its own port after the bridge\'s gets nothing: the first port stays the channel', async () => {
    const { channel, offer } = fakeWindow();
    const real = bridge();
    const page = bridge();
    offer([real.hookEnd]);
    offer([page.hookEnd]);
    void channel.hold('fetch', { method: 'POST', url: `${ORIGIN}/x`, contentType: null, body: null }, { signals: ['webdriver'], agentHint: null });
    await tick();
    expect(page.heard).toEqual([]);
    expect(real.heard.map((m) => m.t)).toEqual(['ready', 'propose']);
    real.close();
    page.close();
  });
});

describe('the config', () => {
  it('arrives on the channel: current, ready resolves with it, submissions are decided from then on', async () => {
    const { channel, offer } = fakeWindow();
    const b = bridge();
    offer([b.hookEnd]);
    expect([channel.config, channel.settled]).toEqual([null, false]);
    b.say({ t: 'config', config: CONFIG });
    expect(await channel.ready).toEqual(CONFIG);
    expect([channel.config, channel.settled]).toEqual([CONFIG, true]);
    b.close();
  });

  it('never comes: after 30 s ready resolves with null (requests pass; the server still enforces)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const { channel } = fakeWindow();
    vi.advanceTimersByTime(29_999);
    await Promise.resolve();
    expect(channel.settled).toBe(false);
    vi.advanceTimersByTime(1);
    expect(await channel.ready).toBeNull();
    expect([channel.config, channel.settled]).toEqual([null, true]);
  });
});

describe('a held request', () => {
  async function held() {
    const { channel, offer } = fakeWindow();
    const b = bridge();
    offer([b.hookEnd]);
    const request = { method: 'POST', url: `${ORIGIN}/api/topics/1/replies`, contentType: 'application/json', body: '{"body":"hi"}' };
    const outcome = channel.hold('fetch', request, { signals: ['assistant-marker'], agentHint: 'agent:forum-helper' }).then(
      (v) => ({ released: v }),
      (e: Error & { outcome?: string }) => ({ settled: [e.outcome, e.message] }),
    );
    await tick();
    return { channel, b, request, outcome };
  }

  it('is proposed with its kind, request, signals and hint, under a fresh id', async () => {
    const { b, request } = await held();
    expect(b.heard[1]).toEqual({ t: 'propose', id: 1, kind: 'fetch', request, signals: ['assistant-marker'], agentHint: 'agent:forum-helper' });
    b.close();
  });

  it('a release for its id resolves with the tokens; a second release or a settlement after it changes nothing', async () => {
    const { b, outcome } = await held();
    b.say({ t: 'release', id: 1, tokens: ['first'] });
    b.say({ t: 'release', id: 1, tokens: ['second'] });
    b.say({ t: 'settle', id: 1, outcome: 'rejected', message: 'late' });
    expect(await outcome).toEqual({ released: { id: 1, tokens: ['first'] } });
    b.close();
  });

  it('a settlement rejects with the outcome and message; a release after it changes nothing', async () => {
    const { b, outcome } = await held();
    b.say({ t: 'settle', id: 1, outcome: 'rejected', message: 'not this' });
    b.say({ t: 'release', id: 1, tokens: ['late'] });
    expect(await outcome).toEqual({ settled: ['rejected', 'not this'] });
    b.close();
  });

  it('a release for another id, or a message of another kind on the channel (a forged outcome), decides nothing', async () => {
    const { b, outcome } = await held();
    b.say({ t: 'release', id: 2, tokens: ['other'] });
    b.say({ t: 'outcome', id: 1, outcome: 'released' });
    b.say({ t: 'approve', id: 1 });
    const pending = await Promise.race([outcome, tick().then(() => 'still pending')]);
    expect(pending).toBe('still pending');
    b.say({ t: 'release', id: 1, tokens: ['owner'] });
    expect(await outcome).toEqual({ released: { id: 1, tokens: ['owner'] } });
    b.close();
  });
});
