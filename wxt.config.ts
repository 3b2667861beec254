import { sep } from 'node:path';
import { defineConfig } from 'wxt';
import { EXTENSION_KEY, GECKO_ID } from './lib/extension-identity';

/**
 * zod's own sources carry comments that mention `@__PURE__` where Rollup cannot use them; Rollup drops
 * the comment and says so on every build. Harmless, and not ours to fix: only that notice, only for
 * zod's files, is silenced, so every other warning still reaches `npm start`'s and the build's output.
 */
function isZodCommentNotice(warning: { code?: string; id?: string }): boolean {
  return warning.code === 'INVALID_ANNOTATION' && (warning.id ?? '').includes(`${sep}node_modules${sep}zod${sep}`);
}

// See https://wxt.dev/api/config.html
export default defineConfig({
  modules: ['@wxt-dev/module-react', '@wxt-dev/webextension-polyfill'],
  vite: () => ({
    build: {
      rollupOptions: {
        onwarn(warning, warn) {
          if (!isZodCommentNotice(warning)) warn(warning);
        },
      },
    },
  }),
  // MV3 on every browser: Firefox too, so both builds share one background model.
  manifestVersion: 3,
  manifest: ({ browser }) => ({
    name: 'Countersign',
    description: 'Holds AI-assistant actions on internal tools until their owner signs an approval.',
    permissions: ['storage', 'alarms', 'notifications', 'scripting', 'tabs'],
    // The verifier and the protected internal tools are named by admin policy at run time, on any
    // host: the background must reach the verifier, and holds need the tools' pages.
    host_permissions: ['http://*/*', 'https://*/*'],
    // Admin policy arrives through managed storage (Chrome: 3rdparty extension policy).
    storage: { managed_schema: 'managed_schema.json' },
    ...(browser === 'firefox'
      ? {
          browser_specific_settings: {
            // Logs go to the company's own verifier, never to the extension's authors.
            gecko: { id: GECKO_ID, strict_min_version: '142.0', data_collection_permissions: { required: ['none'] } },
          },
        }
      : { key: EXTENSION_KEY }),
    content_security_policy: {
      extension_pages: "script-src 'self'; object-src 'self'; frame-ancestors 'none'",
    },
  }),
});
