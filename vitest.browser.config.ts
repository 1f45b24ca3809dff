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
    // A page waits for real work: registering hashes the password with scrypt twice
    // (sign-up and login), which took more than expect.poll's default 1 s once in CI
    // on a machine that had just installed Chromium. A wrong text still fails, later.
    expect: { poll: { timeout: 10_000 } },
  },
});
