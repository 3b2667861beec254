// The demo tools' data (topics, replies with their receipts, datasets and their access history,
// sessions) in one SQLite file through better-sqlite3. Node only.
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';

export type AuthorKind = 'person' | 'assistant';
export type Visibility = 'team-only' | 'all-employees';
export type ToolName = 'forum' | 'console';

export interface Topic {
  id: number;
  title: string;
  createdAt: number;
}

export interface TopicSummary extends Topic {
  replyCount: number;
}

export interface Reply {
  id: number;
  topicId: number;
  /** The session user's id, or the agent's id (`agent:…`). */
  author: string;
  kind: AuthorKind;
  body: string;
  /** The provenance receipt the verifier returned when it allowed the post; null for an unapproved (person's) post. */
  receipt: string | null;
  traceId: string | null;
  createdAt: number;
}

export interface NewReply {
  author: string;
  kind: AuthorKind;
  body: string;
  receipt?: string | null;
  traceId?: string | null;
}

export interface DatasetAccess {
  visibility: Visibility;
  groups: string[];
}

export interface Dataset {
  id: string;
  name: string;
  description: string;
  access: DatasetAccess;
}

export interface AccessChange extends DatasetAccess {
  id: number;
  datasetId: string;
  changedBy: string;
  receipt: string | null;
  traceId: string | null;
  createdAt: number;
}

/** People who can sign in, and the assistant account that AI-written posts appear under. */
export interface DemoUser {
  id: string;
  name: string;
  kind: AuthorKind;
}

/** An assistant's own credentials at the tools: it never uses a person's session. */
export interface DemoAgent {
  id: string;
  key: string;
  name: string;
}

export const USERS: readonly DemoUser[] = [
  { id: 'alice', name: 'Alice (payroll team lead)', kind: 'person' },
  { id: 'bob', name: 'Bob (finance analyst)', kind: 'person' },
  { id: 'assistant', name: 'Forum assistant (AI)', kind: 'assistant' },
];

export const AGENTS: readonly DemoAgent[] = [
  { id: 'agent:forum-helper', key: 'forum-helper-key', name: 'Forum assistant (AI)' },
  { id: 'agent:access-helper', key: 'access-helper-key', name: 'Access assistant (AI)' },
];

