// A throwaway PostgreSQL cluster on loopback for tests and benchmarks: find the binaries, initdb,
// start, stop. Node only (tests, bench); no Vitest here, so the benchmarks can use it too.
//
// The cluster is real (initdb + pg_ctl, no mocks, no docker): trust auth, 127.0.0.1 only, a free port,
// fsync ON (durability tests need it), deleted again in teardown. Test files don't use the cluster's
// own database: test/helpers/postgres.ts creates a uniquely named database per caller.
// Running as root, the server runs as the `postgres` system user (Debian's package creates it), else as a
// dedicated unprivileged user created on demand; otherwise as the current user.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, chownSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import pg from 'pg';

const INSTALL_HINT = 'PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found. Install them with: apt-get update && apt-get install -y postgresql';
const DIR_PREFIX = 'countersign-pg-';
const FALLBACK_USER = 'countersign-pg';

export type PostgresCluster = {
  /** Superuser URL (user postgres, trust auth) of the `postgres` maintenance database. */
  url: string;
  port: number;
  /** The directory of the server's unix socket (`postgres:///<db>?host=<socketDir>&port=<port>`). */
  socketDir: string;
  /** e.g. "15.18 (Debian 15.18-0+deb12u1)" */
  version: string;
  binDir: string;
  dataDir: string;
  /** Fast shutdown, then deletes the cluster's directory. Safe to call twice. */
  stop(): Promise<void>;
};

type RunAs = { uid: number; gid: number; name: string } | undefined;

/** initdb/pg_ctl/postgres directory: `pg_config --bindir`, else the newest /usr/lib/postgresql/<major>/bin, else PATH. */
export function findPostgresBinDir(): string | undefined {
  const candidates: string[] = [];
  try {
    const out = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (out) candidates.push(out);
  } catch {
    // no pg_config: fall through
  }
  try {
    const majors = readdirSync('/usr/lib/postgresql')
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const major of majors) candidates.push(join('/usr/lib/postgresql', major, 'bin'));
  } catch {
    // no Debian layout
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(dir);

  for (const dir of candidates) {
    if (['initdb', 'pg_ctl', 'postgres'].every((bin) => isExecutable(join(dir, bin)))) {
      // PATH may hold symlinks (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb): use the real directory.
      return dirname(realpathSync(join(dir, 'initdb')));
    }
  }
  return undefined;
}

/** Starts a fresh cluster in a new temp directory. The global setup below uses it once per run; a test that
 * needs to crash or restart a server can start its own (and must stop() it). */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const binDir = findPostgresBinDir();
  if (!binDir) throw new Error(INSTALL_HINT);
  const runAs = serverUser();
  cleanStaleClusters(binDir, runAs);

  const root = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  writeFileSync(join(root, 'owner.pid'), `${process.pid}\n`);
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  let started = false;
  let stopped = false;

  const stopSync = (): void => {
    // Last resort if teardown never ran (the test process is exiting): immediate shutdown, no waiting for clients.
    if (stopped) return;
    stopped = true;
    if (started) spawnSync(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', '-t', '10', 'stop'], { ...spawnOptions(runAs, root), stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', stopSync);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    process.removeListener('exit', stopSync);
    if (started) {
      const fast = await run(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop'], runAs, root);
      if (fast.code !== 0) {
        const immediate = await run(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop'], runAs, root);
        if (immediate.code !== 0) killPostmaster(dataDir);
      }
    }
    stopped = true;
    rmSync(root, { recursive: true, force: true });
  };

  try {
    if (runAs) chownSync(root, runAs.uid, runAs.gid);
    const init = await run(
      binDir,
      'initdb',
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'],
      runAs,
      root,
    );
    if (init.code !== 0) throw new Error(`initdb failed (exit ${init.code}):\n${init.output}`);

    // Trust on local sockets and 127.0.0.1 comes from --auth=trust; listen on loopback only, sockets in our dir.
    // fsync/synchronous_commit/full_page_writes are the defaults, spelled out because durability tests rely on them.
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      [
        '',
        '# countersign test cluster (test/setup/postgres.global.ts)',
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${root.replaceAll("'", "''")}'`,
        'fsync = on',
        'synchronous_commit = on',
        'full_page_writes = on',
        'max_connections = 200',
        "log_min_messages = 'warning'",
        '',
      ].join('\n'),
    );

    // The free port is found by binding port 0 and releasing it; if something grabs it meanwhile, try another.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const start = await run(binDir, 'pg_ctl', ['-D', dataDir, '-l', logFile, '-o', `-p ${port}`, '-w', '-t', '60', 'start'], runAs, root);
      if (start.code === 0) break;
      const log = readLog(logFile);
      if (attempt < 3 && /could not bind|address already in use/i.test(log)) continue;
      throw new Error(`pg_ctl start failed (exit ${start.code}):\n${start.output}\n--- server log ---\n${log}`);
    }
    started = true;

    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const version = await serverVersion(url);
    return { url, port, socketDir: root, version, binDir, dataDir, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}


function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** initdb and postgres refuse to run as root: pick the unprivileged user the server runs as. */
function serverUser(): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const name of ['postgres', FALLBACK_USER]) {
    const ids = lookupUser(name);
    if (ids) return { ...ids, name };
  }
  try {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', FALLBACK_USER], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(`Running as root, and neither the 'postgres' user exists nor could '${FALLBACK_USER}' be created: ${String(error)}`);
  }
  const ids = lookupUser(FALLBACK_USER);
  if (!ids) throw new Error(`Created user '${FALLBACK_USER}' but cannot look it up`);
  return { ...ids, name: FALLBACK_USER };
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) && uid !== 0 ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

function spawnOptions(runAs: RunAs, cwd: string) {
  // No inherited PG* variables (PGDATA, PGPORT, …) and a C locale: the cluster must not depend on the caller's shell.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG')) env[key] = value;
  env.LC_ALL = 'C';
  env.LANG = 'C';
  if (runAs) env.HOME = cwd;
  // Node drops supplementary groups when uid/gid are set, like runuser -u.
  return { cwd, env, ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) };
}

function run(binDir: string, bin: string, args: string[], runAs: RunAs, cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    // pg_ctl start leaves the server detached; its stdout/stderr go to the log file, so our pipes close.
    const child = spawn(join(binDir, bin), args, { ...spawnOptions(runAs, cwd), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]?.server_version ?? 'unknown';
  } finally {
    await client.end();
  }
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no server log)';
  }
}

function killPostmaster(dataDir: string): void {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A run killed without teardown (SIGKILL, power loss) leaves a server and its directory: stop and delete them. */
function cleanStaleClusters(binDir: string, runAs: RunAs): void {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir()).filter((name) => name.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of entries) {
    const root = join(tmpdir(), name);
    try {
      const owner = Number(readFileSync(join(root, 'owner.pid'), 'utf8').trim());
      if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) continue;
      const dataDir = join(root, 'data');
      if (existsSync(join(dataDir, 'postmaster.pid'))) {
        const result = spawnSync(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', '-t', '10', 'stop'], { ...spawnOptions(runAs, root), stdio: 'ignore' });
        if (result.status !== 0) killPostmaster(dataDir);
      }
      rmSync(root, { recursive: true, force: true });
      console.log(`[postgres] removed a stale test cluster left by process ${owner}: ${root}`);
    } catch {
      // not ours, still being created, or not ours to delete: leave it
    }
  }
}
