// Cost as the data grows (issue 20): verify p50/p99 at a fixed rate with 0 / 100k / 1M prior allowed verifies stored, log ingest with 0 / 1M stored events, the pending-proposal listing with 10 / 100 / 1,000 / 10,000 pending; SQLite, seeded directly (bench/growth-seed.ts), one verifier per point all running at once, 3 rounds each measuring every point in turn; writes bench/growth-*.svg. Node only (bench): runs the verifier as a child process.
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { DEFAULT_APPROVAL_TTL_SECONDS, mintDeviceProof } from '../lib/protocol';
import type { ChainHead } from '../lib/protocol';
import { indexList, queryPlans, readVerifyTemplate, rowCounts, seedLogChain, seedOtherChains, seedPendingProposals, seedVerifyHistory, spreadPending } from './growth-seed';
import { writeCurveSvg } from './plot';
import type { Series } from './plot';
import { REPETITIONS, median, repeat, repeatedMetric } from './repeat';
import type { VerifierProcess } from '../test/helpers/processes';
import type { Metric } from './verifier';
import { admin, enrolledDevice, ingestRun, load, mintTokens, startVerifier } from './verifier';

type Device = Awaited<ReturnType<typeof enrolledDevice>>;
type Log = (line: string) => void;

/** Prior allowed verifies stored (consumed + decisions + receipts rows each) at each point of the verify curve. */
export const VERIFY_POINTS = [0, 100_000, 1_000_000] as const;
/** The fixed, moderate offered rate of the verify phases (well under the 2-core peak) and their length. */
const VERIFY_RATE = 400;
const VERIFY_SECONDS = 5;
/** Log events stored before the ingest phases. */
const LOG_POINTS = [0, 1_000_000] as const;
const LOG_OTHER_DEVICES = 1000;
/** Pending proposals in the database at each point of the listing curve. */
export const PROPOSAL_POINTS = [10, 100, 1000, 10_000] as const;
/** One listing request after another on one connection, this many per run. */
const LIST_REQUESTS = 200;
/** The API's cap on one person's pending proposals (PROPOSAL_LIMITS.pendingPerApprover). */
const PENDING_CAP = 20;

const REQUEST = { method: 'POST', url: 'http://127.0.0.1:8080/api/topics/1/replies', contentType: 'application/json', body: '{"body":"A benchmark reply.","author_kind":"assistant"}' };
const SCOPE = 'forum.post';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Tokens (and device proofs) dated in the verifier's boot second are refused: start in the next one. */
const pastBootSecond = () => sleep(1100);

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) throw new Error('percentile of nothing');
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile ${p} is not within 0–100`);
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/**
 * One autocannon phase with every 200 answer's own latency kept (autocannon's histogram has 1 ms
 * steps; verify answers in about that): p50/p99 from them. Anything but 200 throws.
 */
async function timedPhase(options: autocannon.Options): Promise<{ p50: number; p99: number; rps: number; n: number }> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, r) => (error ? reject(error) : resolve(r)));
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status === 200) latencies.push(ms);
    });
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || !latencies.length) {
    throw new Error(`${options.url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts of ${result.requests.total}`);
  }
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), rps: result.requests.average, n: latencies.length };
}

/** A verify phase at VERIFY_RATE for VERIFY_SECONDS, every token used once. */
async function verifyPhase(url: string, device: Device) {
  const tokens = await mintTokens(device, Math.ceil(VERIFY_RATE * VERIFY_SECONDS * 1.1) + 50);
  let next = 0;
  const run = await timedPhase({
    url: `${url}/v1/verify`,
    connections: 8,
    duration: VERIFY_SECONDS,
    overallRate: VERIFY_RATE,
    requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: JSON.stringify({ token: tokens[next++ % tokens.length], request: REQUEST, scope: SCOPE }) }) }],
  });
  if (next > tokens.length) throw new Error(`the verify phase used ${next} requests but only ${tokens.length} tokens were minted`);
  return run;
}

const mb = (path: string) => `${Math.round(statSync(path).size / 1e6)} MB`;

/** Flags the plans that read a whole table or index. */
function logPlans(log: Log, plans: ReturnType<typeof queryPlans>): void {
  for (const p of plans) log(`  plan ${p.scan ? 'FULL SCAN ' : ''}${p.name}: ${p.plan}`);
}

interface Curve {
  x: number;
  runs: number[];
}

const seriesOf = (name: string, curve: Curve[]): Series => ({ name, points: curve.map((c) => ({ x: c.x, y: median(c.runs) })) });

/** Per-run ratios of two points' runs (run i against run i), so the ratio carries the runs' spread. */
const ratios = (a: number[], b: number[]) => a.map((v, i) => v / b[i]!);

/**
 * Each point has its own database file (a copy of one base file, then seeded) and its own verifier,
 * all running at once; every round measures every point one after the other. On a machine shared
 * with other work, a load that comes and goes then touches all points of a round alike, and the
 * ratios between points are taken per round.
 */
async function withVerifiers<T>(paths: readonly string[], fn: (urls: string[]) => Promise<T>): Promise<T> {
  const running: VerifierProcess[] = [];
  try {
    for (const path of paths) running.push(await startVerifier(`sqlite:${path}`));
    await pastBootSecond();
    return await fn(running.map((v) => v.url));
  } finally {
    for (const v of running) await v.stop();
  }
}

/** A copy of the stopped verifier's file (and its WAL, if one was left). */
function copyDb(from: string, to: string): void {
  copyFileSync(from, to);
  if (existsSync(`${from}-wal`)) copyFileSync(`${from}-wal`, `${to}-wal`);
}

function removeDb(path: string): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`]) rmSync(p, { force: true });
}

