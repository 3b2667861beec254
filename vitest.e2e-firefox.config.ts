// Firefox browser tests (test/e2e-firefox): Debian's Firefox ESR over WebDriver BiDi, the built
// Firefox extension, the verifier and the demo tools. One file at a time: they share /etc/firefox/policies.
import { defineConfig } from 'vitest/config';
import { WxtVitest } from 'wxt/testing/vitest-plugin';

export default defineConfig({
  plugins: [WxtVitest()],
  test: {
    include: ['test/e2e-firefox/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 90_000,
    hookTimeout: 90_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/e2e-firefox.json' },
  },
});
