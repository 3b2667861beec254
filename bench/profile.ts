// `npm run bench -- --only profile`: a CPU profile (`node --cpu-prof`) of the SQLite verifier under a
// POST /v1/verify load, summarised as the functions with the most self time and the share of each
// part of the stack (HTTP, protocol, crypto, store…). Writes bench/profile.json. Node only (bench).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enrolledDevice, load, mintTokens, startVerifier } from './verifier';
import type { Metric } from './verifier';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** A process's CPU time so far (user + system), from /proc/<pid>/stat (Linux). */
function cpuSeconds(pid: number): number {
  // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
/** Linux's USER_HZ: /proc times are in ticks of 1/100 s. */
const CLOCK_TICKS = 100;

/** Where a frame's code lives, coarse enough to read: a package, a folder of ours, or the runtime. */
export function areaOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'runtime (program)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/').slice(0, 2).join('/');
  const ours = /\/(server|lib)\/(.+?)(?:\/[^/]+)?\.ts$/.exec(url) ?? /\/(server|lib)\/([^/]+)/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  return url;
}

export interface ProfileSummary {
  totalMs: number;
  idleShare: number;
  /** Self time by function, largest first. */
  self: Array<{ fn: string; share: number }>;
  /** Self time by area (package, our folder, runtime), largest first. */
  areas: Array<{ area: string; share: number }>;
  /** Inclusive time (the function and everything it called) of the named functions. */
  inclusive: Array<{ fn: string; share: number }>;
}

/** Self and inclusive shares of a V8 CPU profile; shares are of the non-idle time. */
export function summariseProfile(profile: CpuProfile, inclusiveOf: readonly string[], top = 15, windowFn?: string): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const under = (id: number, fn: string) => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) if (byId.get(at)!.callFrame.functionName === fn) return true;
    return false;
  };
  // Only the samples from the first to the last one inside `windowFn` (the load, not the boot).
  let first = 0;
  let last = profile.samples.length - 1;
  if (windowFn) {
    first = profile.samples.findIndex((id) => under(id, windowFn));
    if (first < 0) throw new Error(`no sample of the profile is inside ${windowFn}`);
    while (last > first && !under(profile.samples[last]!, windowFn)) last--;
  }
  const selfUs = new Map<number, number>();
  for (let i = first; i <= last; i++) {
    const id = profile.samples[i]!;
    // timeDeltas[i] is the time before sample i: charge sample i with the time after it.
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url ? `${n.callFrame.url.replace(/^.*\/(node_modules\/|server\/|lib\/)/, '$1')}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
  let total = 0;
  let idle = 0;
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    self.set(label(n), (self.get(label(n)) ?? 0) + us);
    const area = areaOf(n.callFrame.url, n.callFrame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  // Inclusive: each node's subtree time, counted once per sample even under recursion.
  const inclusive = new Map<string, number>(inclusiveOf.map((f) => [f, 0]));
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const fn = byId.get(at)!.callFrame.functionName;
      if (inclusive.has(fn) && !seen.has(fn)) {
        seen.add(fn);
        inclusive.set(fn, inclusive.get(fn)! + us);
      }
    }
  }
  const ranked = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  const share = (us: number) => (total > 0 ? us / total : 0);
  return {
    totalMs: total / 1000,
    idleShare: idle / (idle + total || 1),
    self: ranked(self).slice(0, top).map(([fn, us]) => ({ fn, share: share(us) })),
    areas: ranked(areas).slice(0, top).map(([area, us]) => ({ area, share: share(us) })),
    inclusive: ranked(inclusive).map(([fn, us]) => ({ fn, share: share(us) })),
  };
}

/** The verify path's own functions whose inclusive time the summary reports. */
const INCLUSIVE = ['verifyAction', 'verifyApprovalToken', 'actionDigest', 'receiptFor', 'mintReceipt', 'consumeAndAllow', 'commitGroup', 'flush', 'runPreParsing', 'parse', 'safeParse', 'serialize', 'executeQuery'];

export async function profileMetrics(log: (line: string) => void = () => undefined, seconds = 8): Promise<Metric[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-prof-'));
  const profDir = join(dir, 'prof');
  try {
    const verifier = await startVerifier(`sqlite:${join(dir, 'v.db')}`, {}, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
    let rps = 0;
    let requests = 0;
    let cpuUs = 0;
    try {
      const device = await enrolledDevice(verifier.url);
      await new Promise((r) => setTimeout(r, 1100));
      const tokens = await mintTokens(device, 8000 * seconds);
      const before = cpuSeconds(verifier.child.pid!);
      const result = await load(verifier.url, tokens, { seconds, connections: 16 });
      cpuUs = ((cpuSeconds(verifier.child.pid!) - before) * 1e6) / result.total;
      rps = result.rps;
      requests = result.total;
    } finally {
      await verifier.stop();
    }
    // The main thread's profile is the largest (tsx's loader thread writes a small one).
    const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    const file = files.sort((a, b) => statSync(join(profDir, b)).size - statSync(join(profDir, a)).size)[0];
    if (!file) throw new Error('the verifier wrote no CPU profile');
    const summary = summariseProfile(JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile, INCLUSIVE, Number(process.env.PROFILE_TOP ?? 15), 'verifyAction');
    const pct = (s: number) => `${(s * 100).toFixed(1)} %`;
    log(`profile: verifier process CPU (user + system, from /proc) ${Math.round(cpuUs)} µs per request`);
    log(`profile: ${requests} verifies at ${Math.round(rps)} req/s; ${Math.round(summary.totalMs)} ms busy, idle ${pct(summary.idleShare)}; ${Math.round((summary.totalMs * 1000) / requests)} µs CPU per request`);
    log('profile, self time by area:');
    for (const a of summary.areas) log(`  ${pct(a.share).padStart(7)}  ${a.area}`);
    log('profile, self time by function:');
    for (const s of summary.self) log(`  ${pct(s.share).padStart(7)}  ${s.fn}`);
    log('profile, inclusive:');
    for (const s of summary.inclusive) log(`  ${pct(s.share).padStart(7)}  ${s.fn}`);
    writeFileSync('bench/profile.json', `${JSON.stringify({ rps, requests, cpuUsPerRequest: cpuUs, profiledUsPerRequest: (summary.totalMs * 1000) / requests, ...summary }, null, 2)}\n`);
    return [
      { metric: 'profile (SQLite, one run): verifier process CPU (user + system) per verified request', value: Math.round(cpuUs), unit: 'µs', goal: 'report', pass: true },
      { metric: 'profile (SQLite, one run): verifier idle share under load', value: Math.round(summary.idleShare * 1000) / 10, unit: '%', goal: 'report', pass: true },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
