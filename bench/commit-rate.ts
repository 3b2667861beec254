// The databases' own write rates, for docs/scaling.md's capacity model: durable commits per second of
// one small row each (16 clients on PostgreSQL; one connection, synchronous=FULL, on SQLite), and rows
// per second when 16 rows share a commit (what the verifier's group commit does). Node only (bench).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';

export interface CommitRate {
  /** Durable commits per second, one row each. */
  commits: number;
  /** Rows per second, 16 rows per commit. */
  groupedRows: number;
}

const ROW = (i: number) => [`jti-${process.pid}-${i}-${Math.random().toString(36).slice(2)}`, 2_000_000_000];
const GROUP = 16;
const CLIENTS = 16;

export async function postgresCommitRate(url: string, seconds = 3): Promise<CommitRate> {
  const pool = new pg.Pool({ connectionString: url, max: CLIENTS });
  try {
    await pool.query('CREATE TABLE IF NOT EXISTS bench_commits (jti text PRIMARY KEY, expires_at bigint NOT NULL)');
    let i = 0;
    const run = async (rowsPerCommit: number) => {
      let rows = 0;
      const end = performance.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (performance.now() < end) {
            const values = Array.from({ length: rowsPerCommit }, () => ROW(i++));
            const sql = `INSERT INTO bench_commits (jti, expires_at) VALUES ${values.map((_, k) => `($${2 * k + 1}, $${2 * k + 2})`).join(', ')}`;
            await pool.query(sql, values.flat());
            rows += rowsPerCommit;
          }
        }),
      );
      return rows / seconds;
    };
    const commits = await run(1);
    const groupedRows = await run(GROUP);
    await pool.query('DROP TABLE bench_commits');
    return { commits, groupedRows };
  } finally {
    await pool.end();
  }
}

export function sqliteCommitRate(seconds = 3): CommitRate {
  const dir = mkdtempSync(join(tmpdir(), 'cs-commit-'));
  const db = new SQLite(join(dir, 'c.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE c (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)');
    const insert = db.prepare('INSERT INTO c (jti, expires_at) VALUES (?, ?)');
    let i = 0;
    const run = (rowsPerCommit: number) => {
      const many = db.transaction((n: number) => {
        for (let k = 0; k < n; k++) insert.run(...ROW(i++));
      });
      let rows = 0;
      const end = performance.now() + seconds * 1000;
      while (performance.now() < end) {
        many(rowsPerCommit);
        rows += rowsPerCommit;
      }
      return rows / seconds;
    };
    return { commits: run(1), groupedRows: run(GROUP) };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
