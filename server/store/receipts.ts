// Issued receipts kept for lookup (DESIGN.md, "The gateway"): the row each allowed verify writes in
// the same transaction as its decision (store/decisions), and the readers' lookup by site and cdg.
// Node only.
import type { Kysely } from 'kysely';
import { RECEIPT_LOOKUP_LIMITS } from '../../lib/protocol/api';
import type { Database, ReceiptTable } from '../db/schema';

export type ReceiptRow = ReceiptTable;

/** The `receipts` row of one issued receipt: `site` is the token's `aud` (the tool's origin). */
export function receiptRow(input: { jti: string; site: string; cdg: string | undefined; receipt: string }, now: number): ReceiptRow {
  return { jti: input.jti, site: input.site, cdg: input.cdg ?? null, receipt: input.receipt, issued_at: now };
}

/**
 * The receipts issued on `site` for each of `cdgs` that has any: newest first, at most `perCdg` each
 * (ties in time broken by jti, so the answer is stable). The ranking runs in the database over the
 * (site, cdg, issued_at) index, so a text approved many times costs no more than `perCdg` rows out.
 */
export async function lookupReceipts(
  db: Kysely<Database>,
  site: string,
  cdgs: readonly string[],
  perCdg: number = RECEIPT_LOOKUP_LIMITS.perCdg,
): Promise<Record<string, string[]>> {
  if (cdgs.length === 0) return {};
  const ranked = db
    .selectFrom('receipts')
    .select((eb) => [
      'cdg',
      'receipt',
      'issued_at',
      'jti',
      eb.fn
        .agg<number>('row_number')
        .over((ob) => ob.partitionBy('cdg').orderBy('issued_at', 'desc').orderBy('jti', 'desc'))
        .as('rank'),
    ])
    .where('site', '=', site)
    .where('cdg', 'in', [...cdgs]);
  const rows = await db
    .selectFrom(ranked.as('r'))
    .select(['cdg', 'receipt'])
    .where('rank', '<=', perCdg)
    .orderBy('cdg')
    .orderBy('rank')
    .execute();
  const out: Record<string, string[]> = {};
  for (const row of rows) (out[row.cdg!] ??= []).push(row.receipt);
  return out;
}
