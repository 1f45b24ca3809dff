import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

const LIVE = {
  NODE_ENV: 'production',
  JWT_SECRET: 'a-real-production-secret-of-enough-length',
  DANAL_MODE: 'live',
  DANAL_API_BASE: 'https://one-api.danalpay.com',
  DANAL_SECRET_KEY: 'SK_LIVE_x',
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
    expect(() => loadConfig({ ...LIVE, DANAL_MODE: 'sandbox' })).toThrow(/DANAL_MODE/);
    expect(() => loadConfig({ ...LIVE, JWT_SECRET: 'dev-only-insecure-jwt-secret-do-not-use-in-production' })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ ...LIVE, JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
  });

  it('lets the benchmark run production with the sandbox only through its explicit switch', () => {
    const bench = { ...LIVE, DANAL_MODE: 'sandbox', DANAL_API_BASE: undefined, DANAL_SECRET_KEY: undefined, DANAL_CLIENT_KEY: undefined, DANAL_MERCHANT_ID: undefined };
    expect(() => loadConfig(bench)).toThrow(/DANAL_MODE/);
    expect(() => loadConfig({ ...bench, BENCH_ALLOW_SANDBOX: 'yes' })).toThrow(/BENCH_ALLOW_SANDBOX/);
    const config = loadConfig({ ...bench, BENCH_ALLOW_SANDBOX: '1' });
    expect(config.danal.mode).toBe('sandbox');
    // Everything else production needs is still required.
    expect(() => loadConfig({ ...bench, BENCH_ALLOW_SANDBOX: '1', JWT_SECRET: undefined })).toThrow(/JWT_SECRET/);
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
