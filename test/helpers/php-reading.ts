// An independent model of how the tool behind the gateway reads a request: PHP 8.2's built-in server
// (`php -S` with the router of demo/mediawiki.ts, as the harness and the e2e tests run MediaWiki) and
// MediaWiki 1.39's WebRequest, index.php and api.php. The gateway fuzzer's oracle applies it to the
// bytes the recording upstream received, so it must never borrow the gateway's own reading: it is
// written from PHP's sources (main/php_variables.c, main/rfc1867.c, main/SAPI.c, ext/standard/url.c,
// sapi/cli/php_cli_server.c) and MediaWiki's (WebRequest, PathRouter, MediaWiki::parseTitle,
// MediaWikiTitleCodec::splitTitleString, Language::checkTitleEncoding, SpecialPageFactory, ApiMain and
// ApiParamValidatorCallbacks, in /usr/share/mediawiki), and its claims were checked against php 8.2
// and that MediaWiki (/tmp/mediawiki-facts.md).
//
// Strings PHP holds are bytes: here they are "byte strings" (one UTF-16 unit per byte, latin1).
// MediaWiki's normalised values are ordinary (Unicode) strings. Approximations, all on the side of
// PHP reading at least as much as it really does: bodies are read as if whole in memory (PHP's 5 KiB
// multipart buffer only matters for lines and values longer than that); `post_max_size`,
// `max_file_uploads` and `upload_max_filesize` are not modelled. Node only (tests).
import { Buffer } from 'node:buffer';

/** What the recording upstream received (test/helpers/gateway.ts `Seen`). */
export interface Received {
  method: string;
  url: string;
  rawHeaders: readonly string[];
  body: Uint8Array;
}

/** A PHP array value (`a[]=x`, `a[k]=x`): MediaWiki's getVal() ignores it, so its contents do not matter here. */
export const PHP_ARRAY: unique symbol = Symbol('php array');
export type PhpValue = string | typeof PHP_ARRAY;
export type PhpVars = Map<string, PhpValue>;

export interface PhpReading {
  method: string;
  requestUri: string;
  /** The entry point that runs: `index.php`, `api.php`, `rest.php`, `load.php`, `opensearch_desc.php`; null when the router answers 404. */
  script: string | null;
  /** `$_SERVER['PATH_INFO']` as the built-in server sets it ('' when it sets none). */
  pathInfo: string;
  get: PhpVars;
  post: PhpVars;
  /** The form names of `$_FILES` entries (multipart parts PHP reads as files), anonymous ones as their index. */
  files: string[];
  /** `$_SERVER` entries made from request headers (`HTTP_*`), byte strings. */
  server: Map<string, string>;
}

// ---------- bytes ----------

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// A BOM is a character like any other here (TextDecoder would drop a leading one).
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

export function byteString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function bytesOf(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** `mb_check_encoding($s, 'UTF-8')` (no surrogates, no overlong forms). */
export function isUtf8(s: string): boolean {
  try {
    strictUtf8.decode(bytesOf(s));
    return true;
  } catch {
    return false;
  }
}

/** C's isspace() in the "C" locale. */
function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

/** What a C function sees of a string: up to its first NUL. */
function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul === -1 ? s : s.slice(0, nul);
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** `urldecode()` / `php_url_decode` (`plus`: `+` is a space) and `rawurldecode()`: `%XX` only when both are hex digits. */
export function phpUrlDecode(s: string, plus = true): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (plus && c === '+') out += ' ';
    else if (c === '%' && i + 2 < s.length && HEX.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += c;
  }
  return out;
}

// ---------- variables (main/php_variables.c) ----------

/**
 * `php_register_variable_ex`'s reading of a name: cut at the first NUL (it is a C string), leading
 * spaces skipped, `.` and space as `_`; a `[` with a `]` after it makes an array of the part before;
 * a `[` without one is `_`, and so is every later space, `.` and `[`. Null when nothing is left.
 */
export function phpVariableName(raw: string): { key: string; array: boolean } | null {
  let name = cString(raw);
  let start = 0;
  while (name[start] === ' ') start++;
  name = name.slice(start);
  let key = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === ' ' || c === '.') key += '_';
    else if (c === '[') {
      if (key === '') return null;
      if (name.indexOf(']', i + 1) !== -1) return { key, array: true };
      return { key: `${key}_${name.slice(i + 1).replace(/[ .[]/g, '_')}`, array: false };
    } else key += c;
  }
  return key === '' ? null : { key, array: false };
}

