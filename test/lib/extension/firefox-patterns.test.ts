// Match patterns as Firefox registers them: the port dropped (Firefox has none in match patterns and
// would otherwise register a pattern that matches no page), everything else kept. Node only (tests).
import { describe, expect, it } from 'vitest';
import { patternsForBrowser, withoutPort } from '@/lib/extension/firefox-patterns';
import { matchesAny } from '@/lib/protocol/match-pattern';

describe('withoutPort', () => {
  it.each([
    ['http://127.0.0.1:8080/*', 'http://127.0.0.1/*'],
    ['https://wiki.corp:8443/index.php*', 'https://wiki.corp/index.php*'],
    ['*://*.corp:*/*', '*://*.corp/*'],
    ['http://[::1]:3000/*', 'http://[::1]/*'],
    ['http://localhost:3000', 'http://localhost'],
  ])('drops the port of %s', (pattern, expected) => {
    expect(withoutPort(pattern)).toBe(expected);
  });

  it.each(['http://127.0.0.1/*', 'https://*.corp/a:b/*', 'http://[::1]/*', '<all_urls>', 'file:///tmp/*', 'not a pattern'])('leaves %s as it is', (pattern) => {
    expect(withoutPort(pattern)).toBe(pattern);
  });

  it('covers every page the pattern with the port covers (the registration is never narrower)', () => {
    const withPort = 'http://127.0.0.1:8080/t/*';
    for (const url of ['http://127.0.0.1:8080/t/1', 'http://127.0.0.1:8080/t/']) {
      expect(matchesAny([withPort], url)).toBe(true);
      expect(matchesAny([withoutPort(withPort)], url)).toBe(true);
    }
  });
});

describe('patternsForBrowser', () => {
  it('is the policy\'s patterns on Chrome, ports and all', () => {
    expect(patternsForBrowser(['http://a.corp:81/*', 'http://a.corp:82/*'], false)).toEqual(['http://a.corp:81/*', 'http://a.corp:82/*']);
  });

  it('is one port-less pattern per host on Firefox', () => {
    expect(patternsForBrowser(['http://a.corp:81/*', 'http://a.corp:82/*', 'https://b.corp/*'], true)).toEqual(['http://a.corp/*', 'https://b.corp/*']);
  });
});
