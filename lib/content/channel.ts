// The private channel between the page-world hooks and the isolated content script: message shapes.
// Runtime-neutral declarations (both content-script worlds import the types only).

/** What the hooks need to know about this site, from the background via the isolated script. */
export interface HookConfig {
  /** The adapter's actions: which requests are side-effecting (method, URL pattern). */
  actions: Array<{ request: { method: string; url: string }; requires: 'agents' | 'always' }>;
  /** No adapter for this protected site: every non-GET request to its origin and every form POST is side-effecting. */
  generic: boolean;
  markerHeaders: string[];
  markerFields: Record<string, string>;
  markerSelectors: string[];
  strictMode: boolean;
}

export interface HeldRequest {
  method: string;
  url: string;
  contentType: string | null;
  body: string | null;
}

export type HookToBridge =
  | { t: 'ready' }
  // Neither the action nor the post's text: the background decides from the request which action it
  // is, and both it and the bridge read the text from the body with the protocol's reader.
  | { t: 'propose'; id: number; kind: 'fetch' | 'xhr' | 'form'; request: HeldRequest; signals: string[]; agentHint: string | null }
  | { t: 'outcome'; id: number; outcome: 'released' | 'failed'; status?: number; reason?: string };

export type BridgeToHook =
  | { t: 'config'; config: HookConfig }
  // Every approval the request carries: one, or each a quorum needs, in order.
  | { t: 'release'; id: number; tokens: string[] }
  | { t: 'settle'; id: number; outcome: 'rejected' | 'expired' | 'blocked' | 'failed'; message: string };

/** window.postMessage type of the one message that hands the channel's port to the page world. */
export const PORT_MESSAGE = 'countersign:port';
export const HELLO_MESSAGE = 'countersign:hello';