function register(vars: PhpVars, name: string, value: string): void {
  const v = phpVariableName(name);
  if (v) vars.set(v.key, v.array ? PHP_ARRAY : value);
}

/** `max_input_vars` (default 1000). */
const MAX_INPUT_VARS = 1000;

/** `$_GET` from a query string (`php_default_treat_data`): `&`-separated, empty pieces skipped, the first 1000 counted. */
export function phpQuery(query: string): PhpVars {
  const vars: PhpVars = new Map();
  let count = 0;
  for (const piece of query.split('&')) {
    if (piece === '') continue;
    if (++count > MAX_INPUT_VARS) break;
    const eq = piece.indexOf('=');
    register(vars, phpUrlDecode(eq === -1 ? piece : piece.slice(0, eq)), eq === -1 ? '' : phpUrlDecode(piece.slice(eq + 1)));
  }
  return vars;
}

/** `$_POST` from an urlencoded body (`add_post_vars`): every `&` piece counts, empty ones too; it stops after the 1001st. */
export function phpUrlencodedBody(body: string): PhpVars {
  const vars: PhpVars = new Map();
  if (body === '') return vars;
  const pieces = body.split('&');
  if (body.endsWith('&')) pieces.pop();
  let count = 0;
  for (const piece of pieces) {
    const eq = piece.indexOf('=');
    register(vars, phpUrlDecode(eq === -1 ? piece : piece.slice(0, eq)), eq === -1 ? '' : phpUrlDecode(piece.slice(eq + 1)));
    if (++count > MAX_INPUT_VARS) break;
  }
  return vars;
}

// ---------- multipart (main/rfc1867.c) ----------

/** `php_ap_getword`: up to `stop` outside '…' or "…" quotes (a backslash escapes only that quote); repeated stops skipped. */
function getWord(line: string, stop: string): [string, string] {
  let pos = 0;
  while (pos < line.length && line[pos] !== stop) {
    const q = line[pos];
    if (q === '"' || q === "'") {
      pos++;
      while (pos < line.length && line[pos] !== q) pos += line[pos] === '\\' && line[pos + 1] === q ? 2 : 1;
      if (pos < line.length) pos++;
    } else pos++;
  }
  if (pos >= line.length) return [line, ''];
  const word = line.slice(0, pos);
  while (line[pos] === stop) pos++;
  return [word, line.slice(pos)];
}

/** `substring_conf`: up to the closing quote; `\\` and `\<quote>` are escapes. */
function substringConf(s: string, quote: string | null): string {
  let out = '';
  for (let i = 0; i < s.length && s[i] !== quote; i++) {
    if (s[i] === '\\' && (s[i + 1] === '\\' || (quote !== null && s[i + 1] === quote))) out += s[++i] ?? '';
    else out += s[i];
  }
  return out;
}

/** `php_ap_getword_conf`: a parameter value, quoted ('…' or "…") or up to whitespace. */
function getWordConf(s: string): string {
  let i = 0;
  while (isSpace(s[i])) i++;
  s = s.slice(i);
  if (s === '') return '';
  if (s[0] === '"' || s[0] === "'") return substringConf(s.slice(1), s[0]);
  let end = 0;
  while (end < s.length && !isSpace(s[end])) end++;
  return substringConf(s.slice(0, end), null);
}

/** The boundary as `rfc1867_post_handler` finds it: after the first `=` that follows "boundary" (matched as is, then case-insensitively). */
export function phpBoundary(contentType: string): string | null {
  let at = contentType.indexOf('boundary');
  if (at === -1) at = contentType.toLowerCase().indexOf('boundary');
  if (at === -1) return null;
  const eq = contentType.indexOf('=', at);
  if (eq === -1) return null;
  let b = contentType.slice(eq + 1);
  if (b.startsWith('"')) {
    const end = b.indexOf('"', 1);
    if (end === -1) return null;
    b = b.slice(1, end);
  } else {
    const end = b.search(/[,;]/);
    if (end !== -1) b = b.slice(0, end);
  }
  return b;
}

