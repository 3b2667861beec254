// A real, throwaway MediaWiki 1.39 (Debian's /usr/share/mediawiki) for the demo (npm run demo:wiki),
// the gateway tests and the bench: SQLite in a temp folder, served by PHP's built-in server, with
// Alice (sysop, bureaucrat), Bob (plain) and the bot WikiHelper (bot group, with a bot password).
// Node only (demo, tests, bench, scripts/mediawiki.sh).
//
//   const wiki = await startMediaWiki({ server: gatewayOrigin });  // in beforeAll, ~2 s
//   ... await wiki.pageText('Sandbox'), await wiki.userGroups('Bob'), wiki.botSessionCookie() ...
//   await wiki.stop();                                              // in afterAll
//
// The same code serves a wiki by hand: scripts/mediawiki.sh runs this file (see runFromCommandLine).
// Facts about the wiki's forms and entry points, checked against it: docs in the gateway's config.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { freePort } from './free-port';

/** Where Debian's `mediawiki` package puts the code (the entry points index.php, api.php, load.php, rest.php). */
export const MEDIAWIKI_ROOT = '/usr/share/mediawiki';
export const WIKI_NAME = 'Countersign Wiki';
/** The bot password's app id: the bot logs in to api.php as `WikiHelper@countersign`. */
export const BOT_APP_ID = 'countersign';
/** What the bot password may do (Special:BotPasswords grants): read, edit and create pages, no rate limits. */
export const BOT_GRANTS = ['basic', 'editpage', 'createeditmovepage', 'highvolume'] as const;

export type WikiUser = { name: string; password: string };
export type WikiUsers = {
  /** Groups sysop, bureaucrat, interface-admin: she may change anyone's groups on Special:UserRights. */
  alice: WikiUser;
  /** No groups beyond user/autoconfirmed. */
  bob: WikiUser;
  /** Group bot. `password` is the main account's; api.php logs in with `lgname` and `botPassword`. */
  bot: WikiUser & { appId: string; lgname: string; botPassword: string; grants: readonly string[] };
};

export type Revision = { revid: number; parentid: number; user: string; timestamp: string; comment: string; minor: boolean; text: string };

export type MediaWikiOptions = {
  /**
   * The public origin MediaWiki puts in absolute links and redirects ($wgServer): the gateway's. Default:
   * `url`. 'request': each request's Host header (MediaWiki's own detection), for several public origins,
   * e.g. one auth-proxy port per person in front of a gateway that keeps the Host header.
   */
  server?: string;
  /** The port to serve on (127.0.0.1). Default: a free one. */
  port?: number;
  /** The wiki's folder: created if missing, reused (same users and passwords) if it holds a wiki from here. Kept by stop(). Default: a temp folder that stop() removes. */
  dir?: string;
};

export type MediaWiki = {
  /** Direct, bypassing any gateway: http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  /** $wgServer: options.server ('request' or an origin), or `url`. */
  server: string;
  dir: string;
  users: WikiUsers;
  /** SIGTERM to the server's process group (the built-in server forks workers), waits; removes a temp `dir`. Idempotent. */
  stop(): Promise<void>;
  /** Changes $wgServer on the running wiki (read on every request), e.g. once the gateway's port is known; or 'request'. */
  setServer(origin: string): Promise<void>;
  /** Runs a maintenance script (`edit`, `edit.php` or a path) against this wiki; rejects on a non-zero exit. */
  php(script: string, args?: string[], options?: { input?: string }): Promise<{ stdout: string; stderr: string }>;
  /** api.php, direct, format=json&formatversion=2; POST (form body) when a token or `post` is given. */
  /** One api.php call (format=json, formatversion=2), its answer read through `schema`. */
  api<S extends z.ZodType>(params: Record<string, string>, schema: S, options?: { cookie?: string; post?: boolean }): Promise<z.infer<S>>;
  /** Logs a person in with their main password (action=clientlogin); the Cookie header value for later requests. */
  sessionCookie(name: string, password: string): Promise<string>;
  /** Logs WikiHelper in with the bot password (action=login); the Cookie header value that makes api.php act as the bot. */
  botSessionCookie(): Promise<string>;
  /** Raw wikitext of the latest revision, or null when the page does not exist. */
  pageText(title: string): Promise<string | null>;
  latestRevision(title: string): Promise<Revision | null>;
  /** Explicit groups (no implicit *, user, autoconfirmed), sorted: [] for Bob, ['bureaucrat', 'interface-admin', 'sysop'] for Alice. */
  userGroups(name: string): Promise<string[]>;
  /** Saves a page as `user` (default Alice) without HTTP (maintenance/edit.php): seeding, not the thing under test. */
  createPage(title: string, text: string, options?: { user?: string; summary?: string }): Promise<void>;
};

