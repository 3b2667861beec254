// Kysely queries built and compiled once, then run with fresh arguments as bound parameters: for the
// verifier's hot reads the query builder cost more than the database. Same SQL on SQLite and
// PostgreSQL as the builder would produce. Node only.
import { createHash } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type pg from 'pg';

/**
 * Compiles `build(placeholders)` once and returns it as a function of its arguments. Each argument
 * is passed to `build` as a unique placeholder string; every placeholder must come out as a bound
 * parameter (never in the SQL text), and at run time each is replaced by the call's value. Throws
 * TypeError at preparation if that does not hold.
 */
export type Prepare = <N extends string, R>(names: readonly N[], build: (args: Record<N, string>) => Compilable<R>) => (args: Record<N, string>) => Promise<R[]>;

/** How a compiled query's SQL is run with one call's parameters. */
type Runner = <R>(compiled: CompiledQuery<R>) => (parameters: unknown[]) => Promise<R[]>;

/** A parameter of the compiled query: one of the call's arguments, or a constant of the query. */
type Slot<N extends string> = { argument: N } | { constant: unknown };

function preparer(run: Runner): Prepare {
  return <N extends string, R>(names: readonly N[], build: (args: Record<N, string>) => Compilable<R>) => {
    const placeholders = Object.fromEntries(names.map((name) => [name, `\u0000countersign-argument:${name}\u0000`])) as Record<N, string>;
    const compiled: CompiledQuery<R> = build(placeholders).compile();
    const slots: Slot<N>[] = compiled.parameters.map((value) => {
      const name = names.find((n) => placeholders[n] === value);
      return name === undefined ? { constant: value } : { argument: name };
    });
    for (const name of names) {
      if (compiled.sql.includes(placeholders[name]) || !slots.some((s) => 'argument' in s && s.argument === name)) {
        throw new TypeError(`prepared query: argument ${name} is not a bound parameter`);
      }
    }
    const execute = run(compiled);
    return (args: Record<N, string>) => execute(slots.map((slot) => ('argument' in slot ? args[slot.argument] : slot.constant)));
  };
}

/**
 * Prepared reads on SQLite's one connection: a better-sqlite3 statement run at once, without the
 * driver's mutex and promise round; but through Kysely's driver (behind its mutex) while a transaction
 * is open on the connection — one that awaits between its statements (log ingest, admin writes) — so
 * a read never sees another writer's uncommitted rows. Reads only (every prepared query is a SELECT).
 */
export function sqlitePrepare<DB>(db: Kysely<DB>, sqlite: SQLite.Database): Prepare {
  return preparer(<R>(compiled: CompiledQuery<R>) => {
    const statement = sqlite.prepare(compiled.sql);
    if (!statement.reader) throw new TypeError('sqlitePrepare: only reads are prepared');
    return async (parameters: unknown[]) => (sqlite.inTransaction ? (await db.executeQuery<R>({ ...compiled, parameters })).rows : (statement.all(...parameters) as R[]));
  });
}

/** Prepared queries run as named statements on the pool (pgStatement). */
export function pgPrepare(pool: pg.Pool): Prepare {
  return preparer(<R>(compiled: CompiledQuery<R>) => {
    const statement = pgStatement(compiled.sql, pool);
    return (parameters: unknown[]) => statement<R>(parameters);
  });
}

/**
 * A PostgreSQL statement run by name: each pooled connection parses and plans it once, then only
 * binds and executes it (an unnamed statement is parsed and planned on every call). The name is
 * derived from the text, so one name never means two statements.
 */
export function pgStatement(text: string, pool: pg.Pool): <R>(values: unknown[]) => Promise<R[]> {
  const name = `cs_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
  return async <R>(values: unknown[]) => (await pool.query<R & pg.QueryResultRow>({ name, text, values })).rows;
}