/**
 * `$_POST` and `$_FILES` names from a multipart body as rfc1867.c reads it: lines end at LF (one CR
 * before it dropped) and are C strings (a NUL ends them); any line that is exactly `--boundary` opens
 * a part, whatever came before (preambles, epilogues, junk between parts are skipped); header lines
 * are `name: value`, a line starting with whitespace continues the previous one; the first
 * Content-Disposition (any case) gives `name` and `filename` (last of each, quoted or not); a part
 * with a name and no filename is a text field; its value ends at the next LF + `--boundary` (not
 * CRLF: a bare LF is enough), one CR before it dropped; a Content-Disposition with neither name nor
 * filename ends the parse; a part without one is skipped. A text part after a file part of the same
 * name is still registered (PHP 8.2 keeps no "protected" names).
 */
export function phpMultipart(contentType: string, body: string): { post: PhpVars; files: string[] } {
  const post: PhpVars = new Map();
  const files: string[] = [];
  const boundary = phpBoundary(contentType);
  if (boundary === null) return { post, files };
  const opening = `--${boundary}`;
  const next = `\n--${boundary}`;
  let pos = 0;
  const line = (): string | null => {
    if (pos >= body.length) return null;
    const lf = body.indexOf('\n', pos);
    if (lf === -1) return null;
    let text = body.slice(pos, lf);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    pos = lf + 1;
    return cString(text);
  };
  const findOpening = (): boolean => {
    for (let l = line(); l !== null; l = line()) if (l === opening) return true;
    return false;
  };
  const readValue = (): string => {
    let end = body.indexOf(next, pos);
    let found = end !== -1;
    if (!found) {
      // php_ap_memstr(…, partial): a prefix of the delimiter at the very end also stops the value.
      end = body.length;
      for (let i = Math.max(pos, body.length - next.length + 1); i < body.length; i++) {
        if (next.startsWith(body.slice(i))) {
          end = i;
          found = true;
          break;
        }
      }
    }
    let value = body.slice(pos, end);
    if (found && value.endsWith('\r')) value = value.slice(0, -1);
    pos = end;
    return value;
  };
  let textVars = 0;
  let anonymous = 0;
  while (pos < body.length) {
    if (!findOpening()) break;
    const headers: Array<[string, string]> = [];
    let key: string | null = null;
    let value: string | null = null;
    for (let l = line(); l !== null && l !== ''; l = line()) {
      const colon = isSpace(l[0]) ? -1 : l.indexOf(':');
      if (colon !== -1) {
        if (key !== null && value !== null) headers.push([key, value]);
        key = l.slice(0, colon);
        let v = colon + 1;
        while (isSpace(l[v])) v++;
        value = l.slice(v);
      } else if (value !== null) value += l;
    }
    if (key !== null && value !== null) headers.push([key, value]);
    const cd = headers.find(([k]) => k.toLowerCase() === 'content-disposition')?.[1];
    if (cd === undefined) continue;
    let param: string | undefined;
    let filename: string | undefined;
    let rest = cd.replace(/^[ \t\n\v\f\r]+/, '');
    while (rest !== '') {
      const [pair, after] = getWord(rest, ';');
      rest = after.replace(/^[ \t\n\v\f\r]+/, '');
      if (!pair.includes('=')) continue;
      const [k, v] = getWord(pair, '=');
      if (k.toLowerCase() === 'name') param = getWordConf(v);
      else if (k.toLowerCase() === 'filename') filename = getWordConf(v);
    }
    if (filename === undefined && param !== undefined) {
      const text = readValue();
      if (++textVars <= MAX_INPUT_VARS) register(post, param, text);
      continue;
    }
    if (param === undefined && filename === undefined) break; // "File Upload Mime headers garbled"
    // $_FILES takes the name through the same variable-name rules.
    const name = param === undefined ? String(anonymous++) : phpVariableName(param)?.key;
    if (name !== undefined && !files.includes(name)) files.push(name);
    readValue();
  }
  return { post, files };
}

// ---------- the built-in server (sapi/cli/php_cli_server.c) and the harness's router ----------

export interface PhpUrl {
  scheme?: string;
  host?: string;
  port?: number;
  path?: string;
  query?: string;
  fragment?: string;
}

