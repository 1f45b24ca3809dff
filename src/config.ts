// The one place where the environment becomes typed configuration.
// Validated once at start; a bad value stops the start with the variable's name.
import { z } from 'zod';
import { CRASH_POINTS, type CrashPoint } from './lib/crash-points.js';
import { HOW_TO_MAKE_A_SECRET, weakKeyBytesReason, weakSecretReason } from './lib/secret-strength.js';

const DEV_JWT_SECRET = 'dev-only-insecure-jwt-secret-do-not-use-in-production';
// The sandbox's own keys. They only open our own /sandbox/danal, never real Danal.
export const SANDBOX_SECRET_KEY = 'SK_TEST_dpot_sandbox_secret_key';
export const SANDBOX_CLIENT_KEY = 'CL_TEST_dpot_sandbox_client_key';
export const SANDBOX_MERCHANT_ID = '9810030930';
export const DANAL_NOTIFICATION_IP = '150.242.132.116';

/** How much longer than DANAL_TIMEOUT_MS an in-flight order must stay untouched before it counts as lost. */
export const STALE_MARGIN_MS = 30_000;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalText = z.string().trim().min(1).optional();
const url = z.url({ protocol: /^https?$/ });
const commaList = z.string().transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean));
const addressOrCidr = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], { error: 'each entry must be an IP address or a CIDR such as 150.242.132.0/24' });
const ipList = commaList.pipe(z.array(addressOrCidr).min(1));

// Express's names for address ranges (proxy-addr): 127.0.0.0/8 and ::1; 169.254.0.0/16 and fe80::/10;
// 10/8, 172.16/12, 192.168/16 and fc00::/7.
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'] as const;
const trustProxyList = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    if (value === 'true') {
      ctx.addIssue({
        code: 'custom',
        message:
          '"true" trusts every address, so any client can choose the address the deposit check sees with X-Forwarded-For; name your proxies\' addresses or CIDRs instead (or loopback, linklocal, uniquelocal)',
      });
    } else if (/^\d+$/.test(value)) {
      ctx.addIssue({
        code: 'custom',
        message:
          'a hop count trusts whatever X-Forwarded-For a client that reaches this port directly sends, so it can choose the address the deposit check sees; name your proxies\' addresses or CIDRs instead (or loopback, linklocal, uniquelocal)',
      });
    }
  })
  .pipe(commaList)
  .pipe(z.array(z.union([z.enum(PROXY_RANGE_NAMES), addressOrCidr], { error: 'each entry must be a proxy address, a CIDR, or loopback, linklocal or uniquelocal' })));

/** scheme://host[:port], nothing after it (a trailing slash is tolerated). */
const isOrigin = (value: string) => URL.canParse(value) && new URL(value).origin === value.replace(/\/$/, '');

