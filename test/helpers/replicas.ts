// Several verifier replicas on one database behind a real HAProxy (/usr/sbin/haproxy), for tests and the
// bench (issue 20, "Several replicas"). Node only; no Vitest here, so bench/replicas.ts can use it too.
//
//   const set = await startReplicas(3, () => startVerifierProcess({ DATABASE_URL, COUNTERSIGN_ADMIN_TOKEN }));
//   await fetch(`${set.url}/v1/verify`, …);   // round-robin over the three
//   await set.kill(1);                        // SIGKILL one replica (a crash)
//   await set.balancer.waitUntilDown(1);      // its health check took it out of the pool
//   await set.stop();
//
// The balancer's choices (see renderConfig): round-robin; a request is retried (`retries 3`), each
// retry on another server (`option redispatch 1`), when the connection failed, when the server closed
// the connection without answering (`empty-response`: it died with the request in hand, maybe after
// committing), or when it did not answer in time. Retrying POST /v1/verify is safe only because the
// verifier consumes a token's (iss, jti) under a unique key in the shared database: a retry of a
// request whose first replica committed before dying is answered 409 `replayed`, never a second allow.
// Health checks (GET /v1/status every 200 ms, down after 3 failures) take a dead replica out quickly.
import { httpServers, runHaproxy } from './haproxy';
import { freePort } from './processes';
import type { VerifierProcess } from './processes';

export interface Balancer {
  /** http://127.0.0.1:PORT: the balanced verifier. */
  url: string;
  /** HAProxy's stats page (CSV at `${statsUrl};csv`). */
  statsUrl: string;
  /** Each server's status as HAProxy's stats report it (UP, DOWN, "UP 1/2", …), in the order given. */
  serverStatus(): Promise<string[]>;
  /** Resolves once server `index` is DOWN in HAProxy's view; throws after `timeoutMs`. */
  waitUntilDown(index: number, timeoutMs?: number): Promise<void>;
  /** Resolves once every server is UP; throws after `timeoutMs`. */
  waitUntilUp(timeoutMs?: number): Promise<void>;
  /** SIGTERM, waits for the exit, removes the config. Idempotent. */
  stop(): Promise<void>;
}

export interface ReplicaSet {
  /** The balancer's URL. */
  url: string;
  balancer: Balancer;
  replicas: VerifierProcess[];
  /** SIGKILL replica `index` (a crash) and wait for its exit. */
  kill(index: number): Promise<void>;
  /** Stops the balancer, then every replica still running. Idempotent. */
  stop(): Promise<void>;
}

/**
 * `count` replicas from `start` (each a verifier process on the same database), then a balancer over
 * them, every server UP before it returns. The first replica starts alone: on an empty database it runs
 * the migrations and creates the receipt-signing key, neither of which is meant to race another
 * process doing the same; the others then start together.
 */
export async function startReplicas(count: number, start: () => Promise<VerifierProcess>): Promise<ReplicaSet> {
  if (!Number.isInteger(count) || count < 1) throw new Error(`startReplicas needs a whole number ≥ 1, not ${count}`);
  const replicas: VerifierProcess[] = [];
  const stopAll = () => Promise.all(replicas.map((r) => r.stop()));
  let balancer: Balancer;
  try {
    replicas.push(await start());
    const rest = await Promise.allSettled(Array.from({ length: count - 1 }, start));
    for (const r of rest) if (r.status === 'fulfilled') replicas.push(r.value);
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    balancer = await startBalancer(replicas.map((r) => r.url));
  } catch (error) {
    await stopAll();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    url: balancer.url,
    balancer,
    replicas,
    kill: (index) => {
      const replica = replicas[index];
      if (!replica) throw new Error(`no replica ${index} (there are ${replicas.length})`);
      return replica.kill();
    },
    stop: () => (stopped ??= balancer.stop().then(stopAll).then(() => undefined)),
  };
}

