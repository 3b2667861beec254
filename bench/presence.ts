// Presence benchmark: what checking a `wa` assertion adds to POST /v1/verify (SQLite), as the ratio of
// p50 latencies of an access change with presence to a post without, interleaved at concurrency 1 in
// the same verifier (the baseline without presence measured beside it in every run), the median and
// spread of REPETITIONS runs (bench/repeat.ts). Node only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { DEFAULT_APPROVAL_TTL_SECONDS, actionDigest, approvalDraft, mintApprovalToken, newTraceId } from '../lib/protocol';
import type { ActionRequest } from '../lib/protocol';
import type { RepeatedMetric } from './repeat';
import { REPETITIONS, median, repeat, repeatedMetric } from './repeat';
import { admin, enrolledDevice, startVerifier } from './verifier';

const RUNS = REPETITIONS;
const PER_RUN = 200;
const SITE = 'http://127.0.0.1:8081';
const POST: ActionRequest = { method: 'POST', url: `${SITE}/api/topics/1/replies`, contentType: 'application/json', body: '{"body":"A benchmark reply."}' };
const ACCESS: ActionRequest = { method: 'PUT', url: `${SITE}/api/datasets/payroll-2026/access`, contentType: 'application/json', body: '{"readers":["all-employees"]}' };

type BenchDevice = Awaited<ReturnType<typeof enrolledDevice>>;

/** A verify body for `req` on `scope`, its token carrying an assertion when `presence`. Minted in order, so sign counts rise in the order they are used. */
async function verifyBody(device: BenchDevice, req: ActionRequest, scope: string, presence: boolean): Promise<string> {
  const draft = approvalDraft({ ttlSeconds: DEFAULT_APPROVAL_TTL_SECONDS });
  const wa = presence ? await device.authenticator.assert({ dig: await actionDigest(req), jti: draft.jti, exp: draft.exp }) : undefined;
  const { token } = await mintApprovalToken({
    privateKey: device.privateKey,
    kid: device.kid,
    deviceId: device.deviceId,
    userId: 'alice',
    request: req,
    agent: 'agent:bench',
    scope,
    traceId: newTraceId(),
    ttlSeconds: DEFAULT_APPROVAL_TTL_SECONDS,
    now: draft.iat,
    jti: draft.jti,
    ...(wa ? { wa } : {}),
  });
  return JSON.stringify({ token, request: req, scope });
}

async function timedVerify(agent: Agent, url: string, body: string): Promise<number> {
  const t = performance.now();
  const res = await request(`${url}/v1/verify`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body });
  await res.body.text();
  const ms = performance.now() - t;
  if (res.statusCode !== 200) throw new Error(`verify answered ${res.statusCode}: not a measurement of the allow path`);
  return ms;
}

/** p50 of verify with and without presence, interleaved one after the other, per run; then the ratio's median and spread. */
export async function presenceMetrics(log: (line: string) => void = () => undefined): Promise<RepeatedMetric[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-presence-'));
  const verifier = await startVerifier(`sqlite:${join(dir, 'verifier.db')}`);
  const agent = new Agent({ connections: 1 });
  try {
    const device = await enrolledDevice(verifier.url);
    const agentSet = await admin(verifier.url, 'PUT', '/v1/admin/agents/agent:bench', { owner: 'alice', scopes: ['forum.post', 'admin.acl.write'], sites: [SITE] });
    if (!agentSet.ok) throw new Error(`agent registration: ${agentSet.status}`);
    // Tokens issued in the verifier's boot second are refused (boot epoch): start in the next second.
    await new Promise((r) => setTimeout(r, 1100));
    const interleaved = async () => {
      const plain: number[] = [];
      const present: number[] = [];
      for (let i = 0; i < PER_RUN; i++) {
        const [a, b] = [await verifyBody(device, POST, 'forum.post', false), await verifyBody(device, ACCESS, 'admin.acl.write', true)];
        plain.push(await timedVerify(agent, verifier.url, a));
        present.push(await timedVerify(agent, verifier.url, b));
      }
      return { without: median(plain), present: median(present) };
    };
    // A first run warms up (JIT, statement caches) and is not counted.
    await interleaved();
    const runs = await repeat(RUNS, async (run) => {
      const r = await interleaved();
      log(`presence run ${run + 1}: p50 ${r.present.toFixed(2)} ms with presence, ${r.without.toFixed(2)} ms without`);
      return r;
    });
    const without = runs.map((r) => r.without);
    const withPresence = runs.map((r) => r.present);
    // Each run's ratio is against the baseline measured beside it, in the same run.
    const ratios = runs.map((r) => r.present / r.without);
    return [
      repeatedMetric(without, { metric: 'baseline: verify p50 without presence (forum.post), SQLite, concurrency 1', unit: 'ms', goal: 'baseline', digits: 3 }),
      repeatedMetric(withPresence, { metric: 'verify p50 with presence (admin.acl.write, wa checked and sign count admitted)', unit: 'ms', goal: 'report', digits: 3 }),
      repeatedMetric(ratios, { metric: `verify with presence / without, p50, median of ${RUNS} runs of ${PER_RUN} interleaved`, unit: '×', goal: '≤ 2', digits: 2, pass: (m) => m <= 2 }),
    ];
  } finally {
    await agent.close();
    await verifier.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
