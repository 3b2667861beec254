// Issued receipts kept for lookup, on SQLite and PostgreSQL: found by (site, cdg) exactly, newest
// first, at most five per cdg, nothing from another site. Node only (tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupReceipts, receiptRow } from '../../../server/store/receipts';
import { DATABASES, T0, startVerifier } from '../../helpers/verifier';
import type { TestVerifier } from '../../helpers/verifier';

const FORUM = 'https://forum.corp.example';
const WIKI = 'https://wiki.corp.example';
const cdg = (c: string) => c.repeat(43);
let next = 0;
const jti = () => `jti${String(next++).padStart(19, '0')}`;

describe.each(DATABASES)('receipts store (%s)', (kind) => {
  let v: TestVerifier;
  beforeAll(async () => {
    v = await startVerifier(kind);
  });
  afterAll(() => v.close());

  async function store(site: string, c: string | undefined, receipt: string, at: number): Promise<void> {
    await v.database.db.insertInto('receipts').values(receiptRow({ jti: jti(), site, cdg: c, receipt }, at)).execute();
  }

  it('answers only the cdgs that have receipts on the site, each newest first', async () => {
    await store(FORUM, cdg('a'), 'r-a-1', T0 + 1);
    await store(FORUM, cdg('a'), 'r-a-3', T0 + 3);
    await store(FORUM, cdg('a'), 'r-a-2', T0 + 2);
    await store(FORUM, cdg('b'), 'r-b-1', T0 + 1);
    expect(await lookupReceipts(v.database.db, FORUM, [cdg('a'), cdg('b'), cdg('c')])).toEqual({ [cdg('a')]: ['r-a-3', 'r-a-2', 'r-a-1'], [cdg('b')]: ['r-b-1'] });
    expect(await lookupReceipts(v.database.db, FORUM, [cdg('c')])).toEqual({});
  });

  it('never answers another site\'s receipt for the same text', async () => {
    await store(WIKI, cdg('d'), 'r-wiki-d', T0);
    expect(await lookupReceipts(v.database.db, FORUM, [cdg('d')])).toEqual({});
    expect(await lookupReceipts(v.database.db, WIKI, [cdg('d')])).toEqual({ [cdg('d')]: ['r-wiki-d'] });
    // The site is compared exactly: another scheme or port is another site.
    expect(await lookupReceipts(v.database.db, 'http://wiki.corp.example', [cdg('d')])).toEqual({});
    expect(await lookupReceipts(v.database.db, 'https://wiki.corp.example:8443', [cdg('d')])).toEqual({});
  });

  it('answers at most five receipts per cdg, the newest five, while other cdgs keep theirs', async () => {
    for (let i = 1; i <= 8; i++) await store(FORUM, cdg('e'), `r-e-${i}`, T0 + i * 10);
    await store(FORUM, cdg('f'), 'r-f-1', T0);
    const found = await lookupReceipts(v.database.db, FORUM, [cdg('e'), cdg('f')]);
    expect(found).toEqual({ [cdg('e')]: ['r-e-8', 'r-e-7', 'r-e-6', 'r-e-5', 'r-e-4'], [cdg('f')]: ['r-f-1'] });
    expect(await lookupReceipts(v.database.db, FORUM, [cdg('e')], 2)).toEqual({ [cdg('e')]: ['r-e-8', 'r-e-7'] });
  });

  it('keeps receipts without a cdg (routes with no content field) but never answers them', async () => {
    await store(FORUM, undefined, 'r-no-cdg', T0);
    const rows = await v.database.db.selectFrom('receipts').select(['cdg', 'receipt']).where('receipt', '=', 'r-no-cdg').execute();
    expect(rows).toEqual([{ cdg: null, receipt: 'r-no-cdg' }]);
    expect(await lookupReceipts(v.database.db, FORUM, [])).toEqual({});
  });

  it('a receipt jti is stored once: a second row with it is refused', async () => {
    const row = receiptRow({ jti: jti(), site: FORUM, cdg: cdg('g'), receipt: 'r-g' }, T0);
    await v.database.db.insertInto('receipts').values(row).execute();
    await expect(v.database.db.insertInto('receipts').values(row).execute()).rejects.toThrow();
  });
});
