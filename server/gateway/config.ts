// The gateway's configuration file (DESIGN.md, "The gateway"): its zod schema, and reading it with
// credentials resolved from the environment. A bad file names its field, and the gateway does not
// start. Node only.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { Identifier } from '../../lib/protocol';
import { compileOrigins } from '../middleware/request-url';

const HttpUrl = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' && url.search === '' && url.hash === '';
    } catch {
      return false;
    }
  }, 'an http(s) URL without credentials, query or fragment');

const Origin = z.union([z.string(), z.array(z.string()).min(1).max(16)]).refine((value) => {
  try {
    compileOrigins(value);
    return true;
  } catch {
    return false;
  }
}, 'an http(s)://host[:port] origin, nothing else (or a list of them, no two named by one Host header)');

/** An HTTP header name (RFC 9110 token). */
const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, 'an HTTP header name');

/** A peer address: an IPv4 or IPv6 address (no ranges: the proxies are named one by one). */
const PeerAddress = z.string().refine((value) => isIP(value) !== 0, 'an IP address');

/** A path pattern: literal segments, `*` for one segment, and an optional final `**` for any number of them. */
const RoutePath = z
  .string()
  .max(512)
  .refine((value) => value.startsWith('/') && !value.includes('?') && !value.includes('#'), 'a path starting with /, without a query')
  .refine((value) => !value.slice(1).split('/').slice(0, -1).includes('**'), '`**` may only be the last segment');

/** Field conditions: name → value pattern (`*` matches any run of characters). */
const FieldConditions = z.record(z.string().min(1).max(128), z.string().max(512)).refine((value) => Object.keys(value).length > 0, 'at least one field');

const RouteMethod = z.string().regex(/^[A-Z]{3,10}$/, 'an upper-case HTTP method');

export const GatewayRoute = z.strictObject({
  /**
   * The method, a list of them, or `*` for every method the gateway forwards: a PHP tool runs the same
   * code for GET, OPTIONS, PUT or DELETE (MediaWiki's `action=rollback` rolls back on any of them). GET
   * covers HEAD.
   */
  method: z.union([z.literal('*'), RouteMethod, z.array(RouteMethod).min(1).max(8)]),
  /** The path, or several that reach the same script (`/` is index.php where it is the directory index). */
  path: z.union([RoutePath, z.array(RoutePath).min(1).max(16)]),
  /** Conditions on fields the tool reads its action from. See routes.ts for how they match (query and form merged, any occurrence). */
  query: FieldConditions.optional(),
  body: FieldConditions.optional(),
  scope: Identifier,
  requires: z.enum(['agents', 'always']).optional(),
  content: z.string().min(1).max(256).optional(),
});
export type GatewayRoute = z.infer<typeof GatewayRoute>;

/** A credential value: `env:NAME`, read from the gateway's environment at start (never written in the file). */
const CredentialValue = z.string().regex(/^env:[A-Za-z_][A-Za-z0-9_]*$/, 'env:<VARIABLE> (credentials are never written in the file)');

export const GatewayConfigFile = z.strictObject({
  listen: z.strictObject({ host: z.string().min(1).default('127.0.0.1'), port: z.int().min(0).max(65535) }),
  /** The public origin (or the origins it answers to): the tokens' `aud` and the digest's URL. */
  origin: Origin,
  upstream: HttpUrl,
  verifier: HttpUrl,
  identity: z
    .strictObject({
      user: z.strictObject({ header: HeaderName, trustedProxies: z.array(PeerAddress).max(64) }).optional(),
      agents: z.strictObject({ header: HeaderName }).optional(),
    })
    .default({}),
  routes: z.array(GatewayRoute).max(256),
  /** Per agent (`agent:<id>`): the tool credential the gateway adds to that agent's requests that passed. */
  credentials: z
    .record(z.string().regex(/^agent:.+$/, 'agent:<agent id>'), z.strictObject({ set: z.record(HeaderName, CredentialValue) }))
    .default({}),
  /** Largest body of a request on a protected route, read while it streams (default 1 MiB). */
  bodyLimit: z.int().min(1).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Assistant markers on requests, as for the middleware. */
  markers: z.strictObject({ headers: z.array(HeaderName).optional(), fields: z.record(z.string(), z.string()).optional() }).optional(),
  /** How long a verifier call may take before the gateway refuses with 503 (default 2000 ms). */
  verifierTimeoutMs: z.int().min(10).max(60_000).default(2000),
});
export type GatewayConfigFile = z.infer<typeof GatewayConfigFile>;

/** The configuration with every credential read from the environment. */
export interface GatewayConfig extends Omit<GatewayConfigFile, 'credentials'> {
  credentials: Record<string, Record<string, string>>;
}

/** The file's problem, naming the field: `routes.2.method: an upper-case HTTP method`. */
export class GatewayConfigError extends Error {
  override name = 'GatewayConfigError';
}

function describe(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.join('.') : '(the file)';
  return `${where}: ${issue.message}`;
}

/** Validates a parsed config and resolves its credentials from `env`; throws GatewayConfigError naming the field. */
export function parseGatewayConfig(value: unknown, env: Record<string, string | undefined>): GatewayConfig {
  const parsed = GatewayConfigFile.safeParse(value);
  if (!parsed.success) throw new GatewayConfigError(describe(parsed.error.issues[0]!));
  const file = parsed.data;
  const credentials: Record<string, Record<string, string>> = {};
  for (const [principal, { set }] of Object.entries(file.credentials)) {
    const agentId = principal.slice('agent:'.length);
    if (!Identifier.safeParse(agentId).success) throw new GatewayConfigError(`credentials.${principal}: not an agent id`);
    credentials[agentId] = {};
    for (const [header, source] of Object.entries(set)) {
      const name = source.slice('env:'.length);
      const secret = env[name];
      if (secret === undefined || secret === '') throw new GatewayConfigError(`credentials.${principal}.set.${header}: the environment has no ${name}`);
      if (/[\r\n\0]/.test(secret)) throw new GatewayConfigError(`credentials.${principal}.set.${header}: ${name} holds a line break or NUL`);
      credentials[agentId][header.toLowerCase()] = secret;
    }
  }
  return { ...file, credentials };
}

/** Reads and validates a config file; throws GatewayConfigError (unreadable, not JSON, or a bad field). */
export function loadGatewayConfig(file: string, env: Record<string, string | undefined>): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new GatewayConfigError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new GatewayConfigError(`${file}: not JSON (${(error as Error).message})`);
  }
  return parseGatewayConfig(value, env);
}
