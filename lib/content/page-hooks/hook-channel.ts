// The page hooks' end of the private channel to the isolated bridge: takes the first port the bridge
// offers on this window, receives the site's config, proposes held requests and waits for their
// release or settlement. Page MAIN world only; listens only through the captured addEventListener.
import type { BridgeToHook, HeldRequest, HookConfig, HookToBridge } from '../channel';
import { HELLO_MESSAGE, PORT_MESSAGE } from '../channel';
import type { Authorship } from './authorship';

/** Without a config from the extension within this time, requests pass: the server still enforces. */
const CONFIG_WAIT_MS = 30_000;

export interface Released {
  id: number;
  /** Every approval the request carries: one, or each a quorum needs, in order. */
  tokens: string[];
}

/** The `Countersign-Approval` value of these approvals: comma-separated (joinApprovalTokens in lib/protocol/quorum.ts; not imported, it brings zod). */
export function approvalHeaderValue(tokens: readonly string[]): string {
  return tokens.join(', ');
}

export interface HookChannel {
  /** The site's config, once the bridge sent it (kept current by the channel; read-only to the rest). */
  readonly config: HookConfig | null;
  /** Resolves with the config, or with null once the wait for it is over. */
  readonly ready: Promise<HookConfig | null>;
  /** True once the config arrived or the wait for it is over: submissions are decided from then on. */
  readonly settled: boolean;
  post(msg: HookToBridge): void;
  /** Proposes a held request; resolves with the tokens on approval, rejects with the outcome otherwise. */
  hold(kind: 'fetch' | 'xhr' | 'form', request: HeldRequest, authorship: Authorship): Promise<Released>;
}

export function openHookChannel(win: Window & typeof globalThis, listen: Window['addEventListener']): HookChannel {
  let port: MessagePort | null = null;
  let configured!: (c: HookConfig | null) => void;
  /** Each proposed request's decision, taken once: a release or a settlement, and later messages about it are ignored. */
  const pending = new Map<number, (msg: Extract<BridgeToHook, { t: 'release' | 'settle' }>) => void>();
  let nextId = 1;
  const post = (msg: HookToBridge): void => port?.postMessage(msg);
  const channel: { -readonly [K in keyof HookChannel]: HookChannel[K] } = {
    config: null,
    ready: new Promise((resolve) => (configured = resolve)),
    settled: false,
    post,
    hold(kind, request, authorship) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, (msg) => {
          pending.delete(id);
          if (msg.t === 'release') resolve({ id, tokens: msg.tokens });
          else reject(Object.assign(new Error(msg.message), { outcome: msg.outcome }));
        });
        post({ t: 'propose', id, kind, request, ...authorship });
      });
    },
  };
  setTimeout(() => configured(null), CONFIG_WAIT_MS);
  void channel.ready.then(() => (channel.settled = true));

  const onBridge = (msg: BridgeToHook): void => {
    if (msg.t === 'config') {
      channel.config = msg.config;
      configured(msg.config);
    } else if (msg.t === 'release' || msg.t === 'settle') pending.get(msg.id)?.(msg);
  };
  listen('message', (event: MessageEvent) => {
    if (port || event.source !== win || (event.data as { type?: unknown })?.type !== PORT_MESSAGE || !event.ports[0]) return;
    port = event.ports[0];
    port.onmessage = (e: MessageEvent<BridgeToHook>) => onBridge(e.data);
    port.postMessage({ t: 'ready' } satisfies HookToBridge);
  });
  win.postMessage({ type: HELLO_MESSAGE }, win.location.origin);
  return channel;
}
