// The MediaWiki examples shipped for admins stay valid: the site adapter parses with the extension's
// own schema, and the gateway config with the gateway's. Node only (tests).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAdapters } from '@/lib/protocol';
import { parseGatewayConfig } from '@/server/gateway/config';
import { compileRoutes, matchRoute, routesOnPath } from '@/server/gateway/routes';

describe('docs/adapters/mediawiki.json and docs/gateway/mediawiki.json', () => {
  it('the adapter parses with no problem, wiki.rights requiring always', () => {
    const parsed = parseAdapters(readFileSync('docs/adapters/mediawiki.json', 'utf8'));
    expect(parsed.problems).toEqual([]);
    const rights = parsed.adapters[0]!.actions.find((a) => a.scope === 'wiki.rights');
    expect(rights?.requires).toBe('always');
  });

  it('the gateway config parses, and each way into Special:UserRights is a wiki.rights route', () => {
    const config = parseGatewayConfig(JSON.parse(readFileSync('docs/gateway/mediawiki.json', 'utf8')), { WIKI_HELPER_COOKIE: 'x' });
    const routes = compileRoutes(config.routes);
    const scope = (path: string, fields: Array<[string, string]>) => {
      const m = matchRoute(routesOnPath(routes, 'POST', path), fields);
      return m.kind === 'route' ? `${m.route.scope}/${m.route.requires ?? 'agents'}` : m.kind;
    };
    for (const title of ['Special:UserRights', 'Special:Userrights/Bob', 'special:makesysop', 'Special:MakeBot/X']) {
      expect(scope('/index.php', [['title', title]]), title).toBe('wiki.rights/always');
      expect(scope(`/index.php/${encodeURIComponent(title).replace(/%2F/g, '/')}`, []), title).toBe('wiki.rights/always');
    }
    expect(scope('/api.php', [['action', 'userrights']])).toBe('wiki.rights/always');
    expect(scope('/index.php', [['title', 'Runbook'], ['action', 'submit']])).toBe('wiki.edit/agents');
    expect(scope('/index.php/Runbook', [['action', 'edit']])).toBe('wiki.edit/agents');
    expect(scope('/api.php', [['action', 'edit']])).toBe('wiki.edit/agents');
    expect(scope('/index.php', [['title', 'Special:UserLogin']])).toBe('none');
  });
});
