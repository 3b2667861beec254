// `npm run test:faults`, browser part: extension faults and hostile pages in real Chromium
// (test/fault/browser, test/security/browser). One file at a time: they share Chromium's managed-policy directory.
import { defineConfig } from 'vitest/config';
import { WxtVitest } from 'wxt/testing/vitest-plugin';

export default defineConfig({
  plugins: [WxtVitest()],
  test: {
    include: ['test/fault/browser/**/*.test.ts', 'test/security/browser/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/setup/tally.global.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 90_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/faults-browser.json' },
  },
});
