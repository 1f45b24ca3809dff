// npm run test:browser: the checkout page in real headless Chromium (Debian's
// chromium package, driven by playwright-core). Apart from npm test because it
// needs that browser installed; .ci/run installs it.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