/** Sessions older than this are gone: a demo sign-in lasts a working day. */
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS topics (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS replies (
  id INTEGER PRIMARY KEY,
  topic_id INTEGER NOT NULL REFERENCES topics(id),
  author TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('person', 'assistant')),
  body TEXT NOT NULL,
  receipt TEXT,
  trace_id TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS replies_by_topic ON replies (topic_id, id);
CREATE TABLE IF NOT EXISTS datasets (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  visibility TEXT NOT NULL CHECK (visibility IN ('team-only', 'all-employees')),
  groups_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS access_changes (
  id INTEGER PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES datasets(id),
  changed_by TEXT NOT NULL,
  visibility TEXT NOT NULL,
  groups_json TEXT NOT NULL,
  receipt TEXT,
  trace_id TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  tool TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
`;

interface ReplyRow {
  id: number;
  topic_id: number;
  author: string;
  kind: AuthorKind;
  body: string;
  receipt: string | null;
  trace_id: string | null;
  created_at: number;
}

interface AccessChangeRow {
  id: number;
  dataset_id: string;
  changed_by: string;
  visibility: Visibility;
  groups_json: string;
  receipt: string | null;
  trace_id: string | null;
  created_at: number;
}

const toReply = (r: ReplyRow): Reply => ({
  id: r.id,
  topicId: r.topic_id,
  author: r.author,
  kind: r.kind,
  body: r.body,
  receipt: r.receipt,
  traceId: r.trace_id,
  createdAt: r.created_at,
});

export class DemoStore {
  readonly db: Database.Database;
  readonly users = USERS;
  readonly agents = AGENTS;
  private readonly now: () => number;

  constructor(file = ':memory:', options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
    this.db = new Database(file);
    if (file !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
  }

  /** Seeds the incident's starting point; tables that already hold data are left alone. */
  seed(): void {
    this.db.transaction(() => {
      if (this.count('topics') === 0) {
        const payroll = this.createTopic('Payroll dataset access request');
        this.addReply(payroll.id, { author: 'bob', kind: 'person', body: 'I need read access to payroll-2026 for the quarterly audit. Who can grant it?' });
        this.addReply(payroll.id, {
          author: 'alice',
          kind: 'person',
          body: 'payroll-2026 stays team-only. Ask in the Access console for a time-boxed grant to your group and the payroll team will review it.',
        });
        const welcome = this.createTopic('Welcome to Intraforum');
        this.addReply(welcome.id, { author: 'alice', kind: 'person', body: 'Questions about internal data and tools go here.' });
      }
      if (this.count('datasets') === 0) {
        this.insertDataset({ id: 'payroll-2026', name: 'Payroll 2026', description: 'Salaries and bonuses of every employee, 2026.', access: { visibility: 'team-only', groups: ['payroll-team'] } });
        this.insertDataset({ id: 'office-map', name: 'Office map', description: 'Desks and meeting rooms.', access: { visibility: 'all-employees', groups: [] } });
      }
    })();
  }

  // ---- forum ----

  createTopic(title: string): Topic {
    const createdAt = this.now();
    const { lastInsertRowid } = this.db.prepare('INSERT INTO topics (title, created_at) VALUES (?, ?)').run(title, createdAt);
    return { id: Number(lastInsertRowid), title, createdAt };
  }

  listTopics(): TopicSummary[] {
    const rows = this.db
      .prepare('SELECT t.id, t.title, t.created_at, (SELECT COUNT(*) FROM replies r WHERE r.topic_id = t.id) AS reply_count FROM topics t ORDER BY t.id')
      .all() as Array<{ id: number; title: string; created_at: number; reply_count: number }>;
    return rows.map((r) => ({ id: r.id, title: r.title, createdAt: r.created_at, replyCount: r.reply_count }));
  }

  getTopic(id: number): Topic | undefined {
    const row = this.db.prepare('SELECT id, title, created_at FROM topics WHERE id = ?').get(id) as { id: number; title: string; created_at: number } | undefined;
    return row && { id: row.id, title: row.title, createdAt: row.created_at };
  }

  /** The topic's replies, oldest first, each with the receipt it was stored with. */
  listReplies(topicId: number): Reply[] {
    return (this.db.prepare('SELECT * FROM replies WHERE topic_id = ? ORDER BY id').all(topicId) as ReplyRow[]).map(toReply);
  }

  getReply(id: number): Reply | undefined {
    const row = this.db.prepare('SELECT * FROM replies WHERE id = ?').get(id) as ReplyRow | undefined;
    return row && toReply(row);
  }

  addReply(topicId: number, reply: NewReply): Reply {
    const createdAt = this.now();
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO replies (topic_id, author, kind, body, receipt, trace_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(topicId, reply.author, reply.kind, reply.body, reply.receipt ?? null, reply.traceId ?? null, createdAt);
    return { id: Number(lastInsertRowid), topicId, author: reply.author, kind: reply.kind, body: reply.body, receipt: reply.receipt ?? null, traceId: reply.traceId ?? null, createdAt };
  }

  /** Rewrites a stored body behind the tool's back (what a tampering database admin would do). */
  updateReplyBody(id: number, body: string): void {
    const { changes } = this.db.prepare('UPDATE replies SET body = ? WHERE id = ?').run(body, id);
    if (changes !== 1) throw new Error(`no reply ${id}`);
  }

  /**
   * Adds `count` replies in one transaction (a 2,000-post topic takes milliseconds). `make(i)` gives
   * each one; by default people's posts "Post i".
   */
  addPosts(topicId: number, count: number, make: (i: number) => NewReply = (i) => ({ author: i % 2 ? 'bob' : 'alice', kind: 'person', body: `Post ${i + 1}` })): void {
    const insert = this.db.prepare('INSERT INTO replies (topic_id, author, kind, body, receipt, trace_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      const createdAt = this.now();
      for (let i = 0; i < count; i++) {
        const r = make(i);
        insert.run(topicId, r.author, r.kind, r.body, r.receipt ?? null, r.traceId ?? null, createdAt);
      }
    })();
  }

  // ---- access console ----

  listDatasets(): Dataset[] {
    const rows = this.db.prepare('SELECT * FROM datasets ORDER BY id').all() as Array<{ id: string; name: string; description: string; visibility: Visibility; groups_json: string }>;
    return rows.map((r) => ({ id: r.id, name: r.name, description: r.description, access: { visibility: r.visibility, groups: JSON.parse(r.groups_json) as string[] } }));
  }

  getDataset(id: string): Dataset | undefined {
    return this.listDatasets().find((d) => d.id === id);
  }

  datasetAccess(id: string): DatasetAccess | undefined {
    const row = this.db.prepare('SELECT visibility, groups_json FROM datasets WHERE id = ?').get(id) as { visibility: Visibility; groups_json: string } | undefined;
    return row && { visibility: row.visibility, groups: JSON.parse(row.groups_json) as string[] };
  }

  /** Applies an access change and records who made it, with the receipt of its approval. */
  setDatasetAccess(id: string, access: DatasetAccess, by: { changedBy: string; receipt?: string | null; traceId?: string | null }): AccessChange {
    const createdAt = this.now();
    const groups = JSON.stringify(access.groups);
    return this.db.transaction(() => {
      const { changes } = this.db.prepare('UPDATE datasets SET visibility = ?, groups_json = ? WHERE id = ?').run(access.visibility, groups, id);
      if (changes !== 1) throw new Error(`no dataset ${id}`);
      const { lastInsertRowid } = this.db
        .prepare('INSERT INTO access_changes (dataset_id, changed_by, visibility, groups_json, receipt, trace_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(id, by.changedBy, access.visibility, groups, by.receipt ?? null, by.traceId ?? null, createdAt);
      return { id: Number(lastInsertRowid), datasetId: id, changedBy: by.changedBy, ...access, receipt: by.receipt ?? null, traceId: by.traceId ?? null, createdAt };
    })();
  }

  accessHistory(datasetId: string): AccessChange[] {
    const rows = this.db.prepare('SELECT * FROM access_changes WHERE dataset_id = ? ORDER BY id').all(datasetId) as AccessChangeRow[];
    return rows.map((r) => ({
      id: r.id,
      datasetId: r.dataset_id,
      changedBy: r.changed_by,
      visibility: r.visibility,
      groups: JSON.parse(r.groups_json) as string[],
      receipt: r.receipt,
      traceId: r.trace_id,
      createdAt: r.created_at,
    }));
  }

  // ---- people, agents, sessions ----

  user(id: string): DemoUser | undefined {
    return USERS.find((u) => u.id === id);
  }

  agentByKey(key: string): DemoAgent | undefined {
    return AGENTS.find((a) => a.key === key);
  }

  /** A new random session id for a person who can sign in (not the assistant account). */
  createSession(tool: ToolName, userId: string): string {
    if (this.user(userId)?.kind !== 'person') throw new Error(`${userId} cannot sign in`);
    const id = randomBytes(32).toString('base64url');
    this.db.prepare('INSERT INTO sessions (id, tool, user_id, created_at) VALUES (?, ?, ?, ?)').run(id, tool, userId, this.now());
    return id;
  }

  sessionUser(tool: ToolName, sessionId: string): string | undefined {
    const row = this.db.prepare('SELECT user_id, created_at FROM sessions WHERE id = ? AND tool = ?').get(sessionId, tool) as { user_id: string; created_at: number } | undefined;
    if (!row || this.now() - row.created_at > SESSION_TTL_MS) return undefined;
    return row.user_id;
  }

  deleteSession(sessionId: string): void {
    this.db.prepare('DELETE FROM sessions WHERE id = ?').run(sessionId);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private insertDataset(d: Dataset): void {
    this.db.prepare('INSERT INTO datasets (id, name, description, visibility, groups_json) VALUES (?, ?, ?, ?, ?)').run(d.id, d.name, d.description, d.access.visibility, JSON.stringify(d.access.groups));
  }

  private count(table: 'topics' | 'datasets'): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  }
}