const envObject = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: int(0, 65535).default(4000),
  // Unset: loopback in sandbox mode (where points are free), every interface in live mode.
  HOST: z.string().min(1).optional(),
  PUBLIC_BASE_URL: url.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // What a reverse proxy would allow a client: slow or idle sockets are closed, not held.
  HTTP_HEADERS_TIMEOUT_MS: int(100, 600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000).default(5_000),
  HTTP_MAX_CONNECTIONS: int(1, 1_000_000).default(500),

  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_POOL_SIZE: int(1, 200).default(10),
  EMBEDDED_PG_DIR: z.string().min(1).default('./.data/pg'),
  EMBEDDED_PG_PORT: int(1, 65535).default(54329),

  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().min(1).default('dpot-pay'),
  JWT_AUDIENCE: z.string().min(1).default('dpot'),
  JWT_TTL_SECONDS: int(60, 7 * 24 * 3600).default(3600),

  DANAL_MODE: z.enum(['sandbox', 'live']).default('sandbox'),
  DANAL_API_BASE: url.optional(),
  DANAL_SECRET_KEY: optionalText,
  DANAL_CLIENT_KEY: optionalText,
  DANAL_MERCHANT_ID: z.string().trim().min(1).max(20).optional(),
  DANAL_TIMEOUT_MS: int(100, 120_000).default(15_000),
  DANAL_NOTI_URL: url.optional(),
  DANAL_MOBILE_ITEM_CODE: z.string().regex(/^\d{10}$/, 'must be 10 digits').default('1270000000'),

  ORDER_MIN_AMOUNT: int(1, 100_000_000).default(1_000),
  ORDER_MAX_AMOUNT: int(1, 100_000_000).default(1_000_000),
  ORDER_AMOUNT_UNIT: int(1, 1_000_000).default(100),
  POINT_RATE_PERCENT: int(1, 1_000).default(100),
  ORDER_TTL_MINUTES: int(1, 24 * 60).default(30),
  VACCOUNT_DEPOSIT_MINUTES: int(1, 30 * 24 * 60).default(24 * 60),
  ORDER_NAME: z.string().trim().min(1).max(100).default('DPOT 포인트 충전'),
  CHECKOUT_SUCCESS_URL: url.optional(),
  CHECKOUT_FAIL_URL: url.optional(),

  JOBS_ENABLED: z.enum(['true', 'false']).default('true'),
  RECONCILE_INTERVAL_SECONDS: int(1, 3600).default(10),
  JOBS_STALE_AFTER_SECONDS: int(2, 24 * 3600).default(120),
  RECONCILE_STALE_AFTER_MS: int(1_000, 24 * 3600_000).optional(),
  RECONCILE_RETRY_BASE_MS: int(100, 24 * 3600_000).default(30_000),
  RECONCILE_RETRY_MAX_MS: int(100, 7 * 24 * 3600_000).default(3600_000),
  RECONCILE_MAX_ATTEMPTS: int(1, 100).default(10),
  IDEMPOTENCY_TTL_HOURS: int(24, 24 * 30).default(24),
  WEBHOOK_URLS: z
    .string()
    .transform((s) => s.split(',').map((u) => u.trim()).filter(Boolean))
    .pipe(z.array(url))
    .default([]),
  WEBHOOK_SECRETS: z
    .string()
    .transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'each must be whsec_ followed by base64 of at least 24 bytes')).max(2, 'at most two (old and new during a rotation)'))
    .default([]),
  WEBHOOK_INTERVAL_SECONDS: int(1, 3600).default(2),
  WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(10_000),
  WEBHOOK_MAX_ATTEMPTS: int(1, 50).default(8),
  WEBHOOK_RETRY_BASE_MS: int(100, 24 * 3600_000).default(30_000),
  WEBHOOK_RETRY_MAX_MS: int(100, 7 * 24 * 3600_000).default(6 * 3600_000),

  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  REDIS_KEY_PREFIX: z.string().min(1).max(64).default('dpot-pay:'),
  RATE_LIMIT_WINDOW_SECONDS: int(1, 3600).default(60),
  RATE_LIMIT_AUTH_PER_ADDRESS: int(1, 10_000_000).default(30),
  // OWASP's pattern: tight per (account, address), so that a stranger's guesses lock out only the
  // stranger; loose per account, so that guessing spread over many addresses is still slowed.
  RATE_LIMIT_LOGIN_PER_EMAIL_AND_ADDRESS: int(1, 10_000_000).default(10),
  RATE_LIMIT_LOGIN_PER_EMAIL: int(1, 10_000_000).default(100),
  RATE_LIMIT_PAYMENT_PER_USER: int(1, 10_000_000).default(60),
  RATE_LIMIT_PAYMENT_PER_ADDRESS: int(1, 10_000_000).default(600),
  RATE_LIMIT_NOTI_REFUSED_PER_ADDRESS: int(1, 10_000_000).default(10),
  ADMIN_API_KEYS: z
    .string()
    .transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[\x21-\x7e]{32,256}$/, 'each key must be 32-256 visible ASCII characters, no commas or spaces')))
    .default([]),
  CORS_ORIGINS: z
    .string()
    .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/ }).refine(isOrigin, 'must be an origin: scheme://host[:port]')))
    .default([]),

  NOTI_ALLOWED_IPS: ipList.default([DANAL_NOTIFICATION_IP]),
  // Sandbox mode: notification URLs the sandbox may post to besides this service's own.
  SANDBOX_NOTI_URLS: commaList.pipe(z.array(url)).default([]),
  NOTI_REQUIRE_TOKEN: z.enum(['true', 'false']).default('false'),
  TRUST_PROXY: trustProxyList.optional(),
  // Crash tests only (NODE_ENV=test): the process SIGKILLs itself at these points.
  TEST_CRASH_AT: z
    .string()
    .transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean))
    .pipe(z.array(z.enum(CRASH_POINTS)))
    .optional(),
  // Removed (a production process never serves the sandbox): refused with a pointer to what replaces it.
  BENCH_ALLOW_SANDBOX: z.string().optional(),
});

