// What the popup and badges say about approvals policy decides beside the owner: a held action
// awaiting more approvers (who approved, how many more, what policy requires), the second approver's
// view of a published hold (held in whose browser, approved by whom so far), an approval counted
// toward a quorum not yet met, and who approved a post ("policy <name>" for a bot, "alice and bob"
// for two people). Rendered to static markup where it is a component. Node only (tests).
import { parseHTML } from 'linkedom';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { PendingAction, awaitingText } from '@/components/PendingAction';
import { decisionText, quorumText } from '@/components/agent-proposal-text';
import type { PendingActionRow } from '@/lib/extension/db';
import { moreNeeded, settleDecision, EMPTY_AGENT_PROPOSALS } from '@/lib/extension/agent-proposals';
import type { AgentDecision } from '@/lib/extension/agent-proposals';
import { approverText } from '@/lib/extension/post-verdicts';

const row: PendingActionRow = {
  id: 'a1',
  state: 'awaiting',
  spec: {
    trc: '0af7651916cd43dd8448eb211c80319c',
    tool: 'access-console',
    scope: 'admin.acl.write',
    agent: 'agent:access-helper',
    request: { method: 'PUT', url: 'http://localhost:8081/api/datasets/payroll-2026/access', contentType: 'application/json', body: '{"visibility":"all-employees"}' },
    content: null,
    diff: { kind: 'fields', fields: [{ name: 'visibility', before: 'team-only', after: 'all-employees' }] },
    signals: ['assistant-marker'],
  },
  digest: 'x'.repeat(43),
  site: 'http://localhost:8081',
  tabId: 1,
  createdAt: Date.now(),
  expiresAt: Date.now() + 60_000,
  token: 'tA',
  reason: null,
  updatedAt: Date.now(),
  quorum: 2,
  approvers: ['alice'],
  published: 'prp_AAAAAAAAAAAAAAAAAAAAAA',
};
const render = (action: PendingActionRow) => parseHTML(`<!doctype html><body>${renderToStaticMarkup(<PendingAction action={action} owner="alice" blocked={null} />)}</body>`).document;

describe('a held action awaiting more approvers', () => {
  it('says who approved, how many more and what policy requires, and offers no Approve: only the others can', () => {
    expect(awaitingText(row)).toBe('Approved by alice; waiting for 1 more approver (policy requires 2).');
    expect(awaitingText({ ...row, quorum: 3 })).toBe('Approved by alice; waiting for 2 more approvers (policy requires 3).');
    expect(awaitingText({ ...row, published: undefined })).toContain('not yet published');
    const doc = render(row);
    expect(doc.querySelector('[aria-label="Waiting for approvers"]')?.textContent).toBe('Approved by alice; waiting for 1 more approver (policy requires 2).');
    expect([...doc.querySelectorAll('button')].map((b) => b.textContent)).toEqual([]);
  });

  it('a held one policy requires two for says so before the owner approves', () => {
    const doc = render({ ...row, state: 'held', approvers: undefined, published: undefined });
    expect(doc.querySelector('[aria-label="Approvers"]')?.textContent).toContain('Needs 2 approvers (policy requires 2)');
    expect([...doc.querySelectorAll('button')].map((b) => b.textContent)).toEqual(['Approve', 'Reject']);
  });
});

describe('the second approver\'s view', () => {
  it('a published hold: held in whose browser, approved by whom so far; one approver needs no words', () => {
    expect(quorumText({ quorum: 2, approvals: [{ approver: 'alice', at: 1 }], publishedBy: 'alice' })).toBe("Held in alice's browser; needs 2 approvers (policy requires 2): approved by alice so far.");
    expect(quorumText({ quorum: 2, approvals: [] })).toBe('needs 2 approvers (policy requires 2): nobody has approved yet.');
    expect(quorumText({ quorum: 1, approvals: [] })).toBeNull();
  });

  it('an approval the verifier counted while the quorum still needs others: "counted; waiting for N more"', () => {
    expect(moreNeeded({ quorum: 3, approvals: [{ approver: 'alice', at: 1 }] })).toBe(1);
    expect(decisionText({ kind: 'approve', state: 'delivered', answered: 'pending', more: 1, code: null, message: null })).toBe('Your approval is counted; waiting for 1 more approver.');
    expect(decisionText({ kind: 'approve', state: 'delivered', answered: 'approved', more: null, code: null, message: null })).toMatch(/^Approved: the verifier has your decision/);
  });

  it('the verifier\'s answer to a decision is kept: pending while others must still approve', () => {
    const decision = { id: 'prp_AAAAAAAAAAAAAAAAAAAAAA', kind: 'approve', state: 'sending', code: null, message: null, decidedAt: 1, updatedAt: 1 } as unknown as AgentDecision;
    const next = settleDecision({ ...EMPTY_AGENT_PROPOSALS, decisions: [decision] }, decision.id, { ok: true, answered: 'pending' }, 2);
    expect(next.decisions[0]).toMatchObject({ state: 'delivered', answered: 'pending' });
  });
});

describe('who approved a post, as its badge says it', () => {
  it('a policy bot is "policy <name>", never a person; two people are both named', () => {
    expect(approverText({ apv: 'policy-bot:small-posts' })).toBe('policy small-posts');
    expect(approverText({ apv: 'alice', apvs: ['alice', 'bob'] })).toBe('alice and bob');
    expect(approverText({ apv: 'alice', apvs: ['alice', 'bob', 'carol'] })).toBe('alice, bob and carol');
    expect(approverText({ apv: 'alice' })).toBe('alice');
    // A person whose id merely looks like a bot's, with no valid bot name, stays that id.
    expect(approverText({ apv: 'policy-bot:' })).toBe('policy-bot:');
  });
});
