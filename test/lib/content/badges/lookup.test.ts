// The page's side of the receipt lookup: each post's `cdg` is the digest receipts bind (NFC, runs of
// whitespace collapsed, trimmed, SHA-256, base64url — checked here against node:crypto, not the
// protocol's own code), the message carries digests and never the text, one message goes per batch of
// up to 200 new digests, and every answer is kept for the page load: a post read again, or another
// post with the same text and author, costs no second question, and a lookup that failed is not
// retried from this page. Node only (tests).
import { createHash } from 'node:crypto';
import { parseHTML } from 'linkedom';
import { describe, expect, it, vi } from 'vitest';
import { receiptLookup } from '@/lib/content/badges/lookup';
import type { AskLookup } from '@/lib/content/badges/lookup';
import type { Read } from '@/lib/content/badges/post-reader';
import type { Verdict } from '@/lib/messaging/contract';

const { document } = parseHTML('<html><body></body></html>');
const reading = (content: string, author = '', marked = false): Read => {
  const el = document.createElement('div');
  return { el, anchor: el, content, item: { receipt: null, author, marked, content: '' }, lookup: true };
};
const verified = (agent: string): Verdict => ({ state: 'verified', agent, approver: 'alice', time: 1, checks: [] });
/** A background that answers every post verified, its agent naming the post's digest. */
const background = () => vi.fn<AskLookup>(async (posts) => ({ ok: true, value: posts.map((p) => verified(p.cdg)) }));
const digestOf = (normalised: string) => createHash('sha256').update(normalised, 'utf8').digest('base64url');
const settle = async (judged: Awaited<ReturnType<ReturnType<typeof receiptLookup>>>) => Promise.all(judged.map(async (j) => ({ reads: j.reads, verdicts: await j.verdicts })));

describe('receiptLookup', () => {
  it('each post\'s cdg is the digest of its normalised text (NFC, whitespace runs collapsed, trimmed); the text itself is not sent', async () => {
    const ask = background();
    const text = '  Cafe\u0301 au\n\n\tlait\u00a0 please ';
    await receiptLookup(ask)([reading(text, 'wiki-helper', true)]);
    expect(ask).toHaveBeenCalledTimes(1);
    expect(ask.mock.calls[0]![0]).toEqual([{ cdg: digestOf('Caf\u00e9 au lait please'), author: 'wiki-helper', marked: true }]);
    expect(JSON.stringify(ask.mock.calls)).not.toContain('lait');
  });

  it('one message per batch of up to 200 new digests, every one sent before the answers are awaited', async () => {
    const ask = vi.fn<AskLookup>(() => new Promise(() => undefined));
    const judged = await receiptLookup(ask)(Array.from({ length: 450 }, (_, i) => reading(`post ${i}`)));
    expect(ask.mock.calls.map(([posts]) => posts.length)).toEqual([200, 200, 50]);
    expect(judged.map((j) => j.reads.length)).toEqual([200, 200, 50]);
  });

  it('each post gets the verdict answered for its own digest, in order', async () => {
    const reads = [reading('one'), reading('two')];
    const [group] = await settle(await receiptLookup(background())(reads));
    expect(group!.verdicts.map((v) => v?.agent)).toEqual([digestOf('one'), digestOf('two')]);
  });

  it('answers are kept for the page load: the same posts read again, or the same text by the same author, ask nothing more', async () => {
    const ask = background();
    const lookup = receiptLookup(ask);
    await settle(await lookup([reading('same', 'bob'), reading('same', 'bob'), reading('other')]));
    expect(ask.mock.calls.map(([posts]) => posts.length)).toEqual([2]);
    const again = await settle(await lookup([reading('same', 'bob'), reading('other')]));
    expect(ask).toHaveBeenCalledTimes(1);
    expect(again.flatMap((g) => g.verdicts.map((v) => v?.agent))).toEqual([digestOf('same'), digestOf('other')]);
  });

  it('the same text by another author, or marked, is asked about apart (a post with no receipt found is judged by its author)', async () => {
    const ask = background();
    await receiptLookup(ask)([reading('same', 'bob'), reading('same', 'wiki-helper'), reading('same', 'bob', true)]);
    expect(ask.mock.calls[0]![0]).toHaveLength(3);
  });

  it.each([
    ['the message could not be sent', async () => null],
    ['the background refused it', async () => ({ ok: false as const, code: 'not_protected' as const, message: 'no' })],
  ])('%s: no badge, and this page does not ask again (no storm of failing questions)', async (_name, answer) => {
    const ask = vi.fn<AskLookup>(answer);
    const lookup = receiptLookup(ask);
    const [first] = await settle(await lookup([reading('x')]));
    expect(first!.verdicts).toEqual([null]);
    const [second] = await settle(await lookup([reading('x')]));
    expect(second!.verdicts).toEqual([null]);
    expect(ask).toHaveBeenCalledTimes(1);
  });

  it('nothing to look up: no message', async () => {
    const ask = background();
    expect(await receiptLookup(ask)([])).toEqual([]);
    expect(ask).not.toHaveBeenCalled();
  });
});