const envSchema = envObject.superRefine((env, ctx) => {
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    ctx.addIssue({ code: 'custom', path: ['HTTP_HEADERS_TIMEOUT_MS'], message: 'must not exceed HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)' });
  }
  if (env.ORDER_MIN_AMOUNT > env.ORDER_MAX_AMOUNT) {
    ctx.addIssue({ code: 'custom', path: ['ORDER_MIN_AMOUNT'], message: 'must not exceed ORDER_MAX_AMOUNT' });
  }
  // A Confirming order whose request is still waiting for Danal, or committing what Danal said,
  // must not be taken for lost: the margin covers the commit after the longest wait.
  if (env.RECONCILE_STALE_AFTER_MS !== undefined && env.RECONCILE_STALE_AFTER_MS < env.DANAL_TIMEOUT_MS + STALE_MARGIN_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['RECONCILE_STALE_AFTER_MS'],
      message: `must be at least DANAL_TIMEOUT_MS + ${STALE_MARGIN_MS} (${env.DANAL_TIMEOUT_MS + STALE_MARGIN_MS}): a confirm or cancel still waiting for Danal, or committing its answer, must not be taken for lost`,
    });
  }
  // The account must outlive the window in which the order can be confirmed.
  if (env.VACCOUNT_DEPOSIT_MINUTES < env.ORDER_TTL_MINUTES) {
    ctx.addIssue({ code: 'custom', path: ['VACCOUNT_DEPOSIT_MINUTES'], message: 'must be at least ORDER_TTL_MINUTES' });
  }
  if (env.WEBHOOK_URLS.length > 0 && env.WEBHOOK_SECRETS.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRETS'], message: 'is required when WEBHOOK_URLS is set (deliveries are signed)' });
  }
  if (env.JOBS_STALE_AFTER_SECONDS <= Math.max(env.RECONCILE_INTERVAL_SECONDS, env.WEBHOOK_INTERVAL_SECONDS)) {
    ctx.addIssue({ code: 'custom', path: ['JOBS_STALE_AFTER_SECONDS'], message: 'must be longer than RECONCILE_INTERVAL_SECONDS and WEBHOOK_INTERVAL_SECONDS' });
  }
  if (env.RECONCILE_RETRY_BASE_MS > env.RECONCILE_RETRY_MAX_MS) {
    ctx.addIssue({ code: 'custom', path: ['RECONCILE_RETRY_BASE_MS'], message: 'must not exceed RECONCILE_RETRY_MAX_MS' });
  }
  if (env.TEST_CRASH_AT && env.NODE_ENV !== 'test') {
    ctx.addIssue({ code: 'custom', path: ['TEST_CRASH_AT'], message: 'is only allowed with NODE_ENV=test' });
  }
  if (env.BENCH_ALLOW_SANDBOX !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['BENCH_ALLOW_SANDBOX'],
      message: 'was removed: a production process never serves the sandbox. Run DANAL_MODE=live against `npm run sandbox:danal` instead (README, "Live mode against a sandbox")',
    });
  }
  realMoneyRules(env, ctx);
});

