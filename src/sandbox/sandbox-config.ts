// The standalone Danal sandbox's configuration (npm run sandbox:danal), from
// the environment. It shares DATABASE_URL, DANAL_SECRET_KEY and
// DANAL_MERCHANT_ID with the service, so one environment can start both; its
// own settings are SANDBOX_*.
import { z } from 'zod';
import { SANDBOX_MERCHANT_ID, SANDBOX_SECRET_KEY } from '../config.js';

const list = z.string().transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean));

const schema = z.object({
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  SANDBOX_TLS: z.enum(['true', 'false']).default('true'),
  SANDBOX_TLS_DIR: z.string().min(1).default('./.data/sandbox-tls'),
  SANDBOX_TLS_HOSTS: list.pipe(z.array(z.string().regex(/^[A-Za-z0-9.:-]+$/, 'must be host names or IP addresses')).min(1)).default(['localhost', '127.0.0.1', '::1']),
  SANDBOX_NOTI_URLS: list
    .pipe(z.array(z.url({ protocol: /^https?$/ })).min(1))
    .default(['http://localhost:4000/api/payment/noti/vaccount', 'http://127.0.0.1:4000/api/payment/noti/vaccount']),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  SANDBOX_PG_DIR: z.string().min(1).default('./.data/sandbox-pg'),
  SANDBOX_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54339),
  DANAL_SECRET_KEY: z.string().trim().min(1).default(SANDBOX_SECRET_KEY),
  DANAL_MERCHANT_ID: z.string().trim().min(1).max(20).default(SANDBOX_MERCHANT_ID),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface SandboxConfig {
  port: number;
  host: string;
  /** Where the CA and server certificate live; undefined serves plain http. */
  tls?: { dir: string; hosts: string[] };
  notiUrls: string[];
  database: { url?: string; embeddedDir: string; embeddedPort: number };
  secretKey: string;
  merchantId: string;
  logLevel: string;
}

export function loadSandboxConfig(source: NodeJS.ProcessEnv = process.env): SandboxConfig {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${String(i.path[0] ?? '(env)')}: ${i.message}`);
    throw new Error(`Invalid sandbox configuration:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  return {
    port: env.SANDBOX_PORT,
    host: env.SANDBOX_HOST,
    tls: env.SANDBOX_TLS === 'true' ? { dir: env.SANDBOX_TLS_DIR, hosts: env.SANDBOX_TLS_HOSTS } : undefined,
    notiUrls: env.SANDBOX_NOTI_URLS,
    database: { url: env.DATABASE_URL, embeddedDir: env.SANDBOX_PG_DIR, embeddedPort: env.SANDBOX_PG_PORT },
    secretKey: env.DANAL_SECRET_KEY,
    merchantId: env.DANAL_MERCHANT_ID,
    logLevel: env.LOG_LEVEL,
  };
}
