// Typed, versioned rows of the database's `settings` table, shaped like WXT's `storage.defineItem`
// (a schema, a fallback, a version with migrations; get, set, remove, watch). Not browser.storage:
// content scripts can read and write storage.local (Firefox cannot restrict it), never this database;
// and a row can be written in the caller's Dexie transaction, with the log event it goes with.
// Extension origin only.
import { liveQuery } from 'dexie';
import type { z } from 'zod';
import { db } from './db';
import type { SettingRow } from './db';

interface CommonOptions<T> {
  /** What a stored value must be once migrated; one that is not reads as `invalid` says, or as absent. */
  schema: z.ZodType<T>;
  /** The version of the value's format this build writes; rows without one are version 1. */
  version?: number;
  /** `migrations[n]` turns a version n−1 value into a version n one; run on read, the result stored. */
  migrations?: Record<number, (old: unknown) => unknown>;
  /**
   * What a stored value reads as when it fails the schema, a migration throws, or a newer build wrote
   * it: by default as if there were none (the fallback, or a value made by `init`).
   */
  invalid?: (stored: unknown) => T;
}

interface WithFallback<T> {
  /** What an absent row reads as; nothing is stored. */
  fallback: T;
  init?: never;
}

interface WithInit<T> {
  /** Makes the value of an absent (or unreadable) row on first read, stored in that read's transaction, so two first reads agree. */
  init: () => T;
  fallback?: never;
}

export type SettingOptions<T> = CommonOptions<T> & (WithFallback<T> | WithInit<T>);

export interface Setting<T> {
  readonly key: string;
  /**
   * The value, migrated (and stored so) if an older build wrote it. Joins the caller's transaction, if
   * any; one that may migrate or `init` must be `rw` over `settings`.
   */
  getValue(): Promise<T>;
  /** Stores the value at this build's version. Joins the caller's transaction, if any. */
  setValue(value: T): Promise<void>;
  removeValue(): Promise<void>;
  /** Calls `cb` on every change of the value (not for the value it has now); returns what stops it. */
  watch(cb: (value: T, previous: T) => void): () => void;
}

type Read<T> = { kind: 'absent' } | { kind: 'invalid'; stored: unknown } | { kind: 'valid'; value: T; migrated: boolean };

export function defineSetting<T>(key: string, options: SettingOptions<T>): Setting<T> {
  const version = options.version ?? 1;

  function decode(row: SettingRow | undefined): Read<T> {
    if (row === undefined) return { kind: 'absent' };
    const from = row.v ?? 1;
    if (!Number.isInteger(from) || from < 1 || from > version) return { kind: 'invalid', stored: row.value };
    let value = row.value;
    try {
      for (let n = from + 1; n <= version; n++) {
        const migrate = options.migrations?.[n];
        if (migrate) value = migrate(value);
      }
    } catch {
      return { kind: 'invalid', stored: row.value };
    }
    const parsed = options.schema.safeParse(value);
    return parsed.success ? { kind: 'valid', value: parsed.data, migrated: from < version } : { kind: 'invalid', stored: row.value };
  }

  /** Whether reading this row stores something: a migrated value, or one `init` makes. */
  const writes = (read: Read<T>) => (read.kind === 'valid' ? read.migrated : !(read.kind === 'invalid' && options.invalid) && options.init !== undefined);
  /** What a row reads as without making anything: null for an `init` setting with nothing stored. */
  function peek(read: Read<T>): { value: T } | null {
    if (read.kind === 'valid') return { value: read.value };
    if (read.kind === 'invalid' && options.invalid) return { value: options.invalid(read.stored) };
    return options.init ? null : { value: options.fallback as T };
  }
  const put = (value: T) => db().settings.put({ key, value, v: version }).then(() => undefined);

  return {
    key,
    async getValue() {
      const first = decode(await db().settings.get(key));
      if (!writes(first)) return peek(first)!.value;
      // Read again inside a write transaction: two first reads at once store one value.
      return db().transaction('rw', db().settings, async () => {
        const read = decode(await db().settings.get(key));
        const seen = peek(read);
        // peek is null only for an `init` setting with nothing it can read.
        const value = seen ? seen.value : options.init!();
        if (writes(read)) await put(value);
        return value;
      });
    },
    setValue: put,
    async removeValue() {
      await db().settings.delete(key);
    },
    watch(cb) {
      // Read only (a live query may not write): an old row is migrated in memory here.
      let previous: { value: T } | null = null;
      const subscription = liveQuery(async () => peek(decode(await db().settings.get(key)))).subscribe({
        next(seen) {
          if (!seen) return;
          const last = previous;
          previous = seen;
          if (last !== null && JSON.stringify(last.value) !== JSON.stringify(seen.value)) cb(seen.value, last.value);
        },
        error() {
          // The database went away (a test's, or the context's): nothing more to watch.
        },
      });
      return () => subscription.unsubscribe();
    },
  };
}
