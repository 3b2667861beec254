// The built manifests (npm test builds both before the unit tests): fixed key, no loosened CSP (E-07),
// no web-accessible resources (E-08), no external connections (E-02), frame-ancestors 'none' (E-12).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXTENSION_KEY, GECKO_ID } from '@/lib/extension-identity';

function manifest(target: string): Record<string, unknown> {
  const path = new URL(`../.output/${target}/manifest.json`, import.meta.url);
  if (!existsSync(path)) throw new Error(`.output/${target} is missing: run \`npm run build:all\` first (npm test does)`);
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

describe.each(['chrome-mv3', 'firefox-mv3'])('%s manifest', (target) => {
  it('is MV3 with a strict extension-page CSP: self only, no eval, no remote code, no framing', () => {
    const m = manifest(target);
    expect(m.manifest_version).toBe(3);
    const csp = (m.content_security_policy as { extension_pages: string }).extension_pages;
    expect(csp).toBe("script-src 'self'; object-src 'self'; frame-ancestors 'none'");
  });

  it('exposes nothing to web pages or other extensions', () => {
    const m = manifest(target);
    expect(m.web_accessible_resources).toBeUndefined();
    expect(m.externally_connectable).toBeUndefined();
  });

  it('carries its fixed identity', () => {
    const m = manifest(target);
    if (target === 'chrome-mv3') expect(m.key).toBe(EXTENSION_KEY);
    else expect((m.browser_specific_settings as { gecko: { id: string } }).gecko.id).toBe(GECKO_ID);
  });
});
