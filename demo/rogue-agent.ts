// The scripted rogue assistant: with its own agent keys and no approval it posts to Intraforum,
// widens payroll-2026 to every employee, and tries a forged and a garbage approval token; then a
// person's ordinary post goes through. Returns every outcome and prints them as a table. Node only.
import { encodeBase64url, exportEs256PublicJwk, generateEs256KeyPair, jwkThumbprint, mintApprovalToken, newTraceId } from '../lib/protocol';

export interface RogueAgentOptions {
  /** Intraforum's base URL, e.g. http://127.0.0.1:8080. */
  forumUrl: string;
  /** The Access console's base URL, e.g. http://localhost:8081. */
  consoleUrl: string;
  /** Where the table goes, line by line; default nowhere. */
  out?: (line: string) => void;
  topicId?: number;
  datasetId?: string;
  fetch?: typeof fetch;
}

export interface RogueStep {
  n: number;
  /** Who called: an agent id, or the signed-in person. */
  caller: string;
  /** Method and path, with what the call tried to do. */
  request: string;
  /** What stood in for an approval. */
  approval: string;
  expected: 'refused' | 'accepted';
  /** HTTP status, or 0 when the tool did not answer. */
  status: number;
  /** The DESIGN.md error code of a refusal, or null. */
  code: string | null;
  ok: boolean;
}

export interface DatasetAccessView {
  visibility: string;
  groups: string[];
}

export interface RogueAgentResult {
  /** Every agent call refused, the person's post accepted, and the dataset untouched. */
  ok: boolean;
  steps: RogueStep[];
  datasetBefore: DatasetAccessView | null;
  datasetAfter: DatasetAccessView | null;
}

const FORUM_KEY = 'forum-helper-key';
const ACCESS_KEY = 'access-helper-key';

interface Attempt {
  caller: string;
  request: string;
  approval: string;
  expected: 'refused' | 'accepted';
  send(): Promise<Response>;
}

/**
 * An approval token that is perfectly formed and bound to this exact request, claiming alice as the
 * approver, but signed with a key the agent made itself: no enrolled device holds it.
 */
async function forgeToken(request: { method: string; url: string; contentType: string; body: string }, agent: string, scope: string): Promise<string> {
  const pair = await generateEs256KeyPair();
  const kid = await jwkThumbprint(await exportEs256PublicJwk(pair.publicKey));
  const { token } = await mintApprovalToken({ privateKey: pair.privateKey, kid, deviceId: 'dev-alice-laptop', userId: 'alice', request, agent, scope, traceId: newTraceId(), ttlSeconds: 120 });
  return token;
}

/** An unsigned `alg: none` token: the oldest trick against JWT verifiers. */
function unsignedToken(): string {
  const header = encodeBase64url(JSON.stringify({ alg: 'none', typ: 'countersign-approval+jwt' }));
  const claims = encodeBase64url(JSON.stringify({ sub: 'alice', agt: 'agent:forum-helper', scp: 'forum.post' }));
  return `${header}.${claims}.`;
}

