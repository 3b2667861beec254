// What the page-world hooks are told about a site: its adapter's actions (method, URL pattern, what
// they require), the generic rule, its assistant markers and strict mode, from the background's site
// config. Runtime-neutral, pure.
import type { SiteConfig } from '../../messaging/contract';
import type { HookConfig } from '../channel';

export function hookConfig(config: SiteConfig): HookConfig {
  const adapter = config.protected ? config.adapter : null;
  return {
    actions: (adapter?.actions ?? []).map((a) => ({
      request: { method: a.request.method, url: a.request.url },
      requires: a.requires ?? 'agents',
    })),
    generic: config.protected && !adapter,
    markerHeaders: adapter?.assistant?.headers ?? [],
    markerFields: adapter?.assistant?.fields ?? {},
    markerSelectors: adapter?.assistant?.selectors ?? [],
    strictMode: config.protected && config.strictMode,
  };
}
