// The isolated-world half of holding on protected sites: hands the page-world hooks their config
// over a private MessagePort, forwards their proposals to the background, shows the hold notice,
// and passes releases and settlements back. Content script only (isolated world).
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import { browser } from 'wxt/browser';
import type { Diff, SiteAdapter } from '../protocol';
import { messenger } from '../extension/messenger';
import { afterSide } from '../extension/request-body';
import type { Outcome, ProposalInput, SiteConfig } from '../extension/messages';
import type { BridgeToHook, HookConfig, HookToBridge } from './channel';
import { HELLO_MESSAGE, PORT_MESSAGE } from './channel';
import { HoldNotice } from './hold-notice';

function hookConfig(config: SiteConfig): HookConfig {
  const adapter = config.protected ? config.adapter : null;
  return {
    actions: (adapter?.actions ?? []).map((a, index) => ({
      index,
      method: a.request.method,
      path: a.request.url.split('?', 1)[0]!.split('/').filter(Boolean),
      requires: a.requires ?? 'agents',
      ...(a.content ? { content: a.content } : {}),
    })),
    generic: config.protected && !adapter,
    markerHeaders: adapter?.assistant?.headers ?? [],
    markerFields: adapter?.assistant?.fields ?? {},
    markerSelectors: adapter?.assistant?.selectors ?? [],
    strictMode: config.protected && config.strictMode,
  };
}

/** The diff the owner reviews: a post's text, or a config's fields before → after (read through the adapter). */
async function diffFor(adapter: SiteAdapter | null, action: number, proposal: Extract<HookToBridge, { t: 'propose' }>): Promise<Diff | null> {
  const spec = adapter?.actions[action];
  if (proposal.content !== null) return { kind: 'text', before: null, after: proposal.content };
  if (!spec?.before || !proposal.request.body) return null;
  // Read as the background reads it when it checks the proposal (request-body.ts).
  const after = afterSide(proposal.request.contentType, proposal.request.body);
  if (!after) return null;
  let before: Record<string, unknown> = {};
  if ('get' in spec.before) {
    const segments = new URL(proposal.request.url).pathname.split('/').filter(Boolean);
    const stars = spec.request.url.split('/').filter(Boolean).flatMap((s, i) => (s === '*' ? [segments[i] ?? ''] : []));
    const url = spec.before.get.replace(/\{(\d+)\}/g, (_m, n: string) => encodeURIComponent(stars[Number(n) - 1] ?? ''));
    const res = await fetch(new URL(url, location.href), { credentials: 'same-origin', headers: { accept: 'application/json' } }).catch(() => null);
    before = res?.ok ? ((await res.json().catch(() => ({}))) as Record<string, unknown>) : {};
  } else {
    const form = document.querySelector<HTMLFormElement>(spec.before.form);
    before = form ? Object.fromEntries([...new FormData(form)].filter(([, v]) => typeof v === 'string')) : {};
  }
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return { kind: 'fields', fields: names.map((name) => ({ name, before: (before[name] ?? null) as never, after: (after[name] ?? null) as never })) };
}

/**
 * Sends to the background again when the answer is lost (the worker stopped while it handled the
 * message; the next message wakes it). Only for messages the background treats idempotently: a
 * proposal carries its proposalId, an outcome ends an action at most once.
 */