/** A real HAProxy balancing round-robin over `backends` (http origins), with health checks and retries. */
export async function startBalancer(backends: string[]): Promise<Balancer> {
  const servers = httpServers(backends, 'balancer');
  const port = await freePort();
  const statsPort = await freePort();
  const { stop } = await runHaproxy(renderConfig(servers, port, statsPort), [port, statsPort]);

  const url = `http://127.0.0.1:${port}`;
  const statsUrl = `http://127.0.0.1:${statsPort}/stats`;
  const serverStatus = async (): Promise<string[]> => {
    const csv = await (await fetch(`${statsUrl};csv`)).text();
    const [header, ...rows] = csv.split('\n');
    const columns = (header ?? '').replace(/^# /, '').split(',');
    const [px, sv, st] = ['pxname', 'svname', 'status'].map((c) => columns.indexOf(c));
    const status = new Map<string, string>();
    for (const row of rows) {
      const cells = row.split(',');
      if (cells[px!] === 'verifiers') status.set(cells[sv!] ?? '', cells[st!] ?? '');
    }
    return servers.map((_, i) => status.get(`replica_${i}`) ?? 'unknown');
  };
  const waitFor = async (what: string, ok: (status: string[]) => boolean, timeoutMs: number) => {
    const end = Date.now() + timeoutMs;
    let last: string[] = [];
    while (Date.now() < end) {
      last = await serverStatus();
      if (ok(last)) return;
      await sleep(50);
    }
    throw new Error(`haproxy: ${what} not reached within ${timeoutMs} ms (servers: ${last.join(', ')})`);
  };
  const balancer: Balancer = {
    url,
    statsUrl,
    serverStatus,
    waitUntilDown: (index, timeoutMs = 15_000) => waitFor(`replica_${index} DOWN`, (s) => s[index]?.startsWith('DOWN') ?? false, timeoutMs),
    waitUntilUp: (timeoutMs = 15_000) => waitFor('every server UP', (s) => s.every((x) => x === 'UP'), timeoutMs),
    stop,
  };
  try {
    await balancer.waitUntilUp();
  } catch (error) {
    await balancer.stop();
    throw error;
  }
  return balancer;
}

/**
 * The configuration. Why each retry and check setting is what it is:
 * - `retries 3` with `option redispatch 1`: every retry goes to another server, so a request that met
 *   the dead replica lands on a live one (three retries cover two dead servers of three, and one more).
 * - `retry-on conn-failure empty-response response-timeout`: conn-failure (refused: nothing was sent)
 *   is always safe; empty-response is the crash with the request in hand, response-timeout a replica
 *   that hangs. Both may retry a POST that already committed: safe here only because consumption is
 *   the database's unique (iss, jti) key, so the retry is answered `replayed` (409). Not junk-response
 *   nor 5xx statuses: a verifier that answered has decided, and its answer (even 503, fail closed) is
 *   passed on as it is. HAProxy copies the request into a buffer to retry it: /v1/verify bodies are
 *   far under tune.bufsize (16 kB); a larger one would not be retried (it then fails, closed).
 * - Health checks: GET /v1/status (it reads the database: a replica that lost it goes down too) every
 *   200 ms, 100 ms once failing, down after 3 failures, up again after 2 passes; on-marked-down
 *   shutdown-sessions closes what was still open to it. A check may take 5 s: a busy replica (a burst,
 *   a loaded CI machine) is slow, not dead, and marking every live one down would fail the requests
 *   it protects. A killed one refuses the check's connection at once, so it still goes down in ~0.3 s.
 * - nbthread 1: the machine has two cores and the replicas, PostgreSQL and the load generator share
 *   them; one HAProxy thread forwards far more than the replicas can answer.
 */
function renderConfig(servers: string[], port: number, statsPort: number): string {
  return `# Written by test/helpers/replicas.ts: verifier replicas on one database behind one balancer.
global
    maxconn 4096
    nbthread 1

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 10s
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout check 5s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout

frontend verifier
    bind 127.0.0.1:${port}
    default_backend verifiers

frontend stats
    bind 127.0.0.1:${statsPort}
    stats enable
    stats uri /stats

backend verifiers
    balance roundrobin
    option httpchk GET /v1/status
    http-check expect status 200
    # Which replica answered (tests check the spread and that a dead one gets nothing more).
    http-response set-header X-Countersign-Replica %[srv_name]
    default-server check inter 200ms fastinter 100ms downinter 500ms fall 3 rise 2 on-marked-down shutdown-sessions
${servers.map((server, i) => `    server replica_${i} ${server}`).join('\n')}
`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