// ---------------------------------------------------------------------------------------------
// verify

export async function verifyCurve(dir: string, log: Log): Promise<Metric[]> {
  const base = join(dir, 'verify-base.db');
  let device: Device;
  const first = await startVerifier(`sqlite:${base}`);
  try {
    device = await enrolledDevice(first.url);
    await pastBootSecond();
    // A few real allowed verifies: the rows the seed copies the shape of.
    await load(first.url, await mintTokens(device, 120), { seconds: 1, connections: 2, rate: 100 });
  } finally {
    await first.stop();
  }
  const template = readVerifyTemplate(base);
  const paths = VERIFY_POINTS.map((n) => join(dir, `verify-${n}.db`));
  const seedTimes: Metric[] = [];
  VERIFY_POINTS.forEach((n, i) => {
    copyDb(base, paths[i]!);
    if (n === 0) return;
    const { seconds } = seedVerifyHistory(paths[i]!, n, template, { nowMs: Date.now(), windowSeconds: DEFAULT_APPROVAL_TTL_SECONDS + 60 });
    log(`growth verify: seeded ${n} prior verifies (${3 * n} rows: consumed, decisions, receipts) in ${seconds.toFixed(1)} s, ${Math.round((3 * n) / seconds)} rows/s; file ${mb(paths[i]!)}`);
    seedTimes.push({ metric: `growth: seed ${n.toLocaleString('en')} prior verifies (${(3 * n).toLocaleString('en')} rows, one transaction)`, value: Math.round(seconds * 10) / 10, unit: 's', goal: 'report', pass: true });
  });
  removeDb(base);
  const p50: Curve[] = VERIFY_POINTS.map((x) => ({ x, runs: [] }));
  const p99: Curve[] = VERIFY_POINTS.map((x) => ({ x, runs: [] }));
  await withVerifiers(paths, async (urls) => {
    for (const url of urls) await verifyPhase(url, device); // warm-up after the start, not reported
    await repeat(REPETITIONS, async (round) => {
      const line: string[] = [];
      for (const [i, url] of urls.entries()) {
        const r = await verifyPhase(url, device);
        p50[i]!.runs.push(r.p50);
        p99[i]!.runs.push(r.p99);
        line.push(`@${VERIFY_POINTS[i]}: p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} ms ${Math.round(r.rps)} req/s`);
      }
      log(`growth verify round ${round + 1}: ${line.join('; ')}`);
    });
  });
  const biggest = paths[paths.length - 1]!;
  log(`growth verify: rows at the last point ${JSON.stringify(rowCounts(biggest, ['consumed', 'decisions', 'receipts']))}`);
  for (const i of indexList(biggest, ['consumed', 'decisions', 'receipts'])) log(`  index ${i}`);
  logPlans(log, queryPlans(biggest, [
    { name: 'consume (iss, jti)', sql: 'INSERT INTO consumed (iss, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT (iss, jti) DO NOTHING', params: ['x', 'y', 1] },
    { name: 'isConsumed', sql: 'SELECT jti FROM consumed WHERE iss = ? AND jti = ?', params: ['x', 'y'] },
    { name: 'pruneConsumed', sql: 'DELETE FROM consumed WHERE expires_at < ?', params: [1] },
    { name: 'decisionsForTrace', sql: 'SELECT * FROM decisions WHERE trace_id = ? ORDER BY ts', params: ['t'] },
    { name: 'lookupReceipts by (site, cdg)', sql: 'SELECT receipt FROM receipts WHERE site = ? AND cdg = ? ORDER BY issued_at DESC LIMIT 5', params: ['s', 'c'] },
  ]));
  for (const path of paths) removeDb(path);

  const at = (c: Curve[], x: number) => c.find((p) => p.x === x)!.runs;
  writeCurveSvg(join(import.meta.dirname, 'growth-verify.svg'), {
    title: `POST /v1/verify latency at ${VERIFY_RATE} req/s (SQLite) against stored history`,
    xLabel: 'prior allowed verifies stored (consumed + decisions + receipts rows each)',
    yLabel: 'latency (ms), median of 3 runs',
    series: [seriesOf('p50', p50), seriesOf('p99', p99)],
  });
  const last = VERIFY_POINTS[VERIFY_POINTS.length - 1]!;
  return [
    ...seedTimes,
    ...VERIFY_POINTS.flatMap((x) => [
      repeatedMetric(at(p50, x), { metric: `growth verify (SQLite, ${VERIFY_RATE} req/s): p50 with ${x.toLocaleString('en')} prior verifies stored`, unit: 'ms', goal: 'report', digits: 2 }),
      repeatedMetric(at(p99, x), { metric: `growth verify (SQLite, ${VERIFY_RATE} req/s): p99 with ${x.toLocaleString('en')} prior verifies stored`, unit: 'ms', goal: 'report', digits: 2 }),
    ]),
    repeatedMetric(ratios(at(p99, last), at(p99, 0)), { metric: `growth verify: p99 with ${last.toLocaleString('en')} stored / with 0, per round (flat cost as data grows)`, unit: '×', goal: '≤ 1.5', digits: 2, pass: (m) => m <= 1.5 }),
    repeatedMetric(ratios(at(p50, last), at(p50, 0)), { metric: `growth verify: p50 with ${last.toLocaleString('en')} stored / with 0, per round`, unit: '×', goal: 'report', digits: 2 }),
  ];
}