async function resend<T>(send: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

export async function startHoldBridge(ctx: ContentScriptContext): Promise<void> {
  // Connect to the page-world hooks first, before any await: the handshake must not wait for a
  // sleeping service worker. The config follows as soon as the background answers.
  let config: SiteConfig | null = null;
  let port: MessagePort | null = null;
  const byAction = new Map<string, number>();
  const notice = new HoldNotice(ctx);

  const toHook = (msg: BridgeToHook) => port?.postMessage(msg);
  const sendConfig = () => port && config && toHook({ t: 'config', config: hookConfig(config) });
  // Every port we offered; the hooks take the first that reaches them and answer `ready` on it.
  const offered = new Set<MessagePort>();
  const connect = () => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (e: MessageEvent<HookToBridge>) => void onHook(e.data, channel.port1);
    offered.add(channel.port1);
    window.postMessage({ type: PORT_MESSAGE }, location.origin, [channel.port2]);
  };
  connect();

  // The page-world hooks announce themselves; if they started after our port was posted, offer anew.
  ctx.addEventListener(window, 'message', (event: MessageEvent) => {
    if (!port && event.source === window && (event.data as { type?: unknown })?.type === HELLO_MESSAGE) connect();
  });

  const answer = (await messenger.sendMessage('cs-bg:site-config', {}).catch(() => null)) as Outcome<SiteConfig> | null;
  config = answer?.ok ? answer.value : { protected: false, adapter: null, strictMode: false };
  sendConfig();

  async function onHook(msg: HookToBridge, from: MessagePort): Promise<void> {
    if (msg.t === 'ready') {
      if (port || !offered.has(from)) return;
      port = from;
      for (const other of offered) if (other !== from) other.close();
      sendConfig();
      return;
    }
    if (from !== port || !config) return;
    if (msg.t === 'propose') {
      const proposal: ProposalInput = {
        kind: msg.kind,
        action: msg.action,
        request: msg.request,
        content: msg.content,
        signals: msg.signals as ProposalInput['signals'],
        agentHint: msg.agentHint,
        diff: await diffFor(config.adapter, msg.action, msg).catch(() => null),
        proposalId: crypto.randomUUID(),
      };
      const result = await resend(() => messenger.sendMessage('cs-bg:propose', proposal)).catch((e: Error) => ({ ok: false as const, code: 'failed', message: e.message }));
      if (!result.ok) {
        toHook({ t: 'settle', id: msg.id, outcome: 'failed', message: result.message });
        notice.show(`Countersign could not hold this request: ${result.message}`, 'failed');
        return;
      }
      byAction.set(result.value.actionId, msg.id);
      if (result.value.state === 'blocked') {
        toHook({ t: 'settle', id: msg.id, outcome: 'blocked', message: result.value.message });
        notice.show(result.value.message, 'blocked');
      } else {
        notice.show(result.value.message, 'held');
      }
      return;
    }
    const actionId = [...byAction].find(([, id]) => id === msg.id)?.[0];
    if (actionId) {
      const outcome = { actionId, outcome: msg.outcome, ...(msg.status !== undefined ? { status: msg.status } : {}), ...(msg.reason ? { reason: msg.reason } : {}) };
      await resend(() => messenger.sendMessage('cs-bg:outcome', outcome)).catch(() => undefined);
      if (msg.outcome !== 'released') notice.show(`Not sent: ${msg.reason ?? 'failed'}`, msg.outcome);
      else if (msg.status !== undefined && msg.status >= 400) notice.show(`Approved and sent, but the tool refused it (HTTP ${msg.status}).`, 'failed');
      else notice.show('Approved and sent.', 'released');
    }
  }

  // Only the background may release or settle: no tab stamps its messages.
  const fromBackground = (sender: { id?: string; tab?: unknown }) => sender.id === browser.runtime.id && !sender.tab;
  messenger.onMessage('bg-cs:release', ({ data, sender }) => {
    const id = byAction.get(data.actionId);
    if (!fromBackground(sender) || id === undefined) return;
    byAction.delete(data.actionId);
    byAction.set(data.actionId, id);
    toHook({ t: 'release', id, token: data.token });
    notice.show('Approved: sending it now…', 'approved');
  });
  messenger.onMessage('bg-cs:settle', ({ data, sender }) => {
    const id = byAction.get(data.actionId);
    if (!fromBackground(sender) || id === undefined) return;
    toHook({ t: 'settle', id, outcome: data.outcome, message: data.message });
    notice.show(data.message, data.outcome);
  });
}
