// Verifier benchmarks: POST /v1/verify under autocannon against the raw single-core ES256 verify rate
// measured just before each phase, latency at half of peak, SQLite and PostgreSQL, and log ingest;
// every phase repeated (bench/repeat.ts), its median and spread reported. Node only.
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { DEFAULT_APPROVAL_TTL_SECONDS, appendEvent, exportEs256PublicJwk, generateEs256KeyPair, mintApprovalToken, newTraceId, signLogBatch } from '../lib/protocol';
import type { ChainHead, LogEvent } from '../lib/protocol';
import { startVerifierProcess } from '../test/helpers/processes';
import { registerCredential } from '../test/helpers/webauthn';
import { httpFloor } from './http-floor';
import { REPETITIONS, repeat, repeatedMetric } from './repeat';

export interface Metric {
  metric: string;
  value: number;
  unit: string;
  goal: string;
  pass: boolean;
  /** For the median of repeated runs (bench/repeat.ts): (max − min) / median of the runs. */
  spread?: number;
  /** The spread is over 15 %: the table shows NOISY, not PASS or MISS. */
  noisy?: boolean;
}

const ADMIN = 'bench-admin-token-0123456789';
const REQUEST = { method: 'POST', url: 'http://127.0.0.1:8080/api/topics/1/replies', contentType: 'application/json', body: '{"body":"A benchmark reply.","author_kind":"assistant"}' };
/** The scope of REQUEST's route: /v1/verify binds the token's `scp` to it. */
const SCOPE = 'forum.post';

/**
 * One core's raw rates for the two public-key operations every approved request costs — check the
 * token's ES256 signature, sign the receipt — with node:crypto, and the limit they set: L = 1 /
 * (t_verify + t_sign), the most approved requests one core could answer if it did nothing else.
 */
export function rawLimit(seconds = 2): { verify: number; sign: number; limit: number } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // The verifier imports enrolled keys from JWK: measure the same kind of key object.
  const key = createPublicKey({ key: publicKey.export({ format: 'jwk' }), format: 'jwk' });
  const data = Buffer.from('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9');
  const sig = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const rate = (op: () => void) => {
    let n = 0;
    const end = performance.now() + (seconds * 1000) / 2;
    while (performance.now() < end) {
      for (let i = 0; i < 100; i++) op();
      n += 100;
    }
    return n / (seconds / 2);
  };
  const verifyRate = rate(() => verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig));
  const signRate = rate(() => sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
  return { verify: verifyRate, sign: signRate, limit: 1 / (1 / verifyRate + 1 / signRate) };
}

export function startVerifier(databaseUrl: string, env: Record<string, string> = {}, nodeArgs: readonly string[] = []) {
  return startVerifierProcess({ DATABASE_URL: databaseUrl, COUNTERSIGN_ADMIN_TOKEN: ADMIN, ...env }, nodeArgs);
}

