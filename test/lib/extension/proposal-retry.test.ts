// A proposal re-sent by the content script after its answer was lost (the service worker stopped after
// persisting it, S-02) is the action already held: one row, one `proposed`, one `held`. Node only (tests).
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { demoAdapters } from '../../../demo/adapters';
import { CountersignDb, db, useDatabase } from '@/lib/extension/db';
import { effectivePolicy } from '@/lib/policy/effective-policy';
import { proposeAction } from '@/lib/extension/held-actions';
import type { ProposalInput } from '@/lib/messaging/contract';
import { FORUM_PAGE, forumReplyProposal } from '../../helpers/proposals';

const PAGE = FORUM_PAGE;
const proposal: ProposalInput = { ...forumReplyProposal, proposalId: 'c0ffee00-1111-4222-8333-444455556666' };
const view = effectivePolicy({ protectedSites: ['http://127.0.0.1:8080/*'], adapters: JSON.stringify(demoAdapters()) }, {});
const propose = (input: ProposalInput, tabId = 7) => proposeAction(input, { view, pageUrl: PAGE, tabId, userId: null, now: Date.now() });
/** Not enrolled: events wait in `unchained`, one row each (keyed by a random id, so sorted here). */
const events = () => db().unchained.toArray().then((rows) => rows.map((r) => r.fields.type).sort());

beforeEach(() => useDatabase(new CountersignDb(`cs-retry-${crypto.randomUUID()}`)));

describe('a re-sent proposal (S-01, S-02)', () => {
  it('with the same proposalId from the same tab is the same action, held and logged once', async () => {
    const first = await propose(proposal);
    const again = await propose(proposal);
    expect(again.id).toBe(first.id);
    expect((await db().actions.toArray()).map((r) => r.id)).toEqual([first.id]);
    expect(await events()).toEqual(['held', 'proposed']);
  });

  it('the same proposalId from another tab is another action', async () => {
    const first = await propose(proposal, 7);
    const other = await propose(proposal, 8);
    expect(other.id).not.toBe(first.id);
    expect(await db().actions.count()).toBe(2);
  });

  it('the same proposalId with another request is refused, not merged (what the owner reviews stays what was held)', async () => {
    await propose(proposal);
    const changed = { ...proposal, request: { ...proposal.request, body: '{"body":"Something else.","author_kind":"assistant"}' }, content: 'Something else.', diff: { kind: 'text' as const, before: null, after: 'Something else.' } };
    await expect(propose(changed)).rejects.toMatchObject({ code: 'payload_invalid' });
    expect(await db().actions.count()).toBe(1);
  });

  it('without a proposalId every proposal is its own action', async () => {
    const { proposalId: _id, ...plain } = proposal;
    await propose(plain);
    await propose(plain);
    expect(await db().actions.count()).toBe(2);
  });
});