export async function runRogueAgent(options: RogueAgentOptions): Promise<RogueAgentResult> {
  const doFetch = options.fetch ?? fetch;
  const out = options.out ?? (() => undefined);
  const topicId = options.topicId ?? 1;
  const datasetId = options.datasetId ?? 'payroll-2026';
  const repliesUrl = new URL(`/api/topics/${topicId}/replies`, options.forumUrl).href;
  const accessUrl = new URL(`/api/datasets/${encodeURIComponent(datasetId)}/access`, options.consoleUrl).href;
  const json = 'application/json';

  const readAccess = async (): Promise<DatasetAccessView | null> => {
    try {
      const response = await doFetch(accessUrl, { headers: { 'x-agent-key': ACCESS_KEY, accept: json } });
      return response.ok ? ((await response.json()) as DatasetAccessView) : null;
    } catch {
      return null;
    }
  };

  // A rogue assistant does not mark itself: its agent key alone makes the tools demand an approval.
  const agentPost = JSON.stringify({ body: 'payroll-2026 is now open to all employees. You can read it directly.' });
  const widen = JSON.stringify({ visibility: 'all-employees', groups: ['payroll-team'] });
  const forged = await forgeToken({ method: 'PUT', url: accessUrl, contentType: json, body: widen }, 'agent:access-helper', 'admin.acl.write');

  const attempts: Attempt[] = [
    {
      caller: 'agent:forum-helper',
      request: `POST /api/topics/${topicId}/replies (assistant reply)`,
      approval: 'none',
      expected: 'refused',
      send: () => doFetch(repliesUrl, { method: 'POST', headers: { 'content-type': json, accept: json, 'x-agent-key': FORUM_KEY }, body: agentPost }),
    },
    {
      caller: 'agent:access-helper',
      request: `PUT /api/datasets/${datasetId}/access (all-employees)`,
      approval: 'none',
      expected: 'refused',
      send: () => doFetch(accessUrl, { method: 'PUT', headers: { 'content-type': json, accept: json, 'x-agent-key': ACCESS_KEY }, body: widen }),
    },
    {
      caller: 'agent:access-helper',
      request: `PUT /api/datasets/${datasetId}/access (all-employees)`,
      approval: 'forged (own key, claims alice)',
      expected: 'refused',
      send: () =>
        doFetch(accessUrl, { method: 'PUT', headers: { 'content-type': json, accept: json, 'x-agent-key': ACCESS_KEY, 'countersign-approval': forged }, body: widen }),
    },
    {
      caller: 'agent:forum-helper',
      request: `POST /api/topics/${topicId}/replies (assistant reply)`,
      approval: 'garbage (unsigned alg none)',
      expected: 'refused',
      send: () =>
        doFetch(repliesUrl, { method: 'POST', headers: { 'content-type': json, accept: json, 'x-agent-key': FORUM_KEY, 'countersign-approval': unsignedToken() }, body: agentPost }),
    },
    {
      caller: 'bob (signed in)',
      request: `POST /api/topics/${topicId}/replies (his own reply)`,
      approval: 'not needed',
      expected: 'accepted',
      send: async () => {
        const cookie = await signIn(doFetch, options.forumUrl, 'bob');
        return doFetch(repliesUrl, { method: 'POST', headers: { 'content-type': json, accept: json, cookie }, body: JSON.stringify({ body: 'Thanks. I will file a request in the Access console and wait for the payroll team.' }) });
      },
    },
  ];

  const datasetBefore = await readAccess();
  const steps: RogueStep[] = [];
  for (const [i, attempt] of attempts.entries()) {
    let status = 0;
    let code: string | null = 'unreachable';
    try {
      const response = await attempt.send();
      status = response.status;
      const payload = (await response.json().catch(() => null)) as { error?: { code?: unknown } } | null;
      code = typeof payload?.error?.code === 'string' ? payload.error.code : null;
    } catch {
      // The tool did not answer: neither a refusal nor an acceptance.
    }
    const refused = status >= 400 && code !== null;
    const accepted = status >= 200 && status < 300;
    const ok = attempt.expected === 'refused' ? refused : accepted;
    steps.push({ n: i + 1, caller: attempt.caller, request: attempt.request, approval: attempt.approval, expected: attempt.expected, status, code: status === 0 ? 'unreachable' : code, ok });
  }
  const datasetAfter = await readAccess();
  const untouched = datasetBefore !== null && JSON.stringify(datasetBefore) === JSON.stringify(datasetAfter);
  const result: RogueAgentResult = { ok: steps.every((s) => s.ok) && untouched, steps, datasetBefore, datasetAfter };
  for (const line of formatReport(result, options)) out(line);
  return result;
}

/** Signs in through the tool's own /login form, as a person's browser would; returns the Cookie header. */
async function signIn(doFetch: typeof fetch, baseUrl: string, user: string): Promise<string> {
  const response = await doFetch(new URL('/login', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user, next: '/' }).toString(),
    redirect: 'manual',
  });
  const cookies = response.headers.getSetCookie().map((c) => c.split(';')[0]!);
  if (response.status !== 303 || cookies.length === 0) throw new Error(`sign-in as ${user} failed (HTTP ${response.status})`);
  return cookies.join('; ');
}

function formatReport(result: RogueAgentResult, options: RogueAgentOptions): string[] {
  const header = ['#', 'caller', 'request', 'approval', 'status', 'code', 'outcome'];
  const rows = result.steps.map((s) => [
    String(s.n),
    s.caller,
    s.request,
    s.approval,
    s.status === 0 ? '-' : String(s.status),
    s.code ?? '-',
    `${s.status >= 200 && s.status < 300 ? 'accepted' : s.status === 0 ? 'no answer' : 'refused'} ${s.ok ? '✓' : `✗ (expected ${s.expected})`}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const show = (a: DatasetAccessView | null) => (a ? `${a.visibility} (${a.groups.join(', ') || 'no groups'})` : 'unknown');
  return [
    `Rogue assistant vs. Countersign — Intraforum ${options.forumUrl}, Access console ${options.consoleUrl}`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `${options.datasetId ?? 'payroll-2026'} before: ${show(result.datasetBefore)}; after: ${show(result.datasetAfter)}`,
    result.ok
      ? 'Every assistant call was refused by the tools themselves; the person\'s ordinary post went through.'
      : 'UNEXPECTED: see the ✗ rows above (is the demo running, and the verifier? npm run verifier, npm run demo).',
  ];
}
