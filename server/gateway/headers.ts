// The headers the gateway reads and the ones it sends on (DESIGN.md, "The gateway"). A tool may read
// a header under another spelling than ours (PHP turns `X-Forwarded_User` and `X.Forwarded.User` into
// the same `HTTP_X_FORWARDED_USER` as `X-Forwarded-User`; Apache's CGI environment folds every
// character that is not a letter or digit), so every name is compared folded, and a header the gateway
// owns reaches the tool only as the gateway set it. Pure.
import { isIP } from 'node:net';
import { APPROVAL_HEADER } from '../../lib/protocol';

/** A header name as the widest CGI reading sees it: lower case, every character but a letter or digit as `-`. */
export function foldHeaderName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '-');
}

/** Every value of a header under any spelling, from Node's raw list (a repeated header stays repeated). */
export function rawValues(rawHeaders: readonly string[], name: string): string[] {
  const want = foldHeaderName(name);
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (foldHeaderName(rawHeaders[i]!) === want) values.push(rawHeaders[i + 1]!);
  return values;
}

/** Whether the header is also sent under a spelling other than `name` (case aside) that a tool reads as the same. */
export function hasOtherSpelling(rawHeaders: readonly string[], name: string): boolean {
  const want = foldHeaderName(name);
  const exact = name.toLowerCase();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const n = rawHeaders[i]!;
    if (n.toLowerCase() !== exact && foldHeaderName(n) === want) return true;
  }
  return false;
}

/** The peer's address as configured addresses are written (`::ffff:127.0.0.1` is `127.0.0.1`). */
export function peerAddress(remote: string | undefined): string | undefined {
  if (remote === undefined) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  return mapped ? mapped[1] : remote.toLowerCase();
}

export function isTrustedPeer(peer: string | undefined, trusted: readonly string[]): boolean {
  if (peer === undefined || isIP(peer) === 0) return false;
  return trusted.some((t) => peerAddress(t) === peer);
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and those the gateway answers itself: never forwarded as received. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'host', 'content-length', 'http2-settings']);

/** Headers a client could use to tell the tool another origin or address than the one it reached. */
const FORWARDING = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-prefix', 'x-real-ip', 'x-original-url', 'x-rewrite-url']);

/** What the gateway's decision sets toward the tool. */
export interface Outgoing {
  /** The person the authenticating proxy named (from a trusted peer), set under the identity header's name. */
  user?: string;
  /** The agent the gateway verified by its Countersign key. */
  agent?: string;
  /** The tool credential brokered for that agent (lower-case names). */
  credential?: Record<string, string>;
  /** The receipt of an approved request. */
  receipt?: string;
  /** The body's length as forwarded (after the approval field was cut out), or undefined for a streamed body. */
  contentLength?: number;
}

export interface HeaderPolicy {
  /** Folded names the gateway owns: identity, agent key, approval, receipt. */
  owned: Set<string>;
  /** The identity header's name as configured (set toward the tool), if any. */
  userHeader?: string;
  /** Peers whose forwarding headers are the company proxy's, not a client's. */
  trustedPeer: boolean;
}

export const AGENT_HEADER = 'countersign-agent';
export const RECEIPT_HEADER = 'countersign-receipt';

export function ownedHeaders(names: ReadonlyArray<string | undefined>): Set<string> {
  return new Set([APPROVAL_HEADER, AGENT_HEADER, RECEIPT_HEADER, ...names].filter((n): n is string => n !== undefined).map(foldHeaderName));
}

/**
 * The headers toward the tool: the request's own, less hop-by-hop ones, less every spelling of a
 * header the gateway owns, less forwarding headers from an untrusted peer, less an agent's own
 * cookies and authorization (an agent holds no credential of the tool); then what the gateway
 * verified.
 */
export function requestHeadersToTool(incoming: Record<string, string | string[] | undefined>, policy: HeaderPolicy, out: Outgoing): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  const connectionListed = new Set(
    String(incoming.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const agent = out.agent !== undefined;
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    const folded = foldHeaderName(name);
    if (HOP_BY_HOP.has(name) || connectionListed.has(name) || policy.owned.has(folded)) continue;
    if (!policy.trustedPeer && FORWARDING.has(folded)) continue;
    if (agent && (folded === 'cookie' || folded === 'authorization' || folded === 'proxy-authorization')) continue;
    if (out.credential && Object.hasOwn(out.credential, folded)) continue;
    headers[name] = value;
  }
  if (out.user !== undefined && policy.userHeader !== undefined) headers[policy.userHeader.toLowerCase()] = out.user;
  if (out.agent !== undefined) headers[AGENT_HEADER] = out.agent;
  if (out.credential) Object.assign(headers, out.credential);
  if (out.receipt !== undefined) headers[RECEIPT_HEADER] = out.receipt;
  if (out.contentLength !== undefined) headers['content-length'] = String(out.contentLength);
  return headers;
}

/**
 * The tool's response headers toward the client: less hop-by-hop ones; toward an agent, less every
 * cookie the tool sets (an agent holds no credential of the tool) and any header carrying a brokered
 * credential, which stays with the gateway.
 */
export function responseHeadersToClient(headers: Record<string, string | string[] | undefined>, toAgent: boolean, credential: Record<string, string> | undefined): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  const secrets = credential ? Object.values(credential) : [];
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'connection' || lower === 'keep-alive' || lower === 'transfer-encoding' || lower === 'proxy-connection') continue;
    if (toAgent && (lower === 'set-cookie' || lower === 'set-cookie2')) continue;
    if (secrets.length > 0 && value !== undefined && (Array.isArray(value) ? value : [value]).some((v) => secrets.some((s) => v.includes(s)))) continue;
    out[name] = value;
  }
  return out;
}
