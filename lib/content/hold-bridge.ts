// The isolated-world half of holding on protected sites: hands the page-world hooks their config
// over a private MessagePort, forwards their proposals to the background, shows the hold notice,
// and passes releases and settlements back. Content script only (isolated world).
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import { browser } from 'wxt/browser';
import type { Diff, SiteAdapter } from '../protocol';
import { fillPathTemplate } from '../protocol/path-pattern';
import { findAction } from '../policy/adapter-actions';
import { messenger } from '../messaging/messenger';
import { bodyPairs, fieldRows, postText } from '../shared/request-body';
import type { Json } from '../shared/request-body';
import type { Reply, ProposalInput, SiteConfig } from '../messaging/contract';
import type { BridgeToHook, HookConfig, HookToBridge } from './channel';
import { HELLO_MESSAGE, PORT_MESSAGE } from './channel';
import { HoldNotice } from './hold-notice';

function hookConfig(config: SiteConfig): HookConfig {
  const adapter = config.protected ? config.adapter : null;
  return {
    actions: (adapter?.actions ?? []).map((a) => ({
      request: { method: a.request.method, url: a.request.url },
      requires: a.requires ?? 'agents',
    })),
    generic: config.protected && !adapter,
    markerHeaders: adapter?.assistant?.headers ?? [],
    markerFields: adapter?.assistant?.fields ?? {},
    markerSelectors: adapter?.assistant?.selectors ?? [],
    strictMode: config.protected && config.strictMode,
  };
}

type Pairs = Array<[string, Json]>;

/** The current state a config change starts from, read through the adapter in the user's own session. */
async function beforePairs(before: NonNullable<SiteAdapter['actions'][number]['before']>, captures: string[]): Promise<Pairs> {
  if ('get' in before) {
    const res = await fetch(new URL(fillPathTemplate(before.get, captures), location.href), { credentials: 'same-origin', headers: { accept: 'application/json' } }).catch(() => null);
    const value: unknown = res?.ok ? await res.json().catch(() => null) : null;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (Object.entries(value) as Pairs) : [];
  }
  const form = document.querySelector<HTMLFormElement>(before.form);
  // Every value of a repeated field, in order: the diff shows each beside the value it becomes.
  return form ? ([...new FormData(form)].filter(([, v]) => typeof v === 'string') as Pairs) : [];
}

export type Proposed = Extract<HookToBridge, { t: 'propose' }>;

/**
 * What the owner reviews: the post's text where the adapter action says (a field name or a JSON
 * pointer), and a diff — the text, or a config's fields before → after. Which action the request is,
 * is read from the request with the background's matcher; the background decides it again and checks
 * text and diff against the body (proposal-check.ts). An ambiguous text (a repeated form field) is
 * left out: the background then refuses the proposal.
 */
export async function review(adapter: SiteAdapter | null, proposal: Proposed): Promise<{ content: string | null; diff: Diff | null }> {
  const { method, url, contentType, body } = proposal.request;
  const found = adapter ? findAction(adapter.actions, method, new URL(url)) : null;
  let content: string | null = null;
  try {
    content = found?.action.content ? postText(contentType, body, found.action.content) : null;
  } catch {
    return { content: null, diff: null };
  }
  if (content !== null) return { content, diff: { kind: 'text', before: null, after: content } };
  const before = found?.action.before;
  const after = body === null ? null : bodyPairs(contentType, body);
  if (!found || !before || !after) return { content, diff: null };
  const diff: Diff = { kind: 'fields', fields: fieldRows(await beforePairs(before, found.captures).catch(() => []), after) };
  return { content, diff };
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

  const answer = (await messenger.sendMessage('cs-bg:site-config', {}).catch(() => null)) as Reply<SiteConfig> | null;
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
        request: msg.request,
        ...(await review(config.adapter, msg)),
        signals: msg.signals as ProposalInput['signals'],
        agentHint: msg.agentHint,
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
