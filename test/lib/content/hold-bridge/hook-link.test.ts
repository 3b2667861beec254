// The isolated end of the private channel to the page-world hooks (E-03): a port offered on this
// window to its own origin, another whenever the hooks announce themselves before they took one; the
// first offered port they answer `ready` on is the channel and the others are closed; a replayed
// `ready` and the page's own announcements change nothing; only the channel's messages reach the
// bridge. Driven with a fake window and context and Node's MessageChannel. Node only (tests).
import { describe, expect, it, vi } from 'vitest';
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import type { BridgeToHook, HookToBridge } from '@/lib/content/channel';
import { HELLO_MESSAGE, PORT_MESSAGE } from '@/lib/content/channel';
import { linkHooks } from '@/lib/content/hold-bridge/hook-link';
import type { FromHooks } from '@/lib/content/hold-bridge/hook-link';

const ORIGIN = 'http://forum.corp:8080';
const tick = () => new Promise((r) => setTimeout(r, 10));

function link() {
  const offers: Array<{ msg: unknown; origin: string; port: MessagePort }> = [];
  const listeners: Array<(e: unknown) => void> = [];
  const win = { location: { origin: ORIGIN }, postMessage: (msg: unknown, origin: string, transfer: MessagePort[]) => offers.push({ msg, origin, port: transfer[0]! }) };
  const ctx = { addEventListener: (target: unknown, type: string, fn: (e: unknown) => void) => target === win && type === 'message' && listeners.push(fn) };
  const onReady = vi.fn();
  const heard: FromHooks[] = [];
  const send = linkHooks(win as unknown as Window, ctx as unknown as Pick<ContentScriptContext, 'addEventListener'>, onReady, (msg) => heard.push(msg));
  /** The hooks' side of an offered port: what they hear on it, and how they speak. */
  const hooksOn = (n: number) => {
    const port = offers[n]!.port;
    const got: BridgeToHook[] = [];
    port.onmessage = (e: MessageEvent<BridgeToHook>) => got.push(e.data);
    return { got, say: (msg: HookToBridge) => port.postMessage(msg), port };
  };
  const announce = (source: unknown = win) => listeners.forEach((fn) => fn({ source, data: { type: HELLO_MESSAGE } }));
  const closeAll = () => offers.forEach((o) => o.port.close());
  return { win, offers, onReady, heard, send, hooksOn, announce, closeAll };
}

const outcome: HookToBridge = { t: 'outcome', id: 1, outcome: 'released', status: 201 };

describe('linkHooks', () => {
  it('offers a port at once, on its window, to its own origin only', () => {
    const l = link();
    expect(l.offers.map((o) => [o.msg, o.origin])).toEqual([[{ type: PORT_MESSAGE }, ORIGIN]]);
    l.closeAll();
  });

  it('the hooks\' ready makes the port the channel: onReady once, then their messages reach the bridge and the bridge\'s reach them', async () => {
    const l = link();
    const hooks = l.hooksOn(0);
    l.send({ t: 'release', id: 9, tokens: ['dropped: no channel yet'] });
    hooks.say({ t: 'ready' });
    await tick();
    expect(l.onReady).toHaveBeenCalledTimes(1);
    hooks.say(outcome);
    l.send({ t: 'settle', id: 1, outcome: 'failed', message: 'x' });
    await tick();
    expect(l.heard).toEqual([outcome]);
    expect(hooks.got).toEqual([{ t: 'settle', id: 1, outcome: 'failed', message: 'x' }]);
    l.closeAll();
  });

  it('messages before ready are not the bridge\'s to hear', async () => {
    const l = link();
    const hooks = l.hooksOn(0);
    hooks.say(outcome);
    await tick();
    expect(l.heard).toEqual([]);
    l.closeAll();
  });

  it('a replayed ready on the channel changes nothing (onReady stays once)', async () => {
    const l = link();
    const hooks = l.hooksOn(0);
    hooks.say({ t: 'ready' });
    hooks.say({ t: 'ready' });
    await tick();
    expect(l.onReady).toHaveBeenCalledTimes(1);
    l.closeAll();
  });

  it('hooks that start late announce themselves: a second port is offered; the first answered is the channel, the other one is closed', async () => {
    const l = link();
    l.announce();
    expect(l.offers).toHaveLength(2);
    const late = l.hooksOn(1);
    const early = l.hooksOn(0);
    late.say({ t: 'ready' });
    await tick();
    early.say({ t: 'ready' });
    early.say(outcome);
    await tick();
    expect(l.onReady).toHaveBeenCalledTimes(1);
    expect(l.heard).toEqual([]);
    l.send({ t: 'release', id: 1, tokens: ['t'] });
    await tick();
    expect([late.got.length, early.got.length]).toEqual([1, 0]);
    l.closeAll();
  });

  it('announcements from another window, or once the channel is taken (a page collecting ports), offer nothing', async () => {
    const l = link();
    l.announce({ other: 'window' });
    expect(l.offers).toHaveLength(1);
    l.hooksOn(0).say({ t: 'ready' });
    await tick();
    for (let i = 0; i < 5; i++) l.announce();
    expect(l.offers).toHaveLength(1);
    l.closeAll();
  });
});
