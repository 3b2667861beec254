// Chrome match patterns with ports (lib/protocol/match-pattern.ts): `http://wiki.corp:8080/*` matches
// only port 8080, no port matches every port, `:*`, default ports, `*.domain`, `<all_urls>`, path and
// query globs, IPv6; invalid patterns with the reason an admin should fix; which of several matching
// patterns is the most specific; and the site an unparsable pattern still names (to fail closed there).
import { describe, expect, it } from 'vitest';
import {
  bestMatch,
  compareSpecificity,
  matchesAny,
  parseMatchPattern,
  patternIncludes,
  patternSpecificity,
  siteOfPattern,
} from '@/lib/protocol/match-pattern';
import type { ParsedMatchPattern } from '@/lib/protocol/match-pattern';
import { MatchPattern } from '@/lib/protocol/policy';

function parsed(source: string): ParsedMatchPattern {
  const result = parseMatchPattern(source);
  if (!result.ok) throw new Error(`${source}: ${result.reason}`);
  return result.pattern;
}

const includes = (pattern: string, url: string) => patternIncludes(parsed(pattern), url);

describe('parsing', () => {
  it('reads scheme, host, port and path', () => {
    expect(parsed('http://wiki.corp:8080/*')).toEqual({ source: 'http://wiki.corp:8080/*', schemes: ['http'], host: 'wiki.corp', port: 8080, path: '/*', all: false });
    expect(parsed('*://*.corp.example/api/*')).toMatchObject({ schemes: ['http', 'https'], host: '*.corp.example', port: null, path: '/api/*' });
    expect(parsed('https://h:*/*')).toMatchObject({ port: '*' });
    expect(parsed('<all_urls>')).toMatchObject({ all: true, host: '*', port: null });
    expect(parsed('file:///home/*')).toMatchObject({ schemes: ['file'], host: '', path: '/home/*' });
  });

  it('lower-cases the host and writes it as the URL parser writes a hostname', () => {
    expect(parsed('https://Wiki.CORP/*').host).toBe('wiki.corp');
    expect(parsed('http://[0:0:0:0:0:0:0:1]:8080/*').host).toBe('[::1]');
    expect(parsed('http://[::FFFF:7F00:1]/*').host).toBe('[::ffff:7f00:1]');
    expect(parsed('http://127.1/*').host).toBe('127.0.0.1');
    expect(parsed('http://0x7f.0.0.1/*').host).toBe('127.0.0.1');
  });

  it.each([
    ['', 'non-empty'],
    ['x'.repeat(2049), 'at most 2048'],
    ['wiki.corp/*', 'scheme://host/path'],
    ['http:/wiki.corp/*', 'scheme://host/path'],
    ['gopher://wiki.corp/*', 'scheme gopher'],
    ['HTTP-ish://wiki.corp/*', 'scheme'],
    ['chrome-extension://abc/*', 'scheme'],
    ['http://wiki.corp', 'needs a path'],
    ['http://wiki.corp/a b', 'space or #'],
    ['http://wiki.corp/a#b', 'space or #'],
    ['http:///*', 'needs a host'],
    ['http://wiki.*.corp/*', 'is not *, *.domain'],
    ['http://*wiki.corp/*', 'is not *, *.domain'],
    ['http://*.*.corp/*', 'is not *, *.domain'],
    ['http://wiki.corp:/*', 'is not *, *.domain'],
    ['http://wiki.corp:8080:1/*', 'is not *, *.domain'],
    ['http://wiki.corp:99999/*', 'port 99999 is out of range'],
    ['http://wiki.corp:65536/*', 'out of range'],
    ['http://wiki.corp:0/*', 'out of range'],
    ['http://wiki.corp:123456/*', 'is not *, *.domain'],
    ['http://wiki.corp:80a/*', 'is not *, *.domain'],
    ['http://user@wiki.corp/*', 'characters a host cannot have'],
    ['http://wiki corp/*', 'characters a host cannot have'],
    ['http://wiki%2ecorp/*', 'characters a host cannot have'],
    ['http://bücher.example/*', 'characters a host cannot have'],
    ['http://[zz::1]/*', 'is not *, *.domain'],
    ['http://[1:2]/*', 'not a valid host'],
    ['http://999.1.1.1/*', 'not a valid host'],
    ['file://host/*', 'a file pattern has no host'],
  ])('%j is refused: %s', (source, reason) => {
    const result = parseMatchPattern(source);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('the policy schema refuses what the parser refuses, with its reason', () => {
    expect(MatchPattern.safeParse('http://wiki.corp:8080/*').success).toBe(true);
    const bad = MatchPattern.safeParse('http://wiki.corp:99999/*');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toContain('port 99999 is out of range');
  });
});

describe('ports', () => {
  it('http://wiki.corp:8080/* matches port 8080 only', () => {
    expect(includes('http://wiki.corp:8080/*', 'http://wiki.corp:8080/page')).toBe(true);
    expect(includes('http://wiki.corp:8080/*', 'http://wiki.corp/page')).toBe(false);
    expect(includes('http://wiki.corp:8080/*', 'http://wiki.corp:8081/page')).toBe(false);
    expect(includes('http://wiki.corp:8080/*', 'http://wiki.corp:80/page')).toBe(false);
    expect(includes('http://wiki.corp:8080/*', 'https://wiki.corp:8080/page')).toBe(false);
  });

  it('http://host/* (no port) matches every port, as Chrome does', () => {
    for (const url of ['http://host/', 'http://host:80/', 'http://host:8080/x', 'http://host:65535/x']) expect(includes('http://host/*', url), url).toBe(true);
  });

  it(':* matches every port', () => {
    for (const url of ['https://host/', 'https://host:8443/', 'https://host:1/']) expect(includes('https://host:*/*', url), url).toBe(true);
  });

  it('a default port in the pattern is the URL without a port, and the other way round', () => {
    expect(includes('https://h:443/*', 'https://h/')).toBe(true);
    expect(includes('https://h:443/*', 'https://h:443/')).toBe(true);
    expect(includes('https://h:443/*', 'https://h:8443/')).toBe(false);
    expect(includes('http://h:80/*', 'http://h/x')).toBe(true);
    expect(includes('http://h:443/*', 'http://h/')).toBe(false);
    expect(includes('*://h:443/*', 'http://h:443/')).toBe(true);
    expect(includes('*://h:443/*', 'http://h/')).toBe(false);
    expect(includes('wss://h:443/*', 'wss://h/socket')).toBe(true);
  });
});

describe('hosts', () => {
  it('*.domain is the domain and its subdomains, never a look-alike', () => {
    expect(includes('*://*.corp.example/*', 'https://corp.example/')).toBe(true);
    expect(includes('*://*.corp.example/*', 'https://wiki.corp.example/')).toBe(true);
    expect(includes('*://*.corp.example/*', 'https://a.b.corp.example/')).toBe(true);
    expect(includes('*://*.corp.example/*', 'https://evilcorp.example/')).toBe(false);
    expect(includes('*://*.corp.example/*', 'https://corp.example.evil.test/')).toBe(false);
  });

  it('an exact host is that host only, in any case', () => {
    expect(includes('https://wiki.corp/*', 'https://WIKI.corp/')).toBe(true);
    expect(includes('https://wiki.corp/*', 'https://sub.wiki.corp/')).toBe(false);
  });

  it('one trailing dot names the same host (on either side)', () => {
    expect(includes('https://wiki.corp/*', 'https://wiki.corp./')).toBe(true);
    expect(includes('https://wiki.corp./*', 'https://wiki.corp/')).toBe(true);
    expect(includes('*://*.corp/*', 'https://wiki.corp./')).toBe(true);
  });

  it('* is every host', () => {
    expect(includes('*://*/*', 'http://anything.example:9/x')).toBe(true);
    expect(includes('*://*/*', 'ftp://anything.example/')).toBe(false);
  });

  it('IPv6 addresses, with and without a port, in any spelling', () => {
    expect(includes('http://[::1]/*', 'http://[::1]:8080/x')).toBe(true);
    expect(includes('http://[::1]:8080/*', 'http://[::1]:8080/x')).toBe(true);
    expect(includes('http://[::1]:8080/*', 'http://[::1]:8081/x')).toBe(false);
    expect(includes('http://[0:0::1]/*', 'http://[0000:0000:0000:0000:0000:0000:0000:0001]/')).toBe(true);
    expect(includes('http://[::1]/*', 'http://[::2]/')).toBe(false);
  });

  it('IPv4 addresses as the URL parser writes them', () => {
    expect(includes('http://127.1:8080/*', 'http://127.0.0.1:8080/')).toBe(true);
    expect(includes('http://127.0.0.1/*', 'http://2130706433/')).toBe(true);
  });
});

describe('schemes, <all_urls> and paths', () => {
  it('* is http and https only', () => {
    expect(includes('*://h/*', 'http://h/')).toBe(true);
    expect(includes('*://h/*', 'https://h/')).toBe(true);
    expect(includes('*://h/*', 'ws://h/')).toBe(false);
    expect(includes('*://h/*', 'file:///h')).toBe(false);
  });

  it('<all_urls> is every URL of the schemes an extension can see', () => {
    for (const url of ['http://a/', 'https://b:444/x?y', 'ws://c/', 'wss://d/', 'ftp://e/', 'file:///f']) expect(includes('<all_urls>', url), url).toBe(true);
    expect(includes('<all_urls>', 'chrome://settings/')).toBe(false);
    expect(includes('<all_urls>', 'data:text/plain,x')).toBe(false);
  });

  it('the path glob covers path and query, * any run of characters', () => {
    expect(includes('https://h/api/*', 'https://h/api/topics/7')).toBe(true);
    expect(includes('https://h/api/*', 'https://h/api/')).toBe(true);
    expect(includes('https://h/api/*', 'https://h/api')).toBe(false);
    expect(includes('https://h/api/*', 'https://h/other/api/')).toBe(false);
    expect(includes('https://h/*/edit', 'https://h/topics/7/edit')).toBe(true);
    expect(includes('https://h/search?q=*', 'https://h/search?q=x')).toBe(true);
    expect(includes('https://h/search?q=*', 'https://h/search')).toBe(false);
    expect(includes('https://h/exact', 'https://h/exact?x=1')).toBe(false);
    expect(includes('https://h/exact', 'https://h/exact#frag')).toBe(true);
  });

  it('glob metacharacters other than * are literal', () => {
    expect(includes('https://h/a.b', 'https://h/aXb')).toBe(false);
    expect(includes('https://h/a+(b)', 'https://h/a+(b)')).toBe(true);
    expect(includes('https://h/a$', 'https://h/a$')).toBe(true);
  });

  it('file patterns match file URLs by path', () => {
    expect(includes('file:///home/*', 'file:///home/a.html')).toBe(true);
    expect(includes('file:///home/*', 'file:///etc/passwd')).toBe(false);
  });

  it('a URL that does not parse is included by nothing', () => {
    expect(patternIncludes(parsed('<all_urls>'), 'not a url')).toBe(false);
  });
});

describe('matchesAny', () => {
  it('any pattern that includes the URL; an unparsable pattern includes nothing', () => {
    expect(matchesAny(['https://a/*', 'http://wiki.corp:8080/*'], 'http://wiki.corp:8080/x')).toBe(true);
    expect(matchesAny(['http://wiki.corp:99999/*'], 'http://wiki.corp:99999/x')).toBe(false);
    expect(matchesAny([], 'http://wiki.corp/')).toBe(false);
  });
});

describe('specificity', () => {
  const order = (patterns: string[]) => [...patterns].sort((a, b) => compareSpecificity(patternSpecificity(parsed(a)), patternSpecificity(parsed(b))));

  it('a port beats no port, whatever the host and path', () => {
    expect(order(['http://wiki.corp/*', 'http://wiki.corp:8080/*'])).toEqual(['http://wiki.corp:8080/*', 'http://wiki.corp/*']);
    expect(order(['http://wiki.corp/api/topics/*', 'http://*:8080/*'])[0]).toBe('http://*:8080/*');
    expect(order(['http://wiki.corp:*/*', 'http://wiki.corp:8080/*'])[0]).toBe('http://wiki.corp:8080/*');
  });

  it('then a longer host: an exact host beats its *. domain, which beats *', () => {
    expect(order(['*://*/*', '*://*.corp/*', '*://wiki.corp/*', '*://*.wiki.corp/*'])).toEqual(['*://wiki.corp/*', '*://*.wiki.corp/*', '*://*.corp/*', '*://*/*']);
  });

  it('then a longer path (wildcards not counted)', () => {
    expect(order(['https://h/*', 'https://h/api/topics/*', 'https://h/api/*'])).toEqual(['https://h/api/topics/*', 'https://h/api/*', 'https://h/*']);
  });

  it('<all_urls> is the least specific of all', () => {
    expect(order(['<all_urls>', '*://*/*x'])).toEqual(['*://*/*x', '<all_urls>']);
  });

  it('compareSpecificity is 0 for equal ones and antisymmetric', () => {
    const a = patternSpecificity(parsed('https://a/*'));
    const b = patternSpecificity(parsed('https://b/*'));
    expect(compareSpecificity(a, b)).toBe(0);
    const c = patternSpecificity(parsed('https://a:1/*'));
    expect(Math.sign(compareSpecificity(a, c))).toBe(-Math.sign(compareSpecificity(c, a)));
  });

  it('bestMatch is the most specific pattern that includes the URL, or null', () => {
    const patterns = ['<all_urls>', 'http://wiki.corp/*', 'http://wiki.corp:8080/*', 'http://wiki.corp:99999/*'];
    expect(bestMatch(patterns, 'http://wiki.corp:8080/x')).toEqual(patternSpecificity(parsed('http://wiki.corp:8080/*')));
    expect(bestMatch(patterns, 'http://wiki.corp:9000/x')).toEqual(patternSpecificity(parsed('http://wiki.corp/*')));
    expect(bestMatch(patterns, 'http://other/')).toEqual(patternSpecificity(parsed('<all_urls>')));
    expect(bestMatch(['http://wiki.corp:99999/*'], 'http://wiki.corp/')).toBeNull();
  });
});

describe('siteOfPattern: where an unparsable pattern fails closed', () => {
  it.each([
    ['http://wiki.corp:99999/*', '*://wiki.corp/*'],
    ['http://Wiki.Corp:99999/*', '*://wiki.corp/*'],
    ['http://wiki.corp:8080', '*://wiki.corp/*'],
    ['http://wiki.corp:abc/x', '*://wiki.corp/*'],
    ['gopher://wiki.corp/*', '*://wiki.corp/*'],
    ['http://*.corp:99999/*', '*://*.corp/*'],
    ['https://*.corp.example:0/x', '*://*.corp.example/*'],
    ['http://[::1]:99999/*', '*://[::1]/*'],
    ['http://[::1]', '*://[::1]/*'],
    ['http://*:99999/*', '*://*/*'],
  ])('%s → %s', (source, site) => {
    expect(parseMatchPattern(source).ok).toBe(false);
    expect(siteOfPattern(source)).toBe(site);
    // The site is itself a valid pattern, and covers the host the admin named.
    expect(parseMatchPattern(site).ok).toBe(true);
  });

  it('the site covers every page the broken pattern meant', () => {
    expect(includes(siteOfPattern('http://*.corp:99999/*')!, 'http://wiki.corp:99999/x')).toBe(false); // no such port exists
    expect(includes(siteOfPattern('http://*.corp:99999/*')!, 'http://wiki.corp:8080/x')).toBe(true);
    expect(includes(siteOfPattern('http://*.corp:99999/*')!, 'https://corp/x')).toBe(true);
    expect(includes(siteOfPattern('http://wiki.corp:99999/*')!, 'http://wiki.corp:8080/x')).toBe(true);
  });

  it.each([
    'not a pattern',
    '',
    '://',
    'http:///x',
    'http://*.*/x',
    'http://user@wiki.corp/*',
    'http://wiki corp/*',
    'http://[zz]/x',
  ])('%j names no host → null', (source) => {
    expect(siteOfPattern(source)).toBeNull();
  });
});