/**
 * Live mode moves real money, whatever NODE_ENV says: no development default
 * (JWT secret, sandbox keys, embedded database, sandbox pages, plain http to
 * Danal) and no secret that is obviously not random. NODE_ENV=production
 * requires live mode, so it gets the same rules.
 */
function realMoneyRules(env: z.infer<typeof envObject>, ctx: z.RefinementCtx) {
  const live = env.DANAL_MODE === 'live';
  if (!live && env.NODE_ENV !== 'production') return;
  const mode = live ? 'DANAL_MODE=live (real money)' : 'NODE_ENV=production';
  const problem = (name: string, message: string) => ctx.addIssue({ code: 'custom', path: [name], message });
  if (!live) problem('DANAL_MODE', 'must be "live" with NODE_ENV=production: a production process never serves the sandbox');

  const required: [keyof typeof env, string][] = [
    ['JWT_SECRET', `there is no default secret; ${HOW_TO_MAKE_A_SECRET}`],
    ['DANAL_SECRET_KEY', 'from your Danal contract'],
    ['DANAL_CLIENT_KEY', 'from your Danal contract'],
    ['DANAL_MERCHANT_ID', 'from your Danal contract'],
    ['DANAL_API_BASE', 'https://one-api.danalpay.com, or a sandbox over https (README, "Live mode against a sandbox")'],
    ['DATABASE_URL', 'the embedded database is for development'],
    ['PUBLIC_BASE_URL', 'Danal needs our public notification URL'],
    ['CHECKOUT_SUCCESS_URL', "the frontend's page Danal's window returns to"],
    ['CHECKOUT_FAIL_URL', "the frontend's page Danal's window returns to on failure"],
  ];
  for (const [name, why] of required) if (env[name] === undefined) problem(name, `is required with ${mode}: ${why}`);

  if (env.DANAL_API_BASE !== undefined && !env.DANAL_API_BASE.startsWith('https://')) {
    problem('DANAL_API_BASE', `must be an https:// URL with ${mode}: the secret key travels in every call. For a sandbox, serve it over https (npm run sandbox:danal) and trust its CA with NODE_EXTRA_CA_CERTS`);
  }
  if (env.DANAL_SECRET_KEY === SANDBOX_SECRET_KEY) problem('DANAL_SECRET_KEY', `is the sandbox's published key; live mode needs the key of your Danal contract`);
  const weakJwt = env.JWT_SECRET !== undefined ? weakSecretReason(env.JWT_SECRET) : undefined;
  if (weakJwt) problem('JWT_SECRET', `${weakJwt}, so anyone could sign tokens for any user: ${HOW_TO_MAKE_A_SECRET}`);
  env.ADMIN_API_KEYS.forEach((key, i) => {
    const weak = weakSecretReason(key);
    if (weak) problem('ADMIN_API_KEYS', `key ${i + 1} ${weak}: ${HOW_TO_MAKE_A_SECRET}`);
  });
  env.WEBHOOK_SECRETS.forEach((secret, i) => {
    const weak = weakKeyBytesReason(Buffer.from(secret.slice('whsec_'.length), 'base64'));
    if (weak) problem('WEBHOOK_SECRETS', `secret ${i + 1}: ${weak}: make one with \`echo whsec_$(openssl rand -base64 32)\``);
  });
}

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  /** Set when PUBLIC_BASE_URL is given; otherwise derived from the listening port. */
  publicBaseUrl?: string;
  logLevel: Env['LOG_LEVEL'];
  /** The HTTP server's limits on slow and idle clients, and on open connections. */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number; maxConnections: number };
  database: { url?: string; poolSize: number; embeddedDir: string; embeddedPort: number };
  jwt: { secret: string; issuer: string; audience: string; ttlSeconds: number };
  danal: {
    mode: 'sandbox' | 'live';
    /** Undefined in sandbox mode without DANAL_API_BASE: this server's own /sandbox/danal. */
    apiBase?: string;
    secretKey: string;
    clientKey: string;
    merchantId: string;
    timeoutMs: number;
    notiUrl?: string;
    /** The SDK requires an itemCode for MOBILE (휴대폰) payments. */
    mobileItemCode: string;
  };
  orders: {
    minAmount: number;
    maxAmount: number;
    amountUnit: number;
    pointRatePercent: number;
    ttlMinutes: number;
    /** How long a virtual account takes deposits: the deadline sent to Danal (expireDate/expireTime). */
    vaccountDepositMinutes: number;
    orderName: string;
    successUrl?: string;
    failUrl?: string;
  };
  /**
   * Who may post deposit notifications; `requireToken` refuses the plain path, so that only a
   * notification to an order's own notiUrl (with its token) can credit.
   */
  notifications: { allowedIps: string[]; requireToken: boolean };
  /** The PostgreSQL job engine (pg-boss) and what runs on it: the reconciler and expiry. */
  jobs: {
    enabled: boolean;
    intervalSeconds: number;
    /** /readyz fails when no sweep has completed for this long. */
    staleAfterSeconds: number;
    reconcile: { staleAfterMs: number; retryBaseMs: number; retryMaxMs: number; maxAttempts: number };
    /** Idempotency keys older than this are purged by the sweep (at least 24 hours). */
    idempotencyTtlHours: number;
  };
  /** The proxies whose X-Forwarded-For is believed: addresses, CIDRs or Express's range names. */
  trustProxy?: string[];
  /** Outgoing PAYMENT_STATUS_CHANGED events (src/webhooks/). */
  webhooks: {
    urls: string[];
    secrets: string[];
    intervalSeconds: number;
    timeoutMs: number;
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
  };
  /** Requests per window; counted in Redis when redisUrl is set, else in this process. */
  rateLimits: {
    redisUrl?: string;
    redisKeyPrefix: string;
    windowMs: number;
    authPerAddress: number;
    loginPerEmailAndAddress: number;
    loginPerEmail: number;
    paymentPerUser: number;
    paymentPerAddress: number;
    /** Deposit notifications from one address NOTI_ALLOWED_IPS refuses that are answered and traced; past it, 429. */
    notiRefusedPerAddress: number;
  };
  /** Operators' API keys for /api/admin; empty = the admin API is closed. */
  adminApiKeys: string[];
  /** Browser origins allowed to call the API (CORS); empty = none. */
  corsOrigins: string[];
  /** Test-only SIGKILL points (src/lib/crash-points.ts). */
  crashAt: CrashPoint[];
  /** The in-process sandbox (sandbox mode): where else it may post deposit notifications. */
  sandbox: { notiUrls: string[] };
}

