import { defineConfig } from 'vitest/config';
import { WxtVitest } from 'wxt/testing/vitest-plugin';

export default defineConfig({
  plugins: [WxtVitest()],
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    exclude: ['test/e2e/**', 'test/e2e-firefox/**', 'test/**/browser/**', 'node_modules/**'],
    environment: 'node',
    globalSetup: ['test/setup/postgres.global.ts', 'test/setup/tally.global.ts'],
    // The protocol's property and vector suites are CPU-bound; keep two workers on a 2-core machine.
    maxWorkers: 2,
    testTimeout: 30_000,
    // A machine-readable report beside the console one: .ci/run sums it into "N passed, M failed".
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/unit.json' },
  },
});