/** `parse_url()` (ext/standard/url.c, PHP 8.2), quirks included: `/index.php/a:80` is not a URL (false) but `/index.php/a:80?x` is. */
export function phpParseUrl(str: string): PhpUrl | false {
  const ret: PhpUrl = {};
  const ue = str.length;
  let s = 0;
  const isAlnum = (c: string) => /[A-Za-z0-9]/.test(c);
  const relativeScheme = () => s + 1 < ue && str[s] === '/' && str[s + 1] === '/';
  let e = str.indexOf(':');
  type Step = 'port' | 'host' | 'path';
  let step: Step;
  if (e !== -1 && e !== 0) {
    let valid = true;
    for (let p = 0; p < e; p++) {
      const c = str[p]!;
      if (!isAlnum(c) && c !== '+' && c !== '.' && c !== '-') {
        valid = false;
        break;
      }
    }
    if (!valid) {
      const q = str.indexOf('?');
      if (e + 1 < ue && e < (q === -1 ? ue : q)) step = 'port';
      else if (relativeScheme()) {
        s += 2;
        e = -1;
        step = 'host';
      } else step = 'path';
    } else if (e + 1 === ue) {
      ret.scheme = str.slice(0, e);
      return ret;
    } else if (str[e + 1] !== '/') {
      let p = e + 1;
      while (p < ue && /\d/.test(str[p]!)) p++;
      if ((p === ue || str[p] === '/') && p - e < 7) step = 'port';
      else {
        ret.scheme = str.slice(0, e);
        s = e + 1;
        step = 'path';
      }
    } else {
      ret.scheme = str.slice(0, e);
      if (e + 2 < ue && str[e + 2] === '/') {
        s = e + 3;
        step = 'host';
        if (ret.scheme.toLowerCase() === 'file' && e + 3 < ue && str[e + 3] === '/') {
          if (e + 5 < ue && str[e + 5] === ':') s = e + 4;
          step = 'path';
        }
      } else {
        s = e + 1;
        step = 'path';
      }
    }
  } else if (e !== -1) step = 'port';
  else if (relativeScheme()) {
    s += 2;
    step = 'host';
  } else step = 'path';

  if (step === 'port') {
    const p = e + 1;
    let pp = p;
    while (pp < ue && pp - p < 6 && /\d/.test(str[pp]!)) pp++;
    if (pp - p > 0 && pp - p < 6 && (pp === ue || str[pp] === '/')) {
      const port = Number(str.slice(p, pp));
      if (port > 65535) return false;
      ret.port = port;
      if (relativeScheme()) s += 2;
      step = 'host';
    } else if (p === pp && pp === ue) return false;
    else if (relativeScheme()) {
      s += 2;
      step = 'host';
    } else step = 'path';
  }

  if (step === 'host') {
    let end = s;
    while (end < ue && !'/?#'.includes(str[end]!)) end++;
    let hostStart = s;
    const at = str.lastIndexOf('@', end - 1);
    if (at >= s) hostStart = at + 1;
    let hostEnd = end;
    // A port after the host (`host:port`), unless the host is an IPv6 literal ending in `]`.
    const colon = str.lastIndexOf(':', end - 1);
    if (colon >= hostStart && str[end - 1] !== ']') {
      if (ret.port === undefined) {
        const digits = str.slice(colon + 1, end);
        if (digits.length > 0) {
          if (digits.length > 5 || !/^\d+$/.test(digits) || Number(digits) > 65535) return false;
          ret.port = Number(digits);
        }
      }
      hostEnd = colon;
    }
    if (hostEnd - hostStart < 1) return false;
    ret.host = str.slice(hostStart, hostEnd);
    if (end === ue) return ret;
    s = end;
  }

  let end = ue;
  const hash = str.indexOf('#', s);
  if (hash !== -1) {
    ret.fragment = str.slice(hash + 1);
    end = hash;
  }
  const q = str.slice(0, end).indexOf('?', s);
  if (q !== -1) {
    ret.query = str.slice(q + 1, end);
    end = q;
  }
  if (s < end || s === ue) ret.path = str.slice(s, end);
  return ret;
}

/** RFC 3986 §5.2.4, as `wfRemoveDotSegments` and the built-in server apply it. */
export function removeDotSegments(path: string): string {
  let input = path;
  let output = '';
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../')) {
      input = input.slice(3);
      output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
    } else if (input === '/..') {
      input = '/';
      output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
    } else if (input === '.' || input === '..') input = '';
    else {
      const next = input.indexOf('/', input.startsWith('/') ? 1 : 0);
      const segment = next === -1 ? input : input.slice(0, next);
      output += segment;
      input = input.slice(segment.length);
    }
  }
  return output;
}

