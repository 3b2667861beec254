// `npm run test:faults`, Node part: the security and fault suites (test/security, test/fault) at full
// strength — FUZZ_RUNS and FAULT_ITERATIONS are raised by scripts/test-faults.mjs. Browser cases are in
// vitest.faults-browser.config.ts. The same files run in `npm test` with small counts.
import { defineConfig } from 'vitest/config';
import { WxtVitest } from 'wxt/testing/vitest-plugin';

export default defineConfig({
  plugins: [WxtVitest()],
  test: {
    include: ['test/security/**/*.test.ts', 'test/fault/**/*.test.ts'],
    exclude: ['test/**/browser/**', 'node_modules/**'],
    environment: 'node',
    globalSetup: ['test/setup/postgres.global.ts', 'test/setup/tally.global.ts'],
    maxWorkers: 2,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/faults.json' },
  },
});
