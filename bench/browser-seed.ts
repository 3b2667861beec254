// Seeds the reader-page benchmark's forum topics: 2,000 posts by default (any count: the growth curve
// takes 200, 2,000 and 20,000), people's and assistants' mixed, the assistants' approved for real
// (device-signed tokens through the forum's middleware and the verifier, which returns genuine
// receipts), some without a receipt, some edited after approval, some with a receipt a stranger
// signed. Post i has the same text and kind in every topic, so topics of several sizes share one
// round of approvals (for the largest); the approvals go to the forum in-process (Fastify's inject:
// no socket for that hop), many at once. Node only (bench).
import { exportEs256PublicJwk, generateEs256KeyPair, mintApprovalToken, mintReceipt, newTraceId } from '../lib/protocol';
import type { NewReply } from '../demo/store';
import type { Stack } from '../test/helpers/browser/stack';

export interface SeededTopic {
  topicId: number;
  /** How many posts of each kind the topic holds, and the badges a reader should see. */
  counts: { person: number; verified: number; unverified: number; edited: number; forged: number };
  expectedBadges: number;
}

/** Of every 20 posts: 8 people's, 6 approved, 2 without a receipt, 2 edited after approval, 2 forged. */
const PATTERN = ['person', 'verified', 'person', 'unverified', 'verified', 'person', 'edited', 'verified', 'person', 'forged',
  'person', 'verified', 'person', 'unverified', 'verified', 'person', 'edited', 'verified', 'person', 'forged'] as const;
type Kind = (typeof PATTERN)[number];

function text(i: number): string {
  return `Post ${i + 1}: the payroll-2026 export runs nightly at 02:00 and lands in the finance share; access stays team-only ` +
    `until the quarterly review signs off. Ask in #payroll-data if a report needs a field that is not in the export yet.`;
}

/** Approves `bodies` as assistant posts in `topicId` for real; returns each body's receipt. */
async function approvedPosts(stack: Stack, topicId: number, bodies: string[]): Promise<string[]> {
  const { code } = (await (await stack.admin('POST', '/v1/admin/enrollment-codes', { userId: 'alice' })).json()) as { code: string };
  const pair = await generateEs256KeyPair();
  const res = await fetch(`${stack.verifierUrl}/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, publicKeyJwk: await exportEs256PublicJwk(pair.publicKey), label: 'bench seed' }) });
  if (!res.ok) throw new Error(`enrollment for the seed failed: ${res.status}`);
  const { kid, deviceId } = (await res.json()) as { kid: string; deviceId: string };
  await new Promise((r) => setTimeout(r, 1100)); // tokens issued in the verifier's boot second are refused
  const path = `/api/topics/${topicId}/replies`;
  const url = `${stack.forumUrl}${path}`;
  const receipts: string[] = new Array<string>(bodies.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < bodies.length; i = next++) {
      const payload = JSON.stringify({ body: bodies[i], author_kind: 'assistant' });
      const request = { method: 'POST', url, contentType: 'application/json', body: payload };
      const { token } = await mintApprovalToken({ privateKey: pair.privateKey, kid, deviceId, userId: 'alice', request, agent: 'agent:forum-helper', scope: 'forum.post', traceId: newTraceId() });
      const posted = await stack.demo.forum.inject({ method: 'POST', url: path, headers: { host: new URL(stack.forumUrl).host, 'content-type': 'application/json', 'x-agent-key': 'forum-helper-key', 'countersign-approval': token }, payload });
      if (posted.statusCode !== 201) throw new Error(`an approved seed post was refused (${posted.statusCode}): ${posted.body.slice(0, 200)}`);
      const { reply } = posted.json<{ reply: { receipt: string | null } }>();
      if (!reply.receipt) throw new Error('an approved seed post came back without a receipt');
      receipts[i] = reply.receipt;
    }
  };
  await Promise.all(Array.from({ length: APPROVERS }, worker));
  return receipts;
}

/** Approvals in flight at once while seeding (the verifier, the forum and the seed share one process). */
const APPROVERS = 16;

export async function seedReaderTopic(stack: Stack, total = 2000): Promise<SeededTopic> {
  return (await seedReaderTopics(stack, [total]))[0]!;
}

/** One topic per count in `totals` (in that order), post i alike in all; the approvals made once, for the largest. */
export async function seedReaderTopics(stack: Stack, totals: number[]): Promise<SeededTopic[]> {
  if (!totals.length || totals.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`post counts are whole numbers ≥ 1, not ${totals.join(', ')}`);
  const store = stack.demo.store;
  const most = Math.max(...totals);
  const kinds: Kind[] = Array.from({ length: most }, (_, i) => PATTERN[i % PATTERN.length]!);
  // Approvals go through the real API into a scratch topic; the reader topics get the same texts
  // with their genuine receipts, in the mixed order (one receipt per post).
  const scratch = store.createTopic('Benchmark approvals (scratch)');
  const approvedIdx = kinds.flatMap((k, i) => (k === 'verified' || k === 'edited' ? [i] : []));
  const receipts = await approvedPosts(stack, scratch.id, approvedIdx.map(text));
  const receiptOf = new Map(approvedIdx.map((i, k) => [i, receipts[k]!]));

  const stranger = await generateEs256KeyPair();
  const forged = new Map<number, string>();
  await Promise.all(
    [...kinds.entries()].filter(([, k]) => k === 'forged').map(async ([i]) => {
      const { receipt } = await mintReceipt({ privateKey: stranger.privateKey, kid: 'rk-stranger', issuer: stack.verifierUrl, agent: 'agent:forum-helper', approver: 'alice', traceId: newTraceId(), digest: 'A'.repeat(43), policyVersion: 'v1', content: text(i) });
      forged.set(i, receipt);
    }),
  );

  return totals.map((total) => {
    const topic = store.createTopic(`Payroll export: questions and answers (${total.toLocaleString('en')} posts)`);
    store.addPosts(topic.id, total, (i): NewReply => {
      const k = kinds[i]!;
      if (k === 'person') return { author: i % 3 ? 'bob' : 'alice', kind: 'person', body: text(i) };
      if (k === 'unverified') return { author: 'agent:forum-helper', kind: 'assistant', body: text(i) };
      if (k === 'forged') return { author: 'agent:forum-helper', kind: 'assistant', body: text(i), receipt: forged.get(i)! };
      const body = k === 'edited' ? `${text(i)} (Edited later: the dataset is now visible to all employees.)` : text(i);
      return { author: 'agent:forum-helper', kind: 'assistant', body, receipt: receiptOf.get(i)! };
    });
    const count = (k: Kind) => kinds.slice(0, total).filter((x) => x === k).length;
    const counts = { person: count('person'), verified: count('verified'), unverified: count('unverified'), edited: count('edited'), forged: count('forged') };
    return { topicId: topic.id, counts, expectedBadges: total - counts.person };
  });
}
