// The message map is one table: every message has a payload schema, an answer schema and its
// senders; the direction in its name agrees with them (only the background sends bg-cs, and sends
// nothing else); the types the messenger is checked with are derived from it, and the views it
// carries are the same types the policy, kill-switch and badge modules make.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { MESSAGES, TO_BACKGROUND } from '@/lib/messaging/contract';
import type { BadgeConfig, DataOf, ExtensionStateView, MessageType, PolicyView, ProtocolMap, Reply, ValueOf, Verdict } from '@/lib/messaging/contract';
import { SENDER_KINDS } from '@/lib/messaging/senders';
import { TO_CONTENT } from '@/lib/messaging/to-content';
import type { ReleaseData, SettleData } from '@/lib/messaging/to-content';
import type { AdapterSource, EffectivePolicy, PolicyProblem, PolicySource } from '@/lib/policy/effective-policy';
import type { VerifierStatusView } from '@/lib/policy/verifier-in-use';
import type { BadgeMark } from '@/lib/shared/mark-pattern';
import type { SyncResult } from '@/lib/extension/log-sync';
import type { LogEvent, SiteAdapter, WebAuthnAssertion } from '@/lib/protocol/index';

const rows = Object.entries(MESSAGES) as Array<[MessageType, (typeof MESSAGES)[MessageType]]>;

describe('the message map', () => {
  it.each(rows)('%s has a payload schema, an answer schema and senders of known kinds', (_type, row) => {
    expect(row.input).toBeInstanceOf(z.ZodType);
    expect(row.output).toBeInstanceOf(z.ZodType);
    expect(row.senders.length).toBeGreaterThan(0);
    for (const kind of row.senders) expect(SENDER_KINDS).toContain(kind);
  });

  it.each(rows)('%s: the direction in its name agrees with its senders', (type, row) => {
    const direction = type.split(':')[0];
    const allowed = { 'ui-bg': ['popup', 'options'], 'cs-bg': ['content-script'], 'bg-cs': ['background'] }[direction!];
    expect(allowed, `${type} names no known direction`).toBeDefined();
    for (const kind of row.senders) expect(allowed).toContain(kind);
  });

  it('the bg-cs rows are the ones the content scripts check (to-content.ts), and only the background sends them', () => {
    const bgCs = rows.filter(([type]) => type.startsWith('bg-cs:'));
    expect(bgCs.map(([type]) => type)).toEqual(Object.keys(TO_CONTENT));
    for (const [, row] of bgCs) expect(row.senders).toEqual(['background']);
    expect(rows.filter(([, row]) => (row.senders as readonly string[]).includes('background')).map(([type]) => type)).toEqual(Object.keys(TO_CONTENT));
  });

  it('the background answers every message but the bg-cs ones', () => {
    expect(TO_BACKGROUND).toEqual(rows.map(([type]) => type).filter((type) => !type.startsWith('bg-cs:')));
  });
});

describe('the types derived from the map', () => {
  it('the protocol map: payloads in, a Reply of the answer back (bg-cs: nothing back)', () => {
    expectTypeOf<ProtocolMap['ui-bg:approve']>().toEqualTypeOf<(data: { actionId: string; wa?: WebAuthnAssertion | undefined }) => Reply<{ state: string }>>();
    expectTypeOf<ProtocolMap['cs-bg:verify-posts']>().returns.toEqualTypeOf<Reply<Verdict[]>>();
    expectTypeOf<ProtocolMap['ui-bg:get-state']>().returns.toEqualTypeOf<Reply<ExtensionStateView>>();
    expectTypeOf<ProtocolMap['cs-bg:badge-config']>().returns.toEqualTypeOf<Reply<BadgeConfig>>();
    expectTypeOf<ProtocolMap['cs-bg:lookup-receipts']>().toEqualTypeOf<(data: { posts: Array<{ cdg: string; author: string; marked: boolean }> }) => Reply<Verdict[]>>();
    expectTypeOf<ProtocolMap['ui-bg:list-log']>().returns.toEqualTypeOf<Reply<LogEvent[]>>();
    expectTypeOf<ProtocolMap['bg-cs:release']>().toEqualTypeOf<(data: ReleaseData) => void>();
    expectTypeOf<ProtocolMap['bg-cs:settle']>().toEqualTypeOf<(data: SettleData) => void>();
    // An empty payload may be left out, as before.
    expectTypeOf<Parameters<ProtocolMap['ui-bg:get-state']>>().toEqualTypeOf<[data?: Record<string, never> | undefined]>();
    expectTypeOf<DataOf<'ui-bg:save-settings'>>().toEqualTypeOf<{ verifierUrl?: string | undefined; badgeMark?: string | undefined; newBadgePattern?: true | undefined }>();
    expectTypeOf<ValueOf<'ui-bg:sync-now'>>().toEqualTypeOf<SyncResult>();
  });

  it('the views are the types their producers declare', () => {
    expectTypeOf<PolicyView['policy']>().toEqualTypeOf<EffectivePolicy>();
    expectTypeOf<PolicyView['sources']>().toEqualTypeOf<Record<keyof EffectivePolicy, PolicySource[]>>();
    expectTypeOf<PolicyView['adapterSources']>().toEqualTypeOf<Record<string, AdapterSource>>();
    expectTypeOf<PolicyView['problems']>().toEqualTypeOf<PolicyProblem[]>();
    expectTypeOf<ExtensionStateView['verifierStatus']>().toEqualTypeOf<VerifierStatusView>();
    expectTypeOf<ExtensionStateView['badgeMark']>().toEqualTypeOf<BadgeMark>();
    expectTypeOf<BadgeConfig['posts']>().toEqualTypeOf<NonNullable<SiteAdapter['posts']> | null>();
  });
});

