import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

const LIVE = {
  NODE_ENV: 'production',
  JWT_SECRET: randomBytes(48).toString('base64'),
  DANAL_MODE: 'live',
  DANAL_API_BASE: 'https://one-api.danalpay.com',
  DANAL_SECRET_KEY: 'SK_LIVE_from_the_contract',
  DANAL_CLIENT_KEY: 'CL_LIVE_x',
  DANAL_MERCHANT_ID: 'A0000001',
  DATABASE_URL: 'postgresql://dpot@db.internal/dpot',
  PUBLIC_BASE_URL: 'https://api.dpot.example',
  CHECKOUT_SUCCESS_URL: 'https://dpot.example/pay/success',
  CHECKOUT_FAIL_URL: 'https://dpot.example/pay/fail',
};

describe('config', () => {
  it('starts with no environment at all: sandbox, port 4000, the documented order policy', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.danal.mode).toBe('sandbox');
    expect(config.orders).toMatchObject({ minAmount: 1_000, maxAmount: 1_000_000, amountUnit: 100, pointRatePercent: 100, ttlMinutes: 30 });
    expect(config.notifications.allowedIps).toEqual(expect.arrayContaining(['150.242.132.116', '127.0.0.1', '::1']));
  });

  it('names the variable of a bad value', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ ORDER_MIN_AMOUNT: '5000', ORDER_MAX_AMOUNT: '1000' })).toThrow(/ORDER_MIN_AMOUNT/);
    expect(() => loadConfig({ NOTI_ALLOWED_IPS: 'not-an-ip' })).toThrow(/NOTI_ALLOWED_IPS/);
    expect(() => loadConfig({ DANAL_MODE: 'test' })).toThrow(/DANAL_MODE/);
  });

  it('accepts a complete production configuration, without loopback for notifications', () => {
    const config = loadConfig(LIVE);
    expect(config.danal.mode).toBe('live');
    expect(config.notifications.allowedIps).toEqual(['150.242.132.116']);
  });

  it.each(['JWT_SECRET', 'DANAL_SECRET_KEY', 'DANAL_CLIENT_KEY', 'DANAL_MERCHANT_ID', 'DATABASE_URL'])(
    'refuses production without %s',
    (name) => {
      expect(() => loadConfig({ ...LIVE, [name]: undefined })).toThrow(new RegExp(name));
    },
  );

  it('refuses the sandbox and the development JWT secret in production', () => {
    expect(() => loadConfig({ ...LIVE, DANAL_MODE: 'sandbox' })).toThrow(/DANAL_MODE: must be "live" with NODE_ENV=production: a production process never serves the sandbox/);
    expect(() => loadConfig({ ...LIVE, JWT_SECRET: 'dev-only-insecure-jwt-secret-do-not-use-in-production' })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ ...LIVE, JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
  });

  it('has no switch that lets production serve the sandbox: BENCH_ALLOW_SANDBOX is refused, saying what replaced it', () => {
    const bench = { ...LIVE, DANAL_MODE: 'sandbox', DANAL_API_BASE: undefined, DANAL_SECRET_KEY: undefined, DANAL_CLIENT_KEY: undefined, DANAL_MERCHANT_ID: undefined };
    for (const value of ['1', 'yes']) {
      expect(() => loadConfig({ ...bench, BENCH_ALLOW_SANDBOX: value })).toThrow(/DANAL_MODE: must be "live"/);
      expect(() => loadConfig({ ...bench, BENCH_ALLOW_SANDBOX: value })).toThrow(/BENCH_ALLOW_SANDBOX: was removed.*sandbox:danal/);
    }
    expect(() => loadConfig({ BENCH_ALLOW_SANDBOX: '1' })).toThrow(/BENCH_ALLOW_SANDBOX/);
  });

  describe('live mode is real money, whatever NODE_ENV says', () => {
    const LIVE_ANY_ENV = { ...LIVE, NODE_ENV: undefined };

    it('accepts a complete live configuration without NODE_ENV', () => {
      expect(loadConfig(LIVE_ANY_ENV).danal.mode).toBe('live');
      expect(loadConfig({ ...LIVE_ANY_ENV, NODE_ENV: 'development' }).danal.mode).toBe('live');
    });

    it.each(['JWT_SECRET', 'DANAL_SECRET_KEY', 'DANAL_CLIENT_KEY', 'DANAL_MERCHANT_ID', 'DANAL_API_BASE', 'DATABASE_URL', 'PUBLIC_BASE_URL', 'CHECKOUT_SUCCESS_URL', 'CHECKOUT_FAIL_URL'])(
      'refuses live mode without %s: no development default',
      (name) => {
        for (const nodeEnv of [undefined, 'development', 'test']) {
          expect(() => loadConfig({ ...LIVE_ANY_ENV, NODE_ENV: nodeEnv, [name]: undefined })).toThrow(new RegExp(`${name}: is required with DANAL_MODE=live`));
        }
      },
    );

    it('tells how to make a JWT secret when there is none', () => {
      expect(() => loadConfig({ ...LIVE_ANY_ENV, JWT_SECRET: undefined })).toThrow(/openssl rand -base64 48/);
    });

    it.each(['http://one-api.danalpay.com', 'http://127.0.0.1:4010/sandbox/danal', 'http://localhost:4010/sandbox/danal', 'http://[::1]:4010/sandbox/danal'])(
      'refuses DANAL_API_BASE=%s: https only, loopback included',
      (base) => {
        expect(() => loadConfig({ ...LIVE_ANY_ENV, DANAL_API_BASE: base })).toThrow(/DANAL_API_BASE: must be an https:\/\/ URL.*NODE_EXTRA_CA_CERTS/);
      },
    );

    it("refuses the sandbox's published secret key", () => {
      expect(() => loadConfig({ ...LIVE_ANY_ENV, DANAL_SECRET_KEY: 'SK_TEST_dpot_sandbox_secret_key' })).toThrow(/DANAL_SECRET_KEY: is the sandbox's published key/);
    });

    it.each([
      ['one repeated character', 'a'.repeat(48), /one character repeated/],
      ['a short alphabet', 'ab'.repeat(10) + 'ba'.repeat(10) + 'aabb', /only 2 different characters/],
      ['a repeated pattern', 'changeme-'.repeat(5), /repeats a shorter pattern/],
      ['a run of consecutive characters', 'abcdefghijklmnopqrstuvwxyz0123456789', /runs of consecutive characters/],
      ['words', 'a-real-production-secret-of-enough-length', /mostly words/],
      ['words and runs', 'webhook-admin-key-0123456789abcdef0123', /mostly words or runs/],
      ['digits only', '8471920364758192037465910283746512', /at most 112 bits of randomness/],
      ['the development default', 'dev-only-insecure-jwt-secret-do-not-use-in-production', /published in this repository/],
    ])('refuses a JWT_SECRET that is %s, saying how to make one', (_what, secret, why) => {
      expect(() => loadConfig({ ...LIVE_ANY_ENV, JWT_SECRET: secret })).toThrow(why);
      expect(() => loadConfig({ ...LIVE_ANY_ENV, JWT_SECRET: secret })).toThrow(/openssl rand -base64 48/);
    });

    it('refuses admin keys that are not random, naming which, without repeating them', () => {
      const good = randomBytes(32).toString('base64url');
      let message = '';
      try {
        loadConfig({ ...LIVE_ANY_ENV, ADMIN_API_KEYS: `${good},my-long-operator-key-0123456789abcdef` });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/ADMIN_API_KEYS: key 2 is a value published in this repository.*openssl rand -base64 48/);
      expect(message).not.toContain('my-long-operator-key');
      expect(loadConfig({ ...LIVE_ANY_ENV, ADMIN_API_KEYS: good }).adminApiKeys).toEqual([good]);
    });

    it('refuses webhook secrets whose key is not random', () => {
      const env = { ...LIVE_ANY_ENV, WEBHOOK_URLS: 'https://merchant.example/hooks' };
      expect(() => loadConfig({ ...env, WEBHOOK_SECRETS: `whsec_${Buffer.alloc(32, 7).toString('base64')}` })).toThrow(/WEBHOOK_SECRETS: secret 1: its key is one byte repeated/);
      expect(loadConfig({ ...env, WEBHOOK_SECRETS: `whsec_${randomBytes(32).toString('base64')}` }).webhooks.secrets).toHaveLength(1);
    });

    it('keeps the development defaults for sandbox mode', () => {
      const config = loadConfig({ NODE_ENV: 'development' });
      expect(config.danal.mode).toBe('sandbox');
      expect(config.jwt.secret).toBe('dev-only-insecure-jwt-secret-do-not-use-in-production');
      expect(loadConfig({ ADMIN_API_KEYS: 'my-long-operator-key-0123456789abcdef' }).adminApiKeys).toHaveLength(1);
    });
  });

  it('listens on loopback in sandbox mode unless HOST is set, and everywhere in live mode', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig(LIVE).host).toBe('0.0.0.0');
  });

  it('never lets the reconciler take a Confirming order whose request may still be waiting for Danal', () => {
    expect(loadConfig({ DANAL_TIMEOUT_MS: '15000' }).jobs.reconcile.staleAfterMs).toBe(75_000);
    // A safe margin of 30 s past the Danal timeout: 1 ms above it let an orphan sweep take an order still being confirmed.
    for (const stale of ['15000', '15001', '44999']) {
      expect(() => loadConfig({ DANAL_TIMEOUT_MS: '15000', RECONCILE_STALE_AFTER_MS: stale })).toThrow(/RECONCILE_STALE_AFTER_MS: must be at least DANAL_TIMEOUT_MS \+ 30000 \(45000\)/);
    }
    expect(loadConfig({ DANAL_TIMEOUT_MS: '15000', RECONCILE_STALE_AFTER_MS: '45000' }).jobs.reconcile.staleAfterMs).toBe(45_000);
    expect(() => loadConfig({ DANAL_TIMEOUT_MS: '1000', RECONCILE_STALE_AFTER_MS: '3000' })).toThrow(/RECONCILE_STALE_AFTER_MS/);
    expect(() => loadConfig({ RECONCILE_RETRY_BASE_MS: '5000', RECONCILE_RETRY_MAX_MS: '1000' })).toThrow(/RECONCILE_RETRY_BASE_MS/);
    expect(() => loadConfig({ JOBS_ENABLED: 'yes' })).toThrow(/JOBS_ENABLED/);
  });

  it('keeps a virtual account open at least as long as its order can be confirmed', () => {
    expect(loadConfig({}).orders.vaccountDepositMinutes).toBe(1_440);
    expect(() => loadConfig({ ORDER_TTL_MINUTES: '60', VACCOUNT_DEPOSIT_MINUTES: '30' })).toThrow(/VACCOUNT_DEPOSIT_MINUTES: must be at least ORDER_TTL_MINUTES/);
  });

  it('accepts the crash-test hook only in test mode, and only known points', () => {
    expect(loadConfig({ NODE_ENV: 'test', TEST_CRASH_AT: 'confirm.after_danal' }).crashAt).toEqual(['confirm.after_danal']);
    expect(() => loadConfig({ TEST_CRASH_AT: 'confirm.after_danal' })).toThrow(/TEST_CRASH_AT: is only allowed with NODE_ENV=test/);
    expect(() => loadConfig({ NODE_ENV: 'test', TEST_CRASH_AT: 'somewhere' })).toThrow(/TEST_CRASH_AT/);
  });

  it('reads CORS origins and refuses anything that is not an origin', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://dpot.example, http://localhost:5173/' }).corsOrigins).toEqual(['https://dpot.example', 'http://localhost:5173']);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://dpot.example/pay' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
    expect(loadConfig({}).corsOrigins).toEqual([]);
  });

  it('refuses webhook URLs without a signing secret, and malformed secrets', () => {
    expect(() => loadConfig({ WEBHOOK_URLS: 'https://merchant.example/hooks' })).toThrow(/WEBHOOK_SECRETS: is required when WEBHOOK_URLS is set/);
    expect(() => loadConfig({ WEBHOOK_URLS: 'https://merchant.example/hooks', WEBHOOK_SECRETS: 'plain-secret' })).toThrow(/WEBHOOK_SECRETS/);
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(loadConfig({ WEBHOOK_URLS: 'https://merchant.example/hooks', WEBHOOK_SECRETS: secret }).webhooks).toMatchObject({ urls: ['https://merchant.example/hooks'], secrets: [secret] });
    expect(() => loadConfig({ WEBHOOK_SECRETS: [secret, secret, secret].join(',') })).toThrow(/at most two/);
  });

  it.each([
    ['true', /TRUST_PROXY: "true" trusts every address.*X-Forwarded-For.*addresses or CIDRs/],
    ['1', /TRUST_PROXY: a hop count trusts whatever X-Forwarded-For.*addresses or CIDRs/],
    ['2', /TRUST_PROXY: a hop count/],
    ['everything', /TRUST_PROXY: each entry must be a proxy address, a CIDR, or loopback, linklocal or uniquelocal/],
    ['10.0.0.0/33', /TRUST_PROXY/],
  ])('refuses TRUST_PROXY=%s, saying why', (value, message) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(message);
  });

  it("accepts the proxies' addresses, CIDRs and Express's range names in TRUST_PROXY", () => {
    expect(loadConfig({ TRUST_PROXY: 'loopback' }).trustProxy).toEqual(['loopback']);
    expect(loadConfig({ TRUST_PROXY: 'loopback, linklocal,uniquelocal' }).trustProxy).toEqual(['loopback', 'linklocal', 'uniquelocal']);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.7,10.1.0.0/16,fd00::/8,2001:db8::1' }).trustProxy).toEqual(['10.0.0.7', '10.1.0.0/16', 'fd00::/8', '2001:db8::1']);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBeUndefined();
    expect(loadConfig({}).trustProxy).toBeUndefined();
  });

  it('accepts CIDRs in NOTI_ALLOWED_IPS', () => {
    expect(loadConfig({ ...LIVE, NOTI_ALLOWED_IPS: '150.242.132.0/24, 2001:db8::/32,203.0.113.9' }).notifications.allowedIps).toEqual(['150.242.132.0/24', '2001:db8::/32', '203.0.113.9']);
    expect(() => loadConfig({ NOTI_ALLOWED_IPS: '150.242.132.0/40' })).toThrow(/NOTI_ALLOWED_IPS/);
  });
});