// ---------------------------------------------------------------------------------------------
// log ingest

export async function logCurve(dir: string, log: Log): Promise<Metric[]> {
  const big = LOG_POINTS[LOG_POINTS.length - 1]!;
  const n = big.toLocaleString('en');
  const base = join(dir, 'log-base.db');
  let device: Device;
  const first = await startVerifier(`sqlite:${base}`);
  try {
    device = await enrolledDevice(first.url);
  } finally {
    await first.stop();
  }
  // Three files: nothing stored; 1M events seeded as the measured device's own chain (ingest
  // continues it); 1M under 1,000 other devices (the measured device's chain starts fresh).
  const cases = [
    { key: 'empty', label: '0 events stored', path: join(dir, 'log-empty.db'), head: null as ChainHead | null, rates: [] as number[] },
    { key: 'own', label: `${n} stored, same device's chain continued`, path: join(dir, 'log-own.db'), head: null as ChainHead | null, rates: [] as number[] },
    { key: 'others', label: `${n} stored under ${LOG_OTHER_DEVICES} other devices, this device's chain fresh`, path: join(dir, 'log-others.db'), head: null as ChainHead | null, rates: [] as number[] },
  ];
  for (const c of cases) copyDb(base, c.path);
  removeDb(base);
  const own = seedLogChain(cases[1]!.path, device.deviceId, big, Date.now());
  cases[1]!.head = own.head;
  log(`growth log: seeded ${big} events as the device's own chain (head at seq ${own.head.seq}) in ${own.seconds.toFixed(1)} s, ${Math.round(big / own.seconds)} rows/s; file ${mb(cases[1]!.path)}`);
  const others = seedOtherChains(cases[2]!.path, LOG_OTHER_DEVICES, big / LOG_OTHER_DEVICES, Date.now());
  log(`growth log: seeded ${big} events under ${LOG_OTHER_DEVICES} other devices in ${others.seconds.toFixed(1)} s, ${Math.round(big / others.seconds)} rows/s; file ${mb(cases[2]!.path)}`);
  await withVerifiers(cases.map((c) => c.path), async (urls) => {
    await repeat(REPETITIONS, async (round) => {
      for (const [i, c] of cases.entries()) {
        const r = await ingestRun(urls[i]!, device, c.head, `g${round}`);
        c.head = r.head;
        c.rates.push(r.rate);
      }
      log(`growth log ingest round ${round + 1}: ${cases.map((c) => `${c.key} ${Math.round(c.rates[round]!)}`).join(', ')} events/s`);
    });
  });
  const ownPath = cases[1]!.path;
  for (const i of indexList(ownPath, ['log_events', 'chain_heads'])) log(`  index ${i}`);
  logPlans(log, queryPlans(ownPath, [
    { name: 'chain head', sql: 'SELECT * FROM chain_heads WHERE device_id = ?', params: ['d'] },
    // Kysely's SQL for server/store/log.ts ingestBatch's stored-hash read, as compiled for SQLite.
    { name: 'stored hashes in the batch range', sql: 'select "epoch", "seq", "hash" from "log_events" where "device_id" = ? and ("epoch" > ? or ("epoch" = ? and "seq" >= ?)) and ("epoch" < ? or ("epoch" = ? and "seq" <= ?))', params: ['d', 1, 1, 5, 1, 1, 500] },
    { name: 'eventsForTrace', sql: 'SELECT event FROM log_events WHERE trc = ? ORDER BY ts, seq', params: ['t'] },
  ]));
  for (const c of cases) removeDb(c.path);

  const [empty, ownCase, othersCase] = cases as [(typeof cases)[0], (typeof cases)[0], (typeof cases)[0]];
  writeCurveSvg(join(import.meta.dirname, 'growth-log-ingest.svg'), {
    title: 'POST /v1/log/batch ingest rate (SQLite, batches of 500) against stored events',
    xLabel: 'log events already stored',
    yLabel: 'events/s, median of 3 runs',
    series: [
      seriesOf("continuing the device's own chain", [{ x: 0, runs: empty.rates }, { x: big, runs: ownCase.rates }]),
      seriesOf(`stored under ${LOG_OTHER_DEVICES.toLocaleString('en')} other devices, fresh chain`, [{ x: 0, runs: empty.rates }, { x: big, runs: othersCase.rates }]),
    ],
  });
  return [
    { metric: `growth: seed ${n} log events, one chain (one transaction)`, value: Math.round(own.seconds * 10) / 10, unit: 's', goal: 'report', pass: true },
    { metric: `growth: seed ${n} log events, ${LOG_OTHER_DEVICES} other devices (one transaction)`, value: Math.round(others.seconds * 10) / 10, unit: 's', goal: 'report', pass: true },
    ...cases.map((c) => repeatedMetric(c.rates, { metric: `growth log ingest (SQLite, batches of 500): ${c.label}`, unit: 'events/s', goal: 'report', digits: 0 })),
    repeatedMetric(ratios(ownCase.rates, empty.rates), { metric: `growth log ingest: rate with ${n} stored (same chain) / with 0, per round (flat cost as data grows)`, unit: '×', goal: '≥ 0.67', digits: 2, pass: (m) => m >= 0.67 }),
    repeatedMetric(ratios(othersCase.rates, empty.rates), { metric: `growth log ingest: rate with ${n} stored (other devices) / with 0, per round (flat cost as data grows)`, unit: '×', goal: '≥ 0.67', digits: 2, pass: (m) => m >= 0.67 }),
  ];
}