/** MediaWiki's PHP entry points in its root (/usr/share/mediawiki) that the harness's router lets through. */
const ENTRY_POINTS = ['index.php', 'api.php', 'load.php', 'rest.php', 'opensearch_desc.php'];

/**
 * Which script runs and with what PATH_INFO: the harness's router (demo/mediawiki.ts) passes `/` and
 * `/(index|api|load|rest|opensearch_desc).php` followed by `/` or nothing — tested on
 * `rawurldecode(parse_url(REQUEST_URI, PHP_URL_PATH) ?? '/')`, so a URI parse_url cannot read is a
 * 404, and one it reads as `//host…` is `/` — then the built-in server finds the file in the decoded
 * path (dot segments resolved, repeated slashes as one), the rest being PATH_INFO; a path naming no
 * file runs the root's index.php.
 */
export function phpScript(requestUri: string): { script: string | null; pathInfo: string } {
  const parsed = phpParseUrl(requestUri);
  const routerPath = parsed === false ? '' : phpUrlDecode(parsed.path ?? '/', false);
  if (routerPath !== '/' && !/^\/(index|api|load|rest|opensearch_desc)\.php(\/|$)/.test(routerPath)) return { script: null, pathInfo: '' };
  const end = requestUri.search(/[?#]/);
  const decoded = phpUrlDecode(end === -1 ? requestUri : requestUri.slice(0, end), false);
  const segments = removeDotSegments(decoded).split('/');
  const nonEmpty = segments.filter((s) => s !== '');
  const first = nonEmpty[0];
  if (first !== undefined && ENTRY_POINTS.includes(first)) {
    const at = segments.indexOf(first);
    const rest = segments.slice(at + 1);
    return { script: first, pathInfo: rest.length === 0 ? '' : `/${rest.join('/')}`.replace(/\/+/g, '/') };
  }
  return { script: 'index.php', pathInfo: nonEmpty.length === 0 ? '' : `/${nonEmpty.join('/')}` };
}

/**
 * `$_SERVER['HTTP_*']` from the request headers as the built-in server makes them: one entry per
 * lower-cased name (a repeated header joined with ", "), in first-seen order, each registered as
 * `HTTP_` + the name upper-cased with `-` as `_`, through PHP's variable-name rules (`.` and space as
 * `_`), so a later name that lands on the same variable wins.
 */
export function phpServerHeaders(rawHeaders: readonly string[]): Map<string, string> {
  const byName = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    const seen = byName.get(name);
    byName.set(name, seen === undefined ? value : `${seen}, ${value}`);
  }
  const server = new Map<string, string>();
  for (const [name, value] of byName) {
    const v = phpVariableName(`HTTP_${name.toUpperCase().replace(/-/g, '_')}`);
    if (v && !v.array) server.set(v.key, value);
  }
  return server;
}

/** The Content-Type as PHP picks its body reader: lower case, up to the first `;`, `,` or space. */
export function phpPostType(contentType: string): string {
  return contentType.split(/[;, ]/, 1)[0]!.toLowerCase();
}

/** Everything PHP makes of a request before the script runs. */
export function readAsPhp(r: Received): PhpReading {
  const headers = new Map<string, string>();
  for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) {
    const name = r.rawHeaders[i]!.toLowerCase();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${r.rawHeaders[i + 1]}` : r.rawHeaders[i + 1]!);
  }
  const hash = r.url.indexOf('#');
  const target = hash === -1 ? r.url : r.url.slice(0, hash);
  // The built-in server's URL parser skips every `?` that opens the query (`/??a=1` is `a=1`).
  const q = target.indexOf('?');
  const query = q === -1 ? '' : target.slice(q + 1).replace(/^\?+/, '');
  const { script, pathInfo } = phpScript(r.url);
  let post: PhpVars = new Map();
  let files: string[] = [];
  const contentType = headers.get('content-type');
  // SAPI reads a form body for POST only (the method exactly as sent).
  if (r.method === 'POST' && contentType !== undefined) {
    const type = phpPostType(contentType);
    const body = byteString(r.body);
    if (type === 'application/x-www-form-urlencoded') post = phpUrlencodedBody(body);
    else if (type === 'multipart/form-data') ({ post, files } = phpMultipart(contentType, body));
  }
  return {
    method: r.method,
    requestUri: r.url,
    script,
    pathInfo,
    get: phpQuery(query),
    post,
    files,
    server: phpServerHeaders(r.rawHeaders),
  };
}

// ---------- MediaWiki 1.39 ----------

/** windows-1252 → Unicode for 0x80–0x9F; the five bytes it leaves undefined are dropped (glibc iconv //IGNORE). */
const CP1252: Record<number, number | null> = {
  0x80: 0x20ac, 0x81: null, 0x82: 0x201a, 0x83: 0x0192, 0x84: 0x201e, 0x85: 0x2026, 0x86: 0x2020, 0x87: 0x2021,
  0x88: 0x02c6, 0x89: 0x2030, 0x8a: 0x0160, 0x8b: 0x2039, 0x8c: 0x0152, 0x8d: null, 0x8e: 0x017d, 0x8f: null,
  0x90: null, 0x91: 0x2018, 0x92: 0x2019, 0x93: 0x201c, 0x94: 0x201d, 0x95: 0x2022, 0x96: 0x2013, 0x97: 0x2014,
  0x98: 0x02dc, 0x99: 0x2122, 0x9a: 0x0161, 0x9b: 0x203a, 0x9c: 0x0153, 0x9d: null, 0x9e: 0x017e, 0x9f: 0x0178,
};

/** `Language::checkTitleEncoding` for English: a value that is not UTF-8 is read as windows-1252. */
function fromCp1252(s: string): string {
  let out = '';
  for (const ch of s) {
    const b = ch.charCodeAt(0);
    if (b < 0x80 || b >= 0xa0) out += String.fromCharCode(b);
    else if (CP1252[b] !== null) out += String.fromCharCode(CP1252[b]!);
  }
  return out;
}

/** `UtfNormal\Validator::cleanUp`: invalid UTF-8 and the control characters XML forbids become U+FFFD, then NFC. */
function cleanUp(bytes: string): string {
  return lenientUtf8
    .decode(bytesOf(bytes))
    // eslint-disable-next-line no-control-regex -- the control characters MediaWiki's normaliser replaces
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
    .normalize('NFC');
}

export interface MediaWikiRequest {
  php: PhpReading;
  /** `$_POST + $_GET` (a name in the body hides it in the query), with index.php's PATH_INFO title over both. */
  data: PhpVars;
  /** `WebRequest::getVal`: null for a missing name or an array; a value with anything but printable ASCII is transcoded (windows-1252, when the name is in `$_GET` and the value is not UTF-8) and cleaned up. */
  getVal(name: string): string | null;
  /** `WebRequest::getRawVal`: the bytes as PHP holds them, or null. */
  getRawVal(name: string): string | null;
}

/**
 * The title index.php takes from the path (`WebRequest::getPathInfo`): the raw REQUEST_URI's path
 * (never the built-in server's decoded PATH_INFO) matched against `/index.php/$1`, then once more with
 * dot segments resolved and repeated slashes as one; `$1` rawurldecoded. `/index.php` itself: none.
 */
export function mediaWikiPathTitle(requestUri: string): string | null {
  const parsed = phpParseUrl(/^https?:\/\//.test(requestUri) ? requestUri : `http://unused${requestUri}`);
  if (parsed === false) return null;
  const path = parsed.path ?? '';
  if (path === '/index.php') return null;
  const route = /^\/index\.php\/([^\n]*)\n?$/;
  const m = route.exec(path) ?? route.exec(removeDotSegments(path).replace(/\/+/g, '/'));
  return m ? phpUrlDecode(m[1]!, false) : null;
}

export function mediaWikiRequest(php: PhpReading): MediaWikiRequest {
  const data: PhpVars = new Map(php.get);
  for (const [k, v] of php.post) data.set(k, v);
  if (php.script === 'index.php') {
    const title = mediaWikiPathTitle(php.requestUri);
    if (title !== null) data.set('title', title);
  }
  return {
    php,
    data,
    getRawVal(name) {
      const v = data.get(name.replace(/\./g, '_'));
      return typeof v === 'string' ? v : null;
    },
    getVal(name) {
      const key = name.replace(/\./g, '_');
      const v = data.get(key);
      if (typeof v !== 'string') return null;
      if (/^[\x20-\x7e]*$/.test(v)) return v;
      const transcoded = php.get.has(key) && !isUtf8(v) ? Buffer.from(fromCp1252(v), 'utf8').toString('latin1') : v;
      return cleanUp(transcoded);
    },
  };
}

/** PHP's `(int)` of a numeric-leading string (`intval`): leading whitespace, a sign, digits, a fraction, an exponent. */
function phpInt(value: string | null): number {
  if (value === null) return 0;
  const m = /^[ \t\n\r\v\f]*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/.exec(value);
  if (!m) return 0;
  const n = Math.trunc(Number(m[1]));
  return Number.isFinite(n) ? n : 1;
}

export type ParsedTitle = { namespace: 'special' | 'other'; dbkey: string };

/** The harness wiki's namespace names, lower case (English, canonical, aliases, and its project name). */
const NAMESPACES = new Set([
  'media', 'special', 'talk', 'user', 'user_talk', 'project', 'project_talk', 'file', 'file_talk', 'image', 'image_talk', 'mediawiki', 'mediawiki_talk',
  'template', 'template_talk', 'help', 'help_talk', 'category', 'category_talk', 'countersign_wiki', 'countersign_wiki_talk',
]);

/** Characters a title may hold (`$wgLegalTitleChars`), percent-escapes and HTML entities excepted. */
// eslint-disable-next-line no-control-regex -- `[^\x00-\x7f]` is MediaWiki's own spelling of "not ASCII"
const ILLEGAL_IN_TITLE = /[^ %!"$&'()*,\-./0-9:;=?@A-Z\\^_`a-z~+\u0080-\uffff]|%[0-9A-Fa-f]{2}|&(?:[A-Za-z0-9]|[^\x00-\x7f])+;/;

/** `Title::newFromURL` → `MediaWikiTitleCodec::splitTitleString` for what decides whether it is a special page: null for an invalid title. */
export function parseTitle(text: string): ParsedTitle | null {
  let dbkey = text.replace(/ /g, '_').replace(/[\u200e\u200f\u202a-\u202e]+/g, '');
  dbkey = dbkey.replace(/[ _\u00a0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g, '_').replace(/^_+|_+$/g, '');
  if (dbkey.includes('\ufffd')) return null;
  if (dbkey.startsWith(':')) dbkey = dbkey.slice(1).replace(/^_+|_+$/g, '');
  if (dbkey === '') return null;
  let namespace: ParsedTitle['namespace'] = 'other';
  // PCRE without /s: `.` stops at LF, `$` also matches before a final LF.
  const prefixRe = /^([^\n]+?)_*:_*([^\n]*)\n?$/;
  const prefix = prefixRe.exec(dbkey);
  // Language::getNsIndex: lower-cased (mb_strtolower); Special has no other English name.
  const ns = prefix ? prefix[1]!.toLowerCase() : null;
  if (prefix && ns !== null && NAMESPACES.has(ns)) {
    if (ns === 'special') namespace = 'special';
    dbkey = prefix[2]!;
    // Talk:File:x and the like are refused.
    if (ns === 'talk') {
      const inner = prefixRe.exec(dbkey);
      if (inner && NAMESPACES.has(inner[1]!.toLowerCase()) && inner[1]!.toLowerCase() !== '') return null;
    }
  }
  const hash = dbkey.indexOf('#');
  if (hash !== -1) dbkey = dbkey.slice(0, hash).replace(/_*$/, '');
  if (ILLEGAL_IN_TITLE.test(dbkey)) return null;
  if (dbkey.includes('.') && (dbkey === '.' || dbkey === '..' || dbkey.startsWith('./') || dbkey.startsWith('../') || dbkey.includes('/./') || dbkey.includes('/../') || dbkey.endsWith('/.') || dbkey.endsWith('/..'))) return null;
  if (dbkey.includes('~~~')) return null;
  if (Buffer.byteLength(dbkey, 'utf8') > (namespace === 'special' ? 512 : 255)) return null;
  if (dbkey === '' && namespace !== 'other') return null;
  if (dbkey.startsWith(':')) return null;
  return { namespace, dbkey };
}

/** Userrights and its English aliases, as `SpecialPageFactory::resolveAlias` folds them (`Language::caseFold`: mb_strtoupper). */
const RIGHTS_PAGE = new Set(['USERRIGHTS', 'MAKESYSOP', 'MAKEBOT']);

/** The special page a title runs, by `resolveAlias` (case-folded name before the first `/`), or null. */
export function rightsPageOf(title: ParsedTitle | null): string | null {
  if (title?.namespace !== 'special') return null;
  const name = title.dbkey.split('/', 1)[0]!.toUpperCase().replace(/ /g, '_');
  return RIGHTS_PAGE.has(name) ? `Special:${title.dbkey}` : null;
}

export interface MediaWikiReading {
  php: PhpReading;
  mw: MediaWikiRequest;
  /** index.php: the page it acts on (null: invalid, or a page by `curid`); its source. */
  title: { text: string; parsed: ParsedTitle | null; from: 'path' | 'post' | 'get' | 'none'; curid: number } | null;
  /** api.php: the module (`action`), or null when api.php does not run a module (PATH_INFO: 301). */
  apiAction: string | null;
  /** index.php runs its rollback action (on any method: a GET rolls back too). */
  rollback: boolean;
  /** Why MediaWiki would read this as a change of user rights, or null. */
  rightsChange: string | null;
  /** Why MediaWiki would read this as changing anything (any non-safe method; index.php's rollback on any method), or null. */
  stateChange: string | null;
}

function show(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

/** What MediaWiki would do with a request, as far as rights changes and writes go. */
export function readAsMediaWiki(r: Received): MediaWikiReading {
  const php = readAsPhp(r);
  const mw = mediaWikiRequest(php);
  let title: MediaWikiReading['title'] = null;
  let apiAction: string | null = null;
  let rollback = false;
  let rightsChange: string | null = null;
  let stateChange: string | null = ['GET', 'HEAD', 'OPTIONS'].includes(r.method) ? null : `${r.method} to ${php.script ?? 'no script (404)'}`;
  const posted = r.method === 'POST';

  if (php.script === 'index.php') {
    const fromPath = mediaWikiPathTitle(php.requestUri) !== null;
    const text = (mw.getVal('title') ?? '').replace(/\r\n/g, '\n');
    const from = fromPath ? 'path' : php.post.has('title') ? 'post' : php.get.has('title') ? 'get' : 'none';
    const curid = phpInt(mw.getVal('curid'));
    // MediaWiki::parseTitle: `curid` names an existing page (never a special one); else the title,
    // replaced (unless special) by the page of a non-zero `oldid` or `diff` revision; none: with
    // `search`, Special:Search; with nothing at all, the Main Page.
    const byId = (what: string): ParsedTitle => ({ namespace: 'other', dbkey: `(${what})` });
    let parsed: ParsedTitle | null = curid !== 0 ? byId(`page ${curid}`) : text === '' ? null : parseTitle(text);
    if (parsed === null || parsed.namespace !== 'special') {
      const oldid = phpInt(mw.getVal('oldid')) || phpInt(mw.getVal('diff'));
      if (oldid !== 0) parsed = byId(`the page of revision ${oldid}`);
    }
    if (parsed === null && mw.getVal('search') !== null) parsed = { namespace: 'special', dbkey: 'Search' };
    if (parsed === null && text === '' && mw.getVal('curid') === null && mw.getRawVal('action') !== 'delete') parsed = { namespace: 'other', dbkey: 'Main_Page' };
    title = { text, parsed, from, curid };
    const page = curid !== 0 ? null : rightsPageOf(parsed);
    if (page && posted) rightsChange = `index.php runs ${page} (title "${show(text)}" from the ${from === 'path' ? 'path' : from === 'post' ? 'body' : 'query'}) on a POST`;
    // ActionFactory::getActionName: the raw value, strtolower'd; special pages have no actions.
    const action = (mw.getRawVal('action') ?? 'view').toLowerCase();
    rollback = action === 'rollback' && parsed !== null && parsed.namespace !== 'special';
    if (rollback) stateChange = `index.php action=rollback (${r.method}) on "${show(text)}"`;
  }

  if (php.script === 'api.php' && php.pathInfo === '') {
    const raw = mw.getRawVal('action');
    // ApiParamValidatorCallbacks: a value starting with U+001F is a multi-value, refused for `action`.
    apiAction = raw !== null && raw.startsWith('\x1f') ? null : (mw.getVal('action') ?? 'help');
    if (apiAction === 'userrights' && posted) rightsChange = `api.php action=userrights (action ${php.post.has('action') ? 'in the body' : 'in the query'} as sent: "${show(raw ?? '')}")`;
  }
  return { php, mw, title, apiAction, rollback, rightsChange, stateChange };
}