/** The parts of api.php's answers (formatversion=2) this harness reads; anything else in them is ignored. */
const SiteInfo = z.object({ query: z.object({ general: z.object({}) }) });
const LoginToken = z.object({ query: z.object({ tokens: z.object({ logintoken: z.string() }) }) });
const ClientLogin = z.object({ clientlogin: z.object({ status: z.string() }).optional() });
const Login = z.object({ login: z.object({ result: z.string() }).optional() });
const Revisions = z.object({
  query: z.object({
    pages: z.array(
      z.object({
        missing: z.boolean().optional(),
        invalid: z.boolean().optional(),
        revisions: z
          .array(
            z.object({
              revid: z.number(),
              parentid: z.number(),
              user: z.string(),
              timestamp: z.string(),
              comment: z.string(),
              minor: z.boolean(),
              slots: z.object({ main: z.object({ content: z.string() }) }),
            }),
          )
          .optional(),
      }),
    ),
  }),
});
const Users = z.object({
  query: z.object({
    users: z.array(z.object({ missing: z.boolean().optional(), invalid: z.boolean().optional(), groupmemberships: z.array(z.object({ group: z.string() })).optional() })),
  }),
});

type State = { users: WikiUsers };

export async function startMediaWiki(options: MediaWikiOptions = {}): Promise<MediaWiki> {
  if (!existsSync(join(MEDIAWIKI_ROOT, 'maintenance/install.php'))) {
    throw new Error(`No MediaWiki at ${MEDIAWIKI_ROOT}: run scripts/mediawiki.sh once (or apt-get install mediawiki php-sqlite3 php-cli).`);
  }
  const ownDir = options.dir === undefined;
  const dir = ownDir ? await mkdtemp(join(tmpdir(), 'countersign-mediawiki-')) : resolve(options.dir!);
  await mkdir(dir, { recursive: true });
  const conf = join(dir, 'LocalSettings.php');
  const php = (script: string, args: string[] = [], opts: { input?: string } = {}) => runPhp(script, args, conf, opts.input);

  let child: ChildProcess | undefined;
  try {
    let port = options.port ?? (await freePort());
    let url = `http://127.0.0.1:${port}`;
    let server = origin(options.server ?? url);
    await writeFile(join(dir, 'server.txt'), server);

    const fresh = !existsSync(join(dir, 'harness.json'));
    const state: State = fresh ? await install(dir, server === 'request' ? url : server) : JSON.parse(await readFile(join(dir, 'harness.json'), 'utf8'));
    // Ours, so always this version's (a reused folder gets them too).
    await writeFile(join(dir, 'Harness.php'), HARNESS_SETTINGS);
    await writeFile(join(dir, 'router.php'), ROUTER);
    // The users are created while the server starts (harness.json only once they all exist).
    const usersReady = fresh ? createUsers(state.users, php).then(() => writeFile(join(dir, 'harness.json'), JSON.stringify(state, null, 2))) : Promise.resolve();
    usersReady.catch(() => {}); // awaited below; not an unhandled rejection meanwhile

    // The port may be taken between freePort() and the bind: try another (only when we chose it).
    for (let attempt = 0; ; attempt++) {
      child = serve(dir, port);
      if (await waitReady(url, child, join(dir, 'server.log'))) break;
      await killGroup(child);
      child = undefined;
      if (options.port !== undefined || attempt >= 3) {
        await usersReady.catch(() => {});
        throw new Error(`MediaWiki did not start on ${url}; see ${join(dir, 'server.log')}`);
      }
      port = await freePort();
      url = `http://127.0.0.1:${port}`;
      if (options.server === undefined) {
        server = url;
        await writeFile(join(dir, 'server.txt'), server);
      }
    }
    await usersReady;

    const wiki = makeClient(url, state.users);
    let stopped: Promise<void> | undefined;
    const running: ChildProcess = child;
    return {
      url,
      get server() {
        return server;
      },
      dir,
      users: state.users,
      stop: () =>
        (stopped ??= (async () => {
          await killGroup(running);
          if (ownDir) await rm(dir, { recursive: true, force: true });
        })()),
      async setServer(next) {
        server = origin(next);
        await writeFile(join(dir, 'server.txt'), server);
      },
      php,
      ...wiki,
      async createPage(title, text, opts = {}) {
        await php('edit', ['--user', opts.user ?? state.users.alice.name, '--summary', opts.summary ?? 'Seeded by the test', title], { input: text });
      },
    };
  } catch (error) {
    if (child) await killGroup(child);
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function origin(value: string): string {
  if (value === 'request') return value;
  const parsed = new URL(value);
  if (parsed.origin === 'null') throw new Error(`Not an http(s) origin: ${value}`);
  return parsed.origin;
}

function password(prefix: string): string {
  // Long enough for the sysop/bot policy (10), never in the common-passwords list, shell- and URL-safe.
  return `${prefix}-${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
}

async function install(dir: string, server: string): Promise<State> {
  const users: WikiUsers = {
    alice: { name: 'Alice', password: password('alice') },
    bob: { name: 'Bob', password: password('bob') },
    bot: {
      name: 'WikiHelper',
      password: password('wikihelper'),
      appId: BOT_APP_ID,
      lgname: `WikiHelper@${BOT_APP_ID}`,
      botPassword: randomBytes(16).toString('hex'), // exactly 32 characters, as createBotPassword.php wants
      grants: BOT_GRANTS,
    },
  };
  const conf = join(dir, 'LocalSettings.php');
  const passfile = join(dir, '.adminpass');
  await writeFile(passfile, users.alice.password, { mode: 0o600 });
  // The admin (Alice) gets sysop, bureaucrat and interface-admin. Only Vector: fewer skins, faster pages.
  await runPhp('install', [
    '--dbtype=sqlite', `--dbpath=${dir}`, '--dbname=wiki', `--confpath=${dir}`, `--server=${server}`, '--scriptpath=',
    '--lang=en', '--skins=Vector', `--passfile=${passfile}`, WIKI_NAME, users.alice.name,
  ], conf);
  await rm(passfile, { force: true });
  await writeFile(conf, `${await readFile(conf, 'utf8')}\n# What the Countersign harness changes: an internal wiki.\nrequire __DIR__ . '/Harness.php';\n`);
  return { users };
}

async function createUsers(users: WikiUsers, php: MediaWiki['php']): Promise<void> {
  // One at a time: each script writes the same SQLite file.
  await php('createAndPromote', [users.bob.name, users.bob.password]);
  await php('createAndPromote', ['--bot', users.bot.name, users.bot.password]);
  await php('createBotPassword', ['--appid', users.bot.appId, '--grants', users.bot.grants.join(','), users.bot.name, users.bot.botPassword]);
}

const HARNESS_SETTINGS = `<?php
// Written by demo/mediawiki.ts, required at the end of LocalSettings.php: a company-internal wiki.

// The public origin in links and redirects: the gateway's when the wiki sits behind it. A file, read on
// every request, so the harness can change it on a running wiki; 'request': from the Host header.
$wgServer = trim( file_get_contents( __DIR__ . '/server.txt' ) );
if ( $wgServer === 'request' ) {
	$wgServer = WebRequest::detectServer();
}
$wgCanonicalServer = $wgServer;
$wgUsePathInfo = true; // articles at /index.php/Title

// Only people with an account edit; nobody signs up.
$wgGroupPermissions['*']['edit'] = false;
$wgGroupPermissions['*']['createpage'] = false;
$wgGroupPermissions['*']['createtalk'] = false;
$wgGroupPermissions['*']['createaccount'] = false;
$wgGroupPermissions['*']['autocreateaccount'] = false;

// Bots log in to api.php with a bot password (Special:BotPasswords).
$wgEnableBotPasswords = true;

// SQLite only: sessions and the parser cache in the database, so a login survives across requests and
// the built-in server's workers; nothing else cached.
$wgMainCacheType = CACHE_NONE;
$wgMessageCacheType = CACHE_NONE;
$wgSessionCacheType = CACHE_DB;
$wgParserCacheType = CACHE_DB;

// No requests or mail leave the machine.
$wgEnableEmail = false;
$wgEnableUserEmail = false;
$wgEmailAuthentication = false;
$wgEnableUploads = false;
$wgUseInstantCommons = false;
$wgForeignFileRepos = [];
$wgAllowExternalImages = false;
$wgPingback = false;
$wgHTTPTimeout = 2;
$wgRCFeeds = [];

// Tests log in and edit often from 127.0.0.1: no throttles, and jobs run inside the request.
$wgPasswordAttemptThrottle = false;
$wgAccountCreationThrottle = 0;
$wgRateLimits = [];
$wgRunJobsAsync = false;

$wgShowExceptionDetails = true;
`;

// The built-in server runs any *.php it finds and falls back to index.php for unknown paths; a web server
// set up as Debian's apache.conf runs only MediaWiki's entry points and serves only its static files.
const ROUTER = `<?php
// Router for PHP's built-in server (demo/mediawiki.ts): MediaWiki's entry points, with PATH_INFO
// (/index.php/Title, /rest.php/v1/...), and static files under resources/ skins/ extensions/; 404 otherwise.
$path = rawurldecode( parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH ) ?? '/' );
if ( $path === '/' || preg_match( '~^/(index|api|load|rest|opensearch_desc)\\.php(/|$)~', $path ) ) {
	return false;
}
if ( preg_match( '~^/(resources|skins|extensions)/~', $path ) && !preg_match( '~\\.php|/\\.|\\.\\.~', $path )
	&& is_file( $_SERVER['DOCUMENT_ROOT'] . $path ) ) {
	return false;
}
http_response_code( 404 );
header( 'Content-Type: text/plain; charset=utf-8' );
echo "Not found\\n";
return true;
`;

function serve(dir: string, port: number): ChildProcess {
  const log = openSync(join(dir, 'server.log'), 'w');
  // Its own process group: stop() signals the server and the workers it forks.
  const child = spawn(
    'php',
    ['-d', 'opcache.enable_cli=1', '-d', 'opcache.revalidate_freq=0', '-S', `127.0.0.1:${port}`, '-t', MEDIAWIKI_ROOT, join(dir, 'router.php')],
    {
      cwd: MEDIAWIKI_ROOT,
      env: { ...process.env, MW_CONFIG_FILE: join(dir, 'LocalSettings.php'), PHP_CLI_SERVER_WORKERS: '4' },
      stdio: ['ignore', log, log],
      detached: true,
    },
  );
  closeSync(log);
  return child;
}

async function waitReady(url: string, child: ChildProcess, log: string): Promise<boolean> {
  const siteinfo = `${url}/api.php?action=query&meta=siteinfo&format=json`;
  // Our server bound the port (not another one that answers there): it says so in its log.
  const bound = `Development Server (${url}) started`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const listening = await readFile(log, 'utf8').then((text) => text.includes(bound), () => false);
    const answers =
      listening &&
      (await fetch(siteinfo).then(
        async (r) => r.ok && SiteInfo.safeParse(await r.json()).success,
        () => false,
      ));
    if (answers) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function killGroup(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      // The master is gone; its workers may not be.
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // no such group: nothing left
      }
      return resolve();
    }
    child.once('exit', () => resolve());
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
  });
}