export class ConfigError extends Error {}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings in an env file mean "not set"; so does TRUST_PROXY=false (Express's own default).
  const cleaned = Object.fromEntries(Object.entries(source).filter(([k, v]) => v !== undefined && v !== '' && !(k === 'TRUST_PROXY' && v.trim() === 'false')));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${String(i.path[0] ?? '(env)')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  const sandbox = env.DANAL_MODE === 'sandbox';
  const allowedIps = sandbox ? [...new Set([...env.NOTI_ALLOWED_IPS, '127.0.0.1', '::1'])] : env.NOTI_ALLOWED_IPS;
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST ?? (sandbox ? '127.0.0.1' : '0.0.0.0'),
    publicBaseUrl: env.PUBLIC_BASE_URL?.replace(/\/$/, ''),
    logLevel: env.LOG_LEVEL,
    http: {
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: env.HTTP_MAX_CONNECTIONS,
    },
    database: {
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      embeddedDir: env.EMBEDDED_PG_DIR,
      embeddedPort: env.EMBEDDED_PG_PORT,
    },
    jwt: {
      secret: env.JWT_SECRET ?? DEV_JWT_SECRET,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      ttlSeconds: env.JWT_TTL_SECONDS,
    },
    danal: {
      mode: env.DANAL_MODE,
      apiBase: env.DANAL_API_BASE?.replace(/\/$/, ''),
      secretKey: env.DANAL_SECRET_KEY ?? SANDBOX_SECRET_KEY,
      clientKey: env.DANAL_CLIENT_KEY ?? SANDBOX_CLIENT_KEY,
      merchantId: env.DANAL_MERCHANT_ID ?? SANDBOX_MERCHANT_ID,
      timeoutMs: env.DANAL_TIMEOUT_MS,
      notiUrl: env.DANAL_NOTI_URL,
      mobileItemCode: env.DANAL_MOBILE_ITEM_CODE,
    },
    orders: {
      minAmount: env.ORDER_MIN_AMOUNT,
      maxAmount: env.ORDER_MAX_AMOUNT,
      amountUnit: env.ORDER_AMOUNT_UNIT,
      pointRatePercent: env.POINT_RATE_PERCENT,
      ttlMinutes: env.ORDER_TTL_MINUTES,
      vaccountDepositMinutes: env.VACCOUNT_DEPOSIT_MINUTES,
      orderName: env.ORDER_NAME,
      successUrl: env.CHECKOUT_SUCCESS_URL,
      failUrl: env.CHECKOUT_FAIL_URL,
    },
    notifications: { allowedIps, requireToken: env.NOTI_REQUIRE_TOKEN === 'true' },
    jobs: {
      enabled: env.JOBS_ENABLED === 'true',
      intervalSeconds: env.RECONCILE_INTERVAL_SECONDS,
      staleAfterSeconds: env.JOBS_STALE_AFTER_SECONDS,
      reconcile: {
        staleAfterMs: env.RECONCILE_STALE_AFTER_MS ?? env.DANAL_TIMEOUT_MS + 60_000,
        retryBaseMs: env.RECONCILE_RETRY_BASE_MS,
        retryMaxMs: env.RECONCILE_RETRY_MAX_MS,
        maxAttempts: env.RECONCILE_MAX_ATTEMPTS,
      },
      idempotencyTtlHours: env.IDEMPOTENCY_TTL_HOURS,
    },
    trustProxy: env.TRUST_PROXY,
    webhooks: {
      urls: env.WEBHOOK_URLS,
      secrets: env.WEBHOOK_SECRETS,
      intervalSeconds: env.WEBHOOK_INTERVAL_SECONDS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: env.WEBHOOK_RETRY_MAX_MS,
    },
    rateLimits: {
      redisUrl: env.REDIS_URL,
      redisKeyPrefix: env.REDIS_KEY_PREFIX,
      windowMs: env.RATE_LIMIT_WINDOW_SECONDS * 1000,
      authPerAddress: env.RATE_LIMIT_AUTH_PER_ADDRESS,
      loginPerEmailAndAddress: env.RATE_LIMIT_LOGIN_PER_EMAIL_AND_ADDRESS,
      loginPerEmail: env.RATE_LIMIT_LOGIN_PER_EMAIL,
      paymentPerUser: env.RATE_LIMIT_PAYMENT_PER_USER,
      paymentPerAddress: env.RATE_LIMIT_PAYMENT_PER_ADDRESS,
      notiRefusedPerAddress: env.RATE_LIMIT_NOTI_REFUSED_PER_ADDRESS,
    },
    adminApiKeys: env.ADMIN_API_KEYS,
    corsOrigins: env.CORS_ORIGINS.map((o) => o.replace(/\/$/, '')),
    crashAt: env.TEST_CRASH_AT ?? [],
    sandbox: { notiUrls: env.SANDBOX_NOTI_URLS },
  };
}
