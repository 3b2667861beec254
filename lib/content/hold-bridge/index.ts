// The isolated-world half of holding on protected sites: hands the page-world hooks their config
// over a private MessagePort, forwards their proposals to the background, shows the hold notice,
// and passes releases and settlements back; keeps the forms as the page loaded, for the diffs.
// Content script only (isolated world).
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import { browser } from 'wxt/browser';
import { messenger } from '../../messaging/messenger';
import { acceptFromBackground } from '../../messaging/to-content';
import type { Reply, ProposalInput, ReleaseData, SiteConfig } from '../../messaging/contract';
import { snapshotForms } from './form-snapshot';
import { hookConfig } from './hook-config';
import { holdNotice } from './hold-notice';
import { linkHooks } from './hook-link';
import type { FromHooks } from './hook-link';
import { resend } from './resend';
import { review } from './review';

export async function startHoldBridge(ctx: ContentScriptContext): Promise<void> {
  // Connect to the page-world hooks first, before any await: the handshake must not wait for a
  // sleeping service worker. The config follows as soon as the background answers.
  let config: SiteConfig | null = null;
  const byAction = new Map<string, number>();
  const notice = holdNotice(ctx);
  // The forms as the page loaded: a diff's "before" (review.ts), taken before any assistant changes them.
  const formsAtLoad = snapshotForms(document, ctx);
  // The config goes to the hooks once both are there: the hooks' port (sendConfig is linkHooks'
  // onReady, which never runs before it returns) and the background's answer.
  const sendConfig = () => config && toHook({ t: 'config', config: hookConfig(config) });
  const toHook = linkHooks(window, ctx, sendConfig, (msg) => void onHook(msg));

  const answer = (await messenger.sendMessage('cs-bg:site-config', {}).catch(() => null)) as Reply<SiteConfig> | null;
  config = answer?.ok ? answer.value : { protected: false, adapter: null, strictMode: false };
  sendConfig();

  async function onHook(msg: FromHooks): Promise<void> {
    if (!config) return;
    if (msg.t === 'outcome') {
      // How a released request ended: to the background, and to the page's user.
      const actionId = [...byAction].find(([, id]) => id === msg.id)?.[0];
      if (!actionId) return;
      const outcome = { actionId, outcome: msg.outcome, ...(msg.status !== undefined ? { status: msg.status } : {}), ...(msg.reason ? { reason: msg.reason } : {}) };
      await resend(() => messenger.sendMessage('cs-bg:release-result', outcome)).catch(() => undefined);
      if (msg.outcome !== 'released') notice.show(`Not sent: ${msg.reason ?? 'failed'}`, msg.outcome);
      else if (msg.status !== undefined && msg.status >= 400) notice.show(`Approved and sent, but the tool refused it (HTTP ${msg.status}).`, 'failed');
      else notice.show('Approved and sent.', 'released');
      return;
    }
    // A held request: to the background with what the owner reviews; the hooks are told at once if it is not held.
    const proposal: ProposalInput = {
      kind: msg.kind,
      request: msg.request,
      ...(await review(config.adapter, msg, formsAtLoad)),
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
    // Approved before this answer arrived (a policy bot's rule covered it): released now.
    const early = earlyReleases.get(result.value.actionId);
    if (early) {
      earlyReleases.delete(result.value.actionId);
      release(early);
      return;
    }
    if (result.value.state === 'blocked') {
      toHook({ t: 'settle', id: msg.id, outcome: 'blocked', message: result.value.message });
      notice.show(result.value.message, 'blocked');
    } else {
      notice.show(result.value.message, 'held');
    }
  }

  // Only the background may release or settle (the sender as the browser stamped it), and only with
  // a payload of the message map's shape: anything else is dropped unanswered.
  const self = { id: browser.runtime.id, origin: browser.runtime.getURL('/').replace(/\/$/, '') };
  /** Releases for an action whose proposal's answer has not arrived yet (a bot approved it at once), by action id; kept briefly. */
  const earlyReleases = new Map<string, ReleaseData>();
  function release(data: ReleaseData): void {
    const id = byAction.get(data.actionId);
    if (id === undefined) return;
    byAction.delete(data.actionId);
    byAction.set(data.actionId, id);
    toHook({ t: 'release', id, tokens: data.tokens });
    notice.show(data.tokens.length > 1 ? `Approved by ${data.tokens.length} people: sending it now…` : 'Approved: sending it now…', 'approved');
  }
  messenger.onMessage('bg-cs:release', (message) => {
    const data = acceptFromBackground('bg-cs:release', message.data, message.sender, self);
    if (!data) return;
    if (byAction.has(data.actionId)) return release(data);
    if (earlyReleases.size < 20) {
      earlyReleases.set(data.actionId, data);
      setTimeout(() => earlyReleases.delete(data.actionId), 30_000);
    }
  });
  messenger.onMessage('bg-cs:settle', (message) => {
    const data = acceptFromBackground('bg-cs:settle', message.data, message.sender, self);
    const id = data ? byAction.get(data.actionId) : undefined;
    if (!data || id === undefined) return;
    toHook({ t: 'settle', id, outcome: data.outcome, message: data.message });
    notice.show(data.message, data.outcome);
  });
}
