// Issue 20, "Several replicas": POST /v1/verify (allow path, every token used once) through HAProxy
// in front of 1, 2 and 3 verifier replicas on one PostgreSQL, and one replica without HAProxy beside
// them (what the balancer's hop costs). Every figure is the median of REPETITIONS rounds (bench/repeat.ts);
// each round measures every configuration once, so the database's growing tables weigh on each alike.
//
// Reported, not goals: this machine has two cores, shared by the replicas, PostgreSQL, HAProxy and the
// load generator (autocannon) with its token minting. More replicas on it cannot add cores; the figures
// show what another process costs or gains here, not how replicas scale on machines of their own.
// Node only (bench).
import { startPostgresCluster } from '../test/setup/postgres-cluster';
import type { VerifierProcess } from '../test/helpers/processes';
import { startBalancer, startReplicas } from '../test/helpers/replicas';
import type { Balancer, ReplicaSet } from '../test/helpers/replicas';
import { postgresCommitRate, sqliteCommitRate } from './commit-rate';
import { REPETITIONS, repeat, repeatedMetric } from './repeat';
import { enrolledDevice, load, mintTokens, rawLimit, startVerifier } from './verifier';
import type { Metric } from './verifier';

/** Seconds of each measured phase. */
const SECONDS = 5;
/** Seconds of the unreported warm-up phase through each target. */
const WARM_SECONDS = 2;
/** Requests per second the first warm-up has tokens for. */
const WARM_GUESS = 4000;
/** Concurrent client connections of each phase, whatever the number of replicas behind the balancer. */
const CONNECTIONS = 16;
const COUNTS = [1, 2, 3] as const;

type Target = { label: string; url: string };

export async function replicaMetrics(log: (line: string) => void): Promise<Metric[]> {
  const stops: Array<() => Promise<void>> = [];
  try {
    const cluster = await startPostgresCluster();
    stops.push(() => cluster.stop());
    // Three replicas on the cluster's database, the third balancer over all three; two more balancers
    // over the first one and the first two. Idle replicas stay up through the smaller phases.
    const set: ReplicaSet = await startReplicas(3, () => startVerifier(cluster.url));
    stops.push(() => set.stop());
    const balancers: Balancer[] = [];
    for (const n of [1, 2]) {
      const balancer = await startBalancer(set.replicas.slice(0, n).map((r: VerifierProcess) => r.url));
      stops.push(() => balancer.stop());
      balancers.push(balancer);
    }
    balancers.push(set.balancer);
    const targets: Target[] = [
      { label: '1 replica, direct (no HAProxy)', url: set.replicas[0]!.url },
      ...COUNTS.map((n, i) => ({ label: `${n} replica${n > 1 ? 's' : ''} behind HAProxy`, url: balancers[i]!.url })),
    ];

    // Enrolled through the balancer over all three: every replica verifies its tokens (one database).
    const device = await enrolledDevice(set.url);
    // Tokens issued in a replica's boot second are refused (boot epoch): start in the next second.
    await new Promise((r) => setTimeout(r, 1100));
    const limit = rawLimit(0.4).limit;
    let fastest = 0;
    // Each token is used once, and minting them is most of this part's time: a phase gets enough for
    // 2.5 times the fastest phase so far (the spread between rounds here is wide), the first warm-up
    // enough for WARM_GUESS req/s (far above what this machine has shown; 1.5 × the one-core limit if lower).
    const phase = async (url: string, seconds: number) => {
      const perSecond = fastest > 0 ? Math.min(limit * 1.5, fastest * 2.5) : Math.min(limit * 1.5, WARM_GUESS);
      const result = await load(url, await mintTokens(device, Math.ceil(perSecond * seconds)), { seconds, connections: CONNECTIONS });
      fastest = Math.max(fastest, result.rps);
      return result;
    };
    // Not reported: every replica's JIT, prepared statements and connection pool, HAProxy's server
    // connections, PostgreSQL's caches warmed once through each target.
    for (const target of targets) {
      const warm = await phase(target.url, WARM_SECONDS);
      log(`replicas warm-up: ${target.label}: ${Math.round(warm.rps)} req/s (one-core limit L ${Math.round(limit)} req/s)`);
    }

    const rounds = await repeat(REPETITIONS, async (run) => {
      const rps: number[] = [];
      for (const target of targets) {
        const result = await phase(target.url, SECONDS);
        rps.push(result.rps);
        log(`replicas round ${run + 1}: ${target.label}: ${Math.round(result.rps)} req/s (p50 ${result.p50} ms, p99 ${result.p99} ms)`);
      }
      return rps;
    });

    const metrics: Metric[] = targets.map((target, i) =>
      repeatedMetric(rounds.map((r) => r[i]!), {
        metric: `verify PostgreSQL, ${target.label}, ${CONNECTIONS} connections, 2 shared cores: throughput, median of ${REPETITIONS}`,
        unit: 'req/s',
        goal: 'report',
        digits: 0,
      }),
    );
    const direct = 0;
    const one = 1;
    const three = 3;
    metrics.push(
      repeatedMetric(rounds.map((r) => r[one]! / r[direct]!), {
        metric: `verify PostgreSQL, 1 replica behind HAProxy / direct (the balancer's hop), median of ${REPETITIONS} rounds`,
        unit: '×',
        goal: 'report',
        digits: 2,
      }),
      repeatedMetric(rounds.map((r) => r[three]! / r[one]!), {
        metric: `verify PostgreSQL behind HAProxy, 3 replicas / 1 replica, 2 shared cores (not expected to scale here), median of ${REPETITIONS} rounds`,
        unit: '×',
        goal: 'report',
        digits: 2,
      }),
    );
    // The databases' own durable write rates, for docs/scaling.md (replicas idle meanwhile).
    const rates = await repeat(REPETITIONS, async () => ({ pg: await postgresCommitRate(cluster.url), sqlite: sqliteCommitRate() }));
    log(`commit rates: ${rates.map((r) => `PostgreSQL ${Math.round(r.pg.commits)} commits/s, ${Math.round(r.pg.groupedRows)} rows/s grouped; SQLite ${Math.round(r.sqlite.commits)} commits/s, ${Math.round(r.sqlite.groupedRows)} rows/s grouped`).join(' | ')}`);
    const rate = (label: string, pick: (r: (typeof rates)[number]) => number, unit: string) =>
      repeatedMetric(rates.map(pick), { metric: `baseline: ${label}, median of ${REPETITIONS}`, unit, goal: 'baseline', digits: 0 });
    metrics.push(
      rate('PostgreSQL durable commits of one row, 16 clients', (r) => r.pg.commits, 'commits/s'),
      rate('PostgreSQL rows in commits of 16 rows, 16 clients', (r) => r.pg.groupedRows, 'rows/s'),
      rate('SQLite durable commits of one row (WAL, synchronous=FULL)', (r) => r.sqlite.commits, 'commits/s'),
      rate('SQLite rows in commits of 16 rows (WAL, synchronous=FULL)', (r) => r.sqlite.groupedRows, 'rows/s'),
    );
    return metrics;
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}