// ---------------------------------------------------------------------------------------------
// proposals listing

/** LIST_REQUESTS listings of the device's pending proposals, one after another on one connection, each with its own device proof. */
async function listPhase(url: string, device: Device) {
  const target = `${url}/v1/proposals?state=pending`;
  const proofs = await Promise.all(Array.from({ length: LIST_REQUESTS }, () => mintDeviceProof({ privateKey: device.privateKey, kid: device.kid, method: 'GET', url: target })));
  let next = 0;
  const run = await timedPhase({
    url: target,
    connections: 1,
    amount: LIST_REQUESTS,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: proofs[next++]! } }) }],
  });
  if (next > proofs.length) throw new Error(`the listing phase sent ${next} requests for ${proofs.length} proofs`);
  return run;
}

async function listedCount(url: string, device: Device): Promise<number> {
  const target = `${url}/v1/proposals?state=pending`;
  const res = await fetch(target, { headers: { authorization: await mintDeviceProof({ privateKey: device.privateKey, kid: device.kid, method: 'GET', url: target }) } });
  if (!res.ok) throw new Error(`listing: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { proposals: unknown[] }).proposals.length;
}

export async function proposalsCurve(dir: string, log: Log): Promise<Metric[]> {
  const base = join(dir, 'proposals-base.db');
  let device: Device;
  const first = await startVerifier(`sqlite:${base}`);
  try {
    device = await enrolledDevice(first.url);
    const made = await admin(first.url, 'POST', '/v1/admin/agents/agent:bench/keys', {});
    if (made.status !== 201) throw new Error(`agent key: ${made.status} ${await made.text()}`);
    const { key } = (await made.json()) as { key: string };
    const res = await fetch(`${first.url}/v1/proposals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ request: REQUEST, scope: SCOPE, summary: 'A benchmark reply, proposed.' }),
    });
    if (res.status !== 201) throw new Error(`proposal: ${res.status} ${await res.text()}`);
  } finally {
    await first.stop();
  }
  const shapes = [
    { key: 'one', name: 'all for this approver', label: 'all pending for this approver (API caps 20; list answers ≤ 100)', cap: undefined },
    { key: 'spread', name: `${PENDING_CAP} per approver`, label: `${PENDING_CAP} per approver, spread over approvers`, cap: PENDING_CAP },
  ] as const;
  const points = shapes.flatMap((shape) => PROPOSAL_POINTS.map((n) => ({ shape, n, path: join(dir, `proposals-${shape.key}-${n}.db`), p50: [] as number[], p99: [] as number[], listed: 0 })));
  for (const p of points) {
    copyDb(base, p.path);
    const seeded = seedPendingProposals(p.path, spreadPending(p.n, 'alice', p.shape.cap), Date.now());
    if (seeded.total !== p.n) throw new Error(`seeded ${seeded.total} pending proposals, not ${p.n}`);
  }
  removeDb(base);
  await withVerifiers(points.map((p) => p.path), async (urls) => {
    for (const [i, p] of points.entries()) {
      p.listed = await listedCount(urls[i]!, device);
      await listPhase(urls[i]!, device); // warm-up after the start, not reported
    }
    await repeat(REPETITIONS, async (round) => {
      for (const [i, p] of points.entries()) {
        const r = await listPhase(urls[i]!, device);
        p.p50.push(r.p50);
        p.p99.push(r.p99);
      }
      log(`growth proposals round ${round + 1}: ${points.map((p) => `${p.shape.key}@${p.n} (${p.listed} listed) p50 ${p.p50[round]!.toFixed(2)} p99 ${p.p99[round]!.toFixed(2)}`).join('; ')} ms`);
    });
  });
  const largest = points[points.length - 1]!.path;
  for (const i of indexList(largest, ['proposals', 'proposal_approvers', 'proposal_approvals'])) log(`  index ${i}`);
  logPlans(log, queryPlans(largest, [
    {
      name: 'pendingFor (GET /v1/proposals)',
      // Kysely's SQL for server/store/proposals.ts pendingFor, as compiled for SQLite.
      sql: 'select "p".* from "proposals" as "p" inner join "proposal_approvers" as "a" on "a"."proposal_id" = "p"."id" where "a"."user_id" = ? and "p"."state" = ? and "p"."expires_at" > ? and not exists (select "v"."user_id" from "proposal_approvals" as "v" where "v"."proposal_id" = "p"."id" and "v"."user_id" = ?) order by "p"."created_at", "p"."id" limit ?',
      params: ['alice', 'pending', 0, 'alice', 100],
    },
    { name: 'expireDue (every listing)', sql: "UPDATE proposals SET state = 'expired', decided_at = ? WHERE state = ? AND expires_at <= ? RETURNING id, trace_id, agent_id, digest", params: [0, 'pending', 0] },
    { name: 'approvalsOf', sql: 'SELECT proposal_id, user_id FROM proposal_approvals WHERE proposal_id IN (?, ?) ORDER BY approved_at, user_id', params: ['a', 'b'] },
  ]));
  for (const p of points) removeDb(p.path);

  const curve = (key: string, pick: (p: (typeof points)[number]) => number[]): Curve[] => points.filter((p) => p.shape.key === key).map((p) => ({ x: p.n, runs: pick(p) }));
  writeCurveSvg(join(import.meta.dirname, 'growth-proposals.svg'), {
    title: 'GET /v1/proposals?state=pending latency (SQLite, sequential) against pending proposals',
    xLabel: 'pending proposals in the database',
    yLabel: 'latency (ms), median of 3 runs',
    logX: true,
    series: shapes.flatMap((s) => [seriesOf(`p50, ${s.name}`, curve(s.key, (p) => p.p50)), seriesOf(`p99, ${s.name}`, curve(s.key, (p) => p.p99))]),
  });
  const at = (key: string, n: number) => points.find((p) => p.shape.key === key && p.n === n)!;
  const out: Metric[] = points.flatMap((p) => [
    repeatedMetric(p.p50, { metric: `growth proposals listing (SQLite, sequential): p50 with ${p.n.toLocaleString('en')} pending, ${p.shape.label} (${p.listed} listed)`, unit: 'ms', goal: 'report', digits: 2 }),
    repeatedMetric(p.p99, { metric: `growth proposals listing (SQLite, sequential): p99 with ${p.n.toLocaleString('en')} pending, ${p.shape.label} (${p.listed} listed)`, unit: 'ms', goal: 'report', digits: 2 }),
  ]);
  // Spread, the listing answers the same 20 rows at 100, 1,000 and 10,000 pending: its cost should not grow.
  for (const n of [1000, 10_000] as const) {
    out.push(
      repeatedMetric(ratios(at('spread', n).p99, at('spread', 100).p99), {
        metric: `growth proposals listing: p99 with ${n.toLocaleString('en')} pending / with 100, per round (${PENDING_CAP} per approver, same ${PENDING_CAP} listed; flat cost as data grows)`, unit: '×', goal: '≤ 1.5', digits: 2, pass: (m) => m <= 1.5,
      }),
      repeatedMetric(ratios(at('one', n).p99, at('one', 100).p99), {
        metric: `growth proposals listing: p99 with ${n.toLocaleString('en')} pending / with 100, per round (all for this approver, 100 listed either way)`, unit: '×', goal: 'report', digits: 2,
      }),
    );
  }
  return out;
}

/** Every growth curve; writes bench/growth-verify.svg, bench/growth-log-ingest.svg and bench/growth-proposals.svg. */
export async function growthMetrics(log: Log): Promise<Metric[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-growth-'));
  const t0 = performance.now();
  try {
    const metrics: Metric[] = [];
    for (const [name, part] of [['verify', verifyCurve], ['log ingest', logCurve], ['proposals', proposalsCurve]] as const) {
      const t = performance.now();
      metrics.push(...(await part(dir, log)));
      log(`growth ${name}: ${((performance.now() - t) / 1000).toFixed(0)} s`);
    }
    const seconds = (performance.now() - t0) / 1000;
    log(`growth: ${seconds.toFixed(0)} s in all`);
    metrics.push({ metric: 'growth: runtime of the growth part (seeding included)', value: Math.round(seconds), unit: 's', goal: 'report', pass: true });
    return metrics;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