describe('cs-bg:lookup-receipts', () => {
  const { input } = MESSAGES['cs-bg:lookup-receipts'];
  const cdg = 'A'.repeat(43);

  it('carries each post\'s text digest, author and marker, and only content scripts send it', () => {
    expect(input.safeParse({ posts: [{ cdg, author: 'wiki-helper', marked: false }] }).success).toBe(true);
    expect(MESSAGES['cs-bg:lookup-receipts'].senders).toEqual(['content-script']);
  });

  it.each([
    ['the post\'s text', { posts: [{ cdg, author: '', marked: false, content: 'the text' }] }],
    ['a site of its own (the site is the sender\'s page)', { site: 'http://other.corp', posts: [{ cdg, author: '', marked: false }] }],
    ['a digest that is not one', { posts: [{ cdg: 'short', author: '', marked: false }] }],
    ['more than 500 posts', { posts: Array(501).fill({ cdg, author: '', marked: false }) }],
  ])('refuses a payload with %s', (_name, payload) => {
    expect(input.safeParse(payload).success).toBe(false);
  });
});

describe('user presence', () => {
  const wa = { id: 'Y3JlZA', ad: 'YXV0aA', cd: 'Y2xpZW50', sig: 'c2ln' };

  it('only the popup asks for a presence challenge, and only the options page for the enrollment challenge', () => {
    expect(MESSAGES['ui-bg:presence-challenge'].senders).toEqual(['popup']);
    expect(MESSAGES['ui-bg:enrollment-challenge'].senders).toEqual(['options']);
  });

  it('an approval carries at most an assertion beside the action\'s id, of the protocol\'s shape', () => {
    const { input } = MESSAGES['ui-bg:approve'];
    expect(input.safeParse({ actionId: 'a1', wa }).success).toBe(true);
    expect(input.safeParse({ actionId: 'a1' }).success).toBe(true);
    expect(input.safeParse({ actionId: 'a1', wa: { ...wa, sig: 'not base64url!' } }).success).toBe(false);
    expect(input.safeParse({ actionId: 'a1', wa: { ...wa, extra: 'x' } }).success).toBe(false);
    expect(MESSAGES['ui-bg:agent-proposals-decide'].input.safeParse({ id: `prp_${'A'.repeat(22)}`, approve: true, wa }).success).toBe(true);
  });

  it('a presence challenge names a held action or an agent proposal, nothing else', () => {
    const { input } = MESSAGES['ui-bg:presence-challenge'];
    expect(input.safeParse({ kind: 'held', id: 'a1' }).success).toBe(true);
    expect(input.safeParse({ kind: 'proposal', id: `prp_${'A'.repeat(22)}` }).success).toBe(true);
    expect(input.safeParse({ kind: 'proposal', id: 'a1' }).success).toBe(false);
    expect(input.safeParse({ kind: 'held', id: 'a1', challenge: 'chosen-by-the-page' }).success).toBe(false);
  });

  it('enrollment carries a credential only with the RP id it was created for', () => {
    const { input } = MESSAGES['ui-bg:enroll'];
    const base = { verifierUrl: 'https://verifier.corp.example', code: 'ABCD-1234', label: 'laptop' };
    const credential = { id: 'Y3JlZA', rawId: 'Y3JlZA', type: 'public-key', response: { attestationObject: 'YXR0', clientDataJSON: 'Y2xpZW50' }, clientExtensionResults: {} };
    expect(input.safeParse(base).success).toBe(true);
    expect(input.safeParse({ ...base, credential, rpId: 'leelpbfgmamkjjkciaifjeihgadjnmgj' }).success).toBe(true);
    expect(input.safeParse({ ...base, credential }).success).toBe(false);
    expect(input.safeParse({ ...base, rpId: 'leelpbfgmamkjjkciaifjeihgadjnmgj' }).success).toBe(false);
  });
});