function runPhp(script: string, args: string[], conf: string, input?: string): Promise<{ stdout: string; stderr: string }> {
  const path = script.includes('/') ? script : join(MEDIAWIKI_ROOT, 'maintenance', script.endsWith('.php') ? script : `${script}.php`);
  const confArgs = script === 'install' ? [] : ['--conf', conf];
  return new Promise((resolvePromise, reject) => {
    const child = spawn('php', [path, ...confArgs, ...args], { cwd: MEDIAWIKI_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolvePromise({ stdout, stderr });
      else reject(new Error(`php ${script} ${args.join(' ')} exited with ${code}:\n${stdout}${stderr}`));
    });
    child.stdin.end(input ?? '');
  });
}

/** A Cookie header built from Set-Cookie answers; later values replace earlier ones, deletions remove them. */
class CookieJar {
  private cookies = new Map<string, string>();
  constructor(header = '') {
    for (const pair of header.split(/;\s*/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  update(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(/;\s*/);
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const expired = attributes.some((a) => /^max-age=(0|-)/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
      if (expired || value === 'deleted' || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

function makeClient(url: string, users: WikiUsers) {
  async function call<S extends z.ZodType>(params: Record<string, string>, schema: S, options: { cookie?: string; post?: boolean; jar?: CookieJar } = {}): Promise<z.infer<S>> {
    const body = new URLSearchParams({ format: 'json', formatversion: '2', ...params });
    const post = options.post ?? Object.keys(params).some((k) => k.endsWith('token'));
    const cookie = options.jar?.header() ?? options.cookie;
    const headers: Record<string, string> = cookie ? { cookie } : {};
    const response = post
      ? await fetch(`${url}/api.php`, { method: 'POST', body, headers })
      : await fetch(`${url}/api.php?${body}`, { headers });
    options.jar?.update(response);
    const text = await response.text();
    if (!response.ok) throw new Error(`api.php ${params.action}: HTTP ${response.status}: ${text.slice(0, 500)}`);
    const parsed = schema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`api.php ${params.action}: an answer not of the expected shape: ${text.slice(0, 500)}`);
    return parsed.data;
  }

  async function latestRevision(title: string): Promise<Revision | null> {
    const r = await call({ action: 'query', prop: 'revisions', titles: title, rvprop: 'ids|user|timestamp|comment|flags|content', rvslots: 'main' }, Revisions);
    const page = r.query.pages[0];
    const rev = page?.revisions?.[0];
    if (!page || page.missing || page.invalid || !rev) return null;
    return { revid: rev.revid, parentid: rev.parentid, user: rev.user, timestamp: rev.timestamp, comment: rev.comment, minor: rev.minor, text: rev.slots.main.content };
  }

  return {
    api: <S extends z.ZodType>(params: Record<string, string>, schema: S, options: { cookie?: string; post?: boolean } = {}) => call(params, schema, options),

    async sessionCookie(name: string, password: string): Promise<string> {
      const jar = new CookieJar();
      const tokens = await call({ action: 'query', meta: 'tokens', type: 'login' }, LoginToken, { jar });
      const r = await call(
        { action: 'clientlogin', username: name, password, logintoken: tokens.query.tokens.logintoken, loginreturnurl: `${url}/` },
        ClientLogin,
        { jar },
      );
      if (r.clientlogin?.status !== 'PASS') throw new Error(`clientlogin as ${name}: ${JSON.stringify(r)}`);
      return jar.header();
    },

    async botSessionCookie(): Promise<string> {
      // MediaWiki 1.39: a login token bound to a fresh session, then action=login with the bot password
      // in a POST that sends that session's cookie back; the answer's cookies are the bot's session.
      const jar = new CookieJar();
      const tokens = await call({ action: 'query', meta: 'tokens', type: 'login' }, LoginToken, { jar });
      const { lgname, botPassword } = users.bot;
      const r = await call({ action: 'login', lgname, lgpassword: botPassword, lgtoken: tokens.query.tokens.logintoken }, Login, { jar });
      if (r.login?.result !== 'Success') throw new Error(`action=login as ${lgname}: ${JSON.stringify(r)}`);
      return jar.header();
    },

    async pageText(title: string): Promise<string | null> {
      return (await latestRevision(title))?.text ?? null;
    },

    latestRevision,

    async userGroups(name: string): Promise<string[]> {
      const r = await call({ action: 'query', list: 'users', ususers: name, usprop: 'groupmemberships' }, Users);
      const user = r.query.users[0];
      if (!user || user.missing || user.invalid) throw new Error(`No user ${name}`);
      return (user.groupmemberships ?? []).map((m) => m.group).sort();
    },
  };
}

/**
 * scripts/mediawiki.sh: `[--dir DIR] [--port PORT] [--server ORIGIN]`. Serves until Ctrl-C, then stops
 * (a temp folder is removed, a --dir kept).
 */
export async function runFromCommandLine(argv: string[]): Promise<void> {
  const options: MediaWikiOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--dir') options.dir = value();
    else if (flag === '--port') options.port = Number(value());
    else if (flag === '--server') options.server = value();
    else if (flag === '--help' || flag === '-h') usage();
    else usage(`unknown option ${flag}`);
  }
  const started = Date.now();
  const wiki = await startMediaWiki(options);
  const { alice, bob, bot } = wiki.users;
  console.log(
    [
      `MediaWiki 1.39 "${WIKI_NAME}" is up after ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `  direct:   ${wiki.url}/index.php/Main_Page`,
      `  $wgServer (links, redirects): ${wiki.server}`,
      `  folder:   ${wiki.dir}${options.dir ? '' : ' (removed on exit)'}  (server log: ${join(wiki.dir, 'server.log')})`,
      `  ${alice.name} (sysop, bureaucrat): ${alice.password}`,
      `  ${bob.name} (plain user):        ${bob.password}`,
      `  ${bot.name} (bot): ${bot.password}; api.php action=login as ${bot.lgname} with ${bot.botPassword} (grants ${bot.grants.join(', ')})`,
      'Ctrl-C stops it.',
    ].join('\n'),
  );
  await new Promise<void>((resolvePromise) => {
    const done = () => resolvePromise();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await wiki.stop();
}

function usage(problem?: string): never {
  console.error(`${problem ? `${problem}\n` : ''}usage: scripts/mediawiki.sh [--dir DIR] [--port PORT] [--server ORIGIN]`);
  process.exit(problem ? 2 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runFromCommandLine(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
