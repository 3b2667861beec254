// Match patterns as Firefox can register them: Firefox has no ports in match patterns (a pattern
// with one registers without complaint and then matches no page at all), so a protected site's port
// is dropped and its scripts run on every port of that host. Which pages are protected is still
// decided by the background from the policy's own patterns, ports included (lib/policy/site-adapters.ts),
// so the wider registration only wakes the scripts, never protects an extra page. Runtime-neutral, pure.

const WITH_PORT = /^([^:/]+:\/\/)(\[[^\]]*\]|[^/:]*):(?:\d+|\*)(\/.*)?$/s;

/** The pattern without its port (`http://127.0.0.1:8080/*` → `http://127.0.0.1/*`); any other pattern unchanged. */
export function withoutPort(pattern: string): string {
  const m = WITH_PORT.exec(pattern);
  return m ? `${m[1]}${m[2]}${m[3] ?? ''}` : pattern;
}

/** The patterns to hand `scripting.registerContentScripts` on this browser: unchanged on Chrome, port-less and deduplicated on Firefox. */
export function patternsForBrowser(patterns: readonly string[], firefox: boolean): string[] {
  return firefox ? [...new Set(patterns.map(withoutPort))] : [...patterns];
}
