// Browser tests (test/e2e): real Chromium, the built extension, the verifier and the demo tools; and
// content-script modules checked against the browsers' own behaviour (test/lib/**/browser: Chromium
// and Firefox ESR, no extension). One file at a time: they share Chromium's managed-policy directory.
import { defineConfig } from 'vitest/config';
import { WxtVitest } from 'wxt/testing/vitest-plugin';

export default defineConfig({
  plugins: [WxtVitest()],
  test: {
    include: ['test/e2e/**/*.test.ts', 'test/lib/**/browser/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 90_000,
    hookTimeout: 90_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/e2e.json' },
  },
});
