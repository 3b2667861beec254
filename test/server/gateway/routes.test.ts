import { describe, expect, it } from 'vitest';
import type { GatewayRoute } from '@/server/gateway/config';
import { compileRoutes, foldName, foldValue, matchRoute, routesOnPath } from '@/server/gateway/routes';
import { ROUTES } from '../../helpers/gateway';

const routes = compileRoutes(ROUTES);

function scopeOf(method: string, path: string, fields: Array<[string, string]>): string | null {
  const m = matchRoute(routesOnPath(routes, method, path), fields);
  return m.kind === 'route' ? m.route.scope : m.kind === 'ambiguous' ? `ambiguous:${m.scopes.join(',')}` : null;
}

describe('gateway route matching', () => {
  it('matches the action wherever the tool reads it: the query or the form body', () => {
    expect(scopeOf('POST', '/index.php', [['title', 'X'], ['action', 'submit']])).toBe('wiki.edit');
    // MediaWiki reads $_POST + $_GET: action=submit in the body is the same edit.
    expect(scopeOf('POST', '/index.php', [['title', 'X'], ['wpTextbox1', 'x'], ['action', 'submit']])).toBe('wiki.edit');
    expect(scopeOf('POST', '/api.php', [['action', 'edit'], ['title', 'X']])).toBe('wiki.edit');
  });

  it('attack: a route for every method (`*`) or a list of them catches the action on OPTIONS, PUT or DELETE too: a PHP tool runs the same code for each', () => {
    const any = compileRoutes([{ method: '*', path: '/index.php', query: { action: 'rollback' }, scope: 'wiki.edit' }]);
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'POST']) expect(routesOnPath(any, method, '/index.php'), method).toHaveLength(1);
    const listed = compileRoutes([{ method: ['GET', 'OPTIONS'], path: '/index.php', scope: 'wiki.edit' }]);
    expect(['GET', 'HEAD', 'OPTIONS', 'POST'].map((m) => routesOnPath(listed, m, '/index.php').length)).toEqual([1, 1, 1, 0]);
  });

  it('attack: the directory index (`/`) reaches index.php: a route may list every path that reaches its script', () => {
    const both = compileRoutes([{ method: 'POST', path: ['/index.php/**', '/'], query: { title: 'Special:UserRights*' }, scope: 'wiki.rights' }]);
    for (const path of ['/', '/index.php', '/index.php/x']) expect(matchRoute(routesOnPath(both, 'POST', path), [['title', 'special:userrights']]).kind, path).toBe('route');
    expect(routesOnPath(both, 'POST', '/other.php')).toHaveLength(0);
  });

  it('attack: repeated slashes (//index.php, /index.php//x) reach the same script: they match as one', () => {
    const any = compileRoutes([{ method: '*', path: ['/index.php/**', '/'], query: { action: 'rollback' }, scope: 'wiki.edit' }]);
    for (const path of ['//index.php', '/index.php//', '///index.php//x', '//']) expect(matchRoute(routesOnPath(any, 'OPTIONS', path), [['action', 'rollback']]).kind, path).toBe('route');
  });

  it('attack: bytes that are not UTF-8 inside a title (read as U+FFFD, or dropped as windows-1252) do not hide it', () => {
    expect(foldValue('Special__:\ufffduserrights')).toBe(foldValue('Special:UserRights'));
  });

  it('attack: a repeated field hides the real action (PHP keeps the last): any occurrence matches', () => {
    expect(scopeOf('POST', '/api.php', [['action', 'query'], ['action', 'userrights']])).toBe('wiki.rights');
  });

  it('attack: two readings of one request as two actions are refused, never resolved to the weaker one', () => {
    expect(scopeOf('POST', '/api.php', [['action', 'edit'], ['action', 'userrights']])).toBe('ambiguous:wiki.edit,wiki.rights');
  });

  it('attack: case, underscores and spaces in a title are folded as the wiki folds them', () => {
    for (const title of ['Special:UserRights', 'special:userrights', 'Special:User_Rights', ' Special:UserRights/Alice', 'SPECIAL:USERRIGHTS/Bob']) {
      expect(scopeOf('POST', '/index.php', [['title', title]]), title).toBe(title.includes('User_Rights') ? null : 'wiki.rights');
    }
  });

  it('attack: field names are folded as PHP folds them (a.b, a b and a[] are one field)', () => {
    expect(foldName('act.ion')).toBe('act_ion');
    expect(foldName('ACTION[]')).toBe('action');
    expect(foldName(' action')).toBe('action');
    expect(scopeOf('POST', '/api.php', [['ACTION[]', 'userrights']])).toBe('wiki.rights');
  });

  it('matches PATH_INFO forms under a final **, and literal segments percent-decoded and folded', () => {
    expect(scopeOf('POST', '/index.php/Special:UserRights/Alice', [])).toBe('wiki.rights');
    expect(scopeOf('POST', '/index.php/Special:UserRights', [])).toBe('wiki.rights');
    expect(scopeOf('POST', '/index.php/special%3Auserrights/Alice/x', [])).toBe('wiki.rights');
    expect(scopeOf('POST', '/INDEX.PHP', [['action', 'submit']])).toBe('wiki.edit');
    expect(scopeOf('POST', '/ap%69.php', [['action', 'edit']])).toBe('wiki.edit');
  });

  it('leaves other requests unmatched: other paths, methods, and fields', () => {
    expect(scopeOf('POST', '/index.php', [['title', 'Special:UserLogin'], ['action', 'view']])).toBeNull();
    expect(scopeOf('GET', '/index.php', [['action', 'submit']])).toBeNull();
    expect(scopeOf('POST', '/index.php/Main_Page', [])).toBeNull();
    expect(scopeOf('POST', '/load.php', [['action', 'submit']])).toBeNull();
  });

  it('takes the strictest of several routes of one scope', () => {
    const r: GatewayRoute[] = [
      { method: 'POST', path: '/x', scope: 's' },
      { method: 'POST', path: '/x', body: { a: '1' }, scope: 's', requires: 'always' },
    ];
    const m = matchRoute(routesOnPath(compileRoutes(r), 'POST', '/x'), [['a', '1']]);
    expect(m.kind === 'route' && m.route.requires).toBe('always');
  });

  it('lets HEAD match a GET route and * match one non-empty segment only', () => {
    const r = compileRoutes([{ method: 'GET', path: '/a/*/b', scope: 's' }]);
    expect(routesOnPath(r, 'HEAD', '/a/1/b')).toHaveLength(1);
    expect(routesOnPath(r, 'GET', '/a//b')).toHaveLength(0);
    expect(routesOnPath(r, 'GET', '/a/1/2/b')).toHaveLength(0);
  });

  it('folds values: NFC, case, _ as space, whitespace runs', () => {
    expect(foldValue('Cafe\u0301  Page_One ')).toBe('café page one');
  });

  it.each([
    ['NBSP and ideographic spaces', '\u3000Special:\u00a0UserRights\u00a0'],
    ['spaces around the colon', 'Special : UserRights'],
    ['a leading colon', ':Special:UserRights'],
    ['left-to-right and right-to-left marks', 'Spe\u200ecial:User\u200fRights'],
    ['long s for s', 'Special:Userright\u017f'],
    ['a soft hyphen and a zero-width space', 'Special:User\u00adRi\u200bghts'],
  ])('attack: a title MediaWiki still reads as Special:UserRights (%s) matches the rights route', (_name, title) => {
    expect(scopeOf('POST', '/index.php', [['title', title]])).toBe('wiki.rights');
  });

  it('attack: the Kelvin sign folds to k, as the wiki folds it', () => {
    expect(foldValue('Special:Ma\u212aeSysop')).toBe('special:makesysop');
  });

  it('attack: a field name cut at NUL by PHP (title\\0x) is the field before it', () => {
    expect(foldName('title\0x')).toBe('title');
    expect(scopeOf('POST', '/index.php', [['title\0junk', 'Special:UserRights']])).toBe('wiki.rights');
  });
});