export async function admin(url: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(new URL(path, url), { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

/**
 * An enrolled device for alice, with a software WebAuthn credential (for the scopes that need
 * presence); `counting: 'zero'` for an authenticator that keeps no sign count, so tokens minted
 * ahead may be used in any order.
 */
export async function enrolledDevice(url: string, options: { counting?: 'increment' | 'zero' } = {}) {
  const { code } = (await (await admin(url, 'POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json()) as { code: string };
  const pair = await generateEs256KeyPair();
  const publicKeyJwk = await exportEs256PublicJwk(pair.publicKey);
  const { authenticator, credential } = await registerCredential(publicKeyJwk, { counting: options.counting ?? 'increment' });
  const res = await fetch(`${url}/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, publicKeyJwk, label: 'bench', credential }) });
  if (res.status !== 201) throw new Error(`enroll: ${res.status} ${await res.text()}`);
  const { kid, deviceId } = (await res.json()) as { kid: string; deviceId: string };
  await admin(url, 'PUT', '/v1/admin/agents/agent:bench', { owner: 'alice', scopes: [SCOPE], sites: ['http://127.0.0.1:8080'] });
  return { kid, deviceId, privateKey: pair.privateKey, authenticator };
}

/**
 * Fresh tokens for one load phase. They must verify: the verifier's default lifetime is
 * DEFAULT_APPROVAL_TTL_SECONDS, and a token over it is refused (`ttl_too_long`), which would measure
 * the refusal path instead of the allow path. Minted concurrently (both cores) in chunks.
 */
export async function mintTokens(device: Awaited<ReturnType<typeof enrolledDevice>>, n: number): Promise<string[]> {
  const tokens: string[] = [];
  const mint = () =>
    mintApprovalToken({ privateKey: device.privateKey, kid: device.kid, deviceId: device.deviceId, userId: 'alice', request: REQUEST, agent: 'agent:bench', scope: SCOPE, traceId: newTraceId(), ttlSeconds: DEFAULT_APPROVAL_TTL_SECONDS });
  while (tokens.length < n) {
    const chunk = await Promise.all(Array.from({ length: Math.min(1000, n - tokens.length) }, mint));
    for (const { token } of chunk) tokens.push(token);
  }
  return tokens;
}

/**
 * One autocannon phase; every token is used once. A phase that got any answer but 200 (a refusal,
 * a replay because the tokens ran out, a 5xx) or any connection error is not a measurement of the
 * allow path: it throws rather than report a figure.
 */
export async function load(url: string, tokens: string[], options: { seconds: number; connections: number; rate?: number }) {
  let next = 0;
  const result = await autocannon({
    url: `${url}/v1/verify`,
    connections: options.connections,
    duration: options.seconds,
    ...(options.rate ? { overallRate: options.rate } : {}),
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ token: tokens[next++ % tokens.length], request: REQUEST, scope: SCOPE }) }),
      },
    ],
  });
  if (next > tokens.length) throw new Error(`the load used ${next} requests but only ${tokens.length} tokens were minted`);
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`verify load: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts of ${result.requests.total}`);
  }
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, total: result.requests.total };
}

/** Seconds of each peak phase and of each phase at half of peak. */
const PEAK_SECONDS = 5;
const HALF_SECONDS = 8;

/** One repetition on one database: the raw baseline measured just before its peak phase, the peak, and latency at half of that peak. */
export interface VerifyRun {
  raw: { verify: number; sign: number; limit: number };
  /** Requests/s of a Fastify route that only parses the same body and answers (bench/http-floor.ts). */
  floor: number;
  peak: number;
  /** peak / raw.limit: this repetition's peak against the baseline beside it. */
  ratio: number;
  p50: number;
  p99: number;
}

/**
 * One verifier process on `databaseUrl`, kept for every repetition; each `run()` mints fresh tokens
 * (each verifies once), measures the raw baseline, then the peak phase and the phase at half of it.
 */
export async function openVerifyBench(databaseUrl: string): Promise<{ run(): Promise<VerifyRun>; stop(): Promise<void> }> {
  const verifier = await startVerifier(databaseUrl);
  try {
    const device = await enrolledDevice(verifier.url);
    // Tokens issued in the verifier's boot second are refused (boot epoch): start in the next second.
    await new Promise((r) => setTimeout(r, 1100));
    // Only to size the first peak phase's tokens; not reported.
    let limit = rawLimit(0.4).limit;
    let fastest = 0;
    return {
      async run() {
        // Enough for the peak phase even at the single-core limit (two cores could go past it), or,
        // once a peak is known, three times the fastest so far but never fewer than 3,000/s (a first
        // round slowed by a busy machine must not starve a faster second one); each token is used once.
        const perSecond = fastest > 0 ? Math.min(limit * 1.5, Math.max(fastest * 3, 3000)) : limit * 1.5;
        const tokens = await mintTokens(device, Math.ceil(perSecond * PEAK_SECONDS));
        const raw = rawLimit();
        limit = raw.limit;
        const floor = await httpFloor(JSON.stringify({ token: tokens[0], request: REQUEST, scope: SCOPE }), PEAK_SECONDS);
        const peak = await load(verifier.url, tokens, { seconds: PEAK_SECONDS, connections: 16 });
        fastest = Math.max(fastest, peak.rps);
        const rate = Math.max(1, Math.floor(peak.rps / 2));
        const half = await load(verifier.url, await mintTokens(device, Math.ceil(rate * HALF_SECONDS * 1.2) + 100), { seconds: HALF_SECONDS, connections: 8, rate });
        return { raw, floor, peak: peak.rps, ratio: peak.rps / raw.limit, p50: half.p50, p99: half.p99 };
      },
      stop: () => verifier.stop(),
    };
  } catch (error) {
    await verifier.stop();
    throw error;
  }
}

/** One database's figures from its repetitions: the baselines beside them, throughput, the median of the per-repetition ratios, p50/p99 at half of peak. */
export function verifyMetrics(label: string, runs: VerifyRun[]): Metric[] {
  const n = runs.length;
  return [
    repeatedMetric(runs.map((r) => r.raw.verify), { metric: `baseline: raw ES256 verify, node:crypto, 1 core, beside ${label}`, unit: 'verifies/s', goal: 'baseline', digits: 0 }),
    repeatedMetric(runs.map((r) => r.raw.sign), { metric: `baseline: raw ES256 sign, node:crypto, 1 core, beside ${label}`, unit: 'signs/s', goal: 'baseline', digits: 0 }),
    repeatedMetric(runs.map((r) => r.raw.limit), { metric: `baseline: L = 1/(t_verify + t_sign), 1 core, beside ${label}`, unit: 'req/s', goal: 'baseline', digits: 0 }),
    repeatedMetric(runs.map((r) => r.floor), { metric: `baseline: HTTP floor (Fastify: parse the same body, answer, nothing else), beside ${label}`, unit: 'req/s', goal: 'baseline', digits: 0 }),
    repeatedMetric(runs.map((r) => r.floor / r.raw.limit), { metric: `baseline: HTTP floor / L, beside ${label} (the most any Fastify route reaches here)`, unit: '×', goal: 'baseline', digits: 2 }),
    repeatedMetric(runs.map((r) => r.peak), { metric: `verify ${label}: throughput, median of ${n}`, unit: 'req/s', goal: 'report', digits: 0 }),
    repeatedMetric(runs.map((r) => r.peak / r.floor), { metric: `verify ${label}: throughput / HTTP floor, median of ${n} ratios`, unit: '×', goal: 'report', digits: 2 }),
    repeatedMetric(runs.map((r) => r.ratio), { metric: `verify ${label}: ratio to L = 1/(t_verify + t_sign), 1 core, median of ${n} ratios`, unit: '×', goal: '≥ 0.5', digits: 2, pass: (m) => m >= 0.5 }),
    repeatedMetric(runs.map((r) => r.p50), { metric: `verify ${label}: p50 at half of peak`, unit: 'ms', goal: 'report', digits: 0 }),
    repeatedMetric(runs.map((r) => r.p99), { metric: `verify ${label}: p99 at half of peak`, unit: 'ms', goal: '≤ 10', digits: 0, pass: (m) => m <= 10 }),
  ];
}

const LOG_BATCHES = 40;
const LOG_BATCH_SIZE = 500;

/**
 * One timed run of LOG_BATCHES batches of LOG_BATCH_SIZE events continuing `device`'s chain from
 * `start` (ids tagged with `tag`), all signed before the clock starts, posted one after the other:
 * events per second accepted, and the chain's head after them.
 */
export async function ingestRun(url: string, device: Awaited<ReturnType<typeof enrolledDevice>>, start: ChainHead | null, tag: string): Promise<{ rate: number; head: ChainHead }> {
  let head = start;
  const batches: string[] = [];
  for (let b = 0; b < LOG_BATCHES; b++) {
    const events: LogEvent[] = [];
    for (let i = 0; i < LOG_BATCH_SIZE; i++) {
      const e: LogEvent = await appendEvent(head, { deviceId: device.deviceId, epoch: 1 }, {
        id: `e${tag}-${b}-${i}`, ts: Date.now(), type: 'held', trc: newTraceId(), principal: { kind: 'agent', id: 'agent:bench' },
        agent: 'agent:bench', tool: 'intraforum', site: 'http://127.0.0.1:8080', digest: null, diff: { kind: 'text', before: null, after: 'A benchmark reply.' }, detail: null,
      });
      events.push(e);
      head = e;
    }
    batches.push(await signLogBatch(device.privateKey, device.kid, { deviceId: device.deviceId, events }));
  }
  const t0 = performance.now();
  for (const jws of batches) {
    const res = await fetch(`${url}/v1/log/batch`, { method: 'POST', headers: { 'content-type': 'application/jose' }, body: jws });
    if (!res.ok) throw new Error(`log batch refused: ${res.status} ${await res.text()}`);
  }
  const rate = (LOG_BATCHES * LOG_BATCH_SIZE) / ((performance.now() - t0) / 1000);
  return { rate, head: { epoch: head!.epoch, seq: head!.seq, hash: head!.hash } };
}

/**
 * Events per second accepted by /v1/log/batch with chain checks, batches of 500, on SQLite: one
 * verifier, `repetitions` timed runs (ingestRun), each continuing the same chain.
 */
export async function logIngest(repetitions = REPETITIONS): Promise<Metric> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-'));
  const verifier = await startVerifier(`sqlite:${join(dir, 'v.db')}`);
  try {
    const device = await enrolledDevice(verifier.url);
    let head: ChainHead | null = null;
    const rates = await repeat(repetitions, async (run) => {
      const r = await ingestRun(verifier.url, device, head, String(run));
      head = r.head;
      return r.rate;
    });
    return repeatedMetric(rates, { metric: `log ingest (SQLite, synchronous=FULL, batches of 500), median of ${repetitions}`, unit: 'events/s', goal: '≥ 20000', digits: 0, pass: (m) => m >= 20_000 });
  } finally {
    await verifier.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
