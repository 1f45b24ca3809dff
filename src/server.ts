// Composition root: builds every part from config and starts listening.
// Used by src/main.ts, by the tests and by the Postman run alike.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { createPrisma } from './db/prisma.js';
import type { Logger } from './lib/logger.js';
import { createApp } from './app.js';
import { createAuthService } from './auth/auth-service.js';
import { DanalHttpClient } from './danal/danal-http-client.js';
import { createPaymentService } from './payments/payment-service.js';
import { createCancelService } from './payments/cancel-service.js';
import { createDepositNotificationService } from './payments/deposit-notification-service.js';
import { SandboxStore } from './sandbox/sandbox-store.js';
import { sandboxRouter } from './sandbox/sandbox-router.js';
import { createReconciler, type SweepReport } from './payments/reconciler.js';
import { createAdminService } from './admin/admin-service.js';
import { createWebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { secretKey } from './webhooks/signature.js';
import { startJobEngine, type JobEngine } from './jobs/job-engine.js';
import { purgeExpiredKeys } from './idempotency/idempotency-store.js';
import { purgeOldRefusals } from './payments/refused-notifications.js';
import { armCrashPoints } from './lib/crash-points.js';
import { MemoryRateLimitStore, RedisRateLimitStore } from './rate-limit/rate-limit-store.js';

export interface RunningServer {
  url: string;
  port: number;
  /** Runs one reconciler sweep in this process now (tests, operators' tools). */
  sweep: () => Promise<SweepReport>;
  /** Runs one webhook dispatch in this process now. */
  dispatchWebhooks: () => Promise<void>;
  /** Stops accepting, lets in-flight requests finish, then closes the database pools. */
  close(): Promise<void>;
}

export async function startServer(config: Config, databaseUrl: string, log: Logger): Promise<RunningServer> {
  armCrashPoints(config.crashAt);
  const db = createPrisma(databaseUrl, config.database.poolSize);
  const sandboxMode = config.danal.mode === 'sandbox';
  let baseUrl = ''; // known once listening
  // What browsers and Danal are told; the sandbox API itself is reached on 127.0.0.1.
  const selfUrl = () => config.publicBaseUrl ?? baseUrl.replace('127.0.0.1', 'localhost');

  const sandboxStore = sandboxMode ? new SandboxStore(databaseUrl) : undefined;
  await sandboxStore?.init();

  const danal = new DanalHttpClient({
    baseUrl: () => config.danal.apiBase ?? `${baseUrl}/sandbox/danal`,
    secretKey: config.danal.secretKey,
    merchantId: config.danal.merchantId,
    timeoutMs: config.danal.timeoutMs,
  });
  const notiPath = () => config.danal.notiUrl ?? `${selfUrl()}/api/payment/noti/vaccount`;
  const notiUrl = (token: string) => {
    const url = new URL(notiPath());
    url.pathname = `${url.pathname.replace(/\/$/, '')}/${token}`;
    return url.toString();
  };
  const payments = createPaymentService({
    db,
    danal,
    policy: config.orders,
    merchantId: config.danal.merchantId,
    mobileItemCode: config.danal.mobileItemCode,
    log,
    urls: {
      successUrl: () => config.orders.successUrl ?? `${selfUrl()}/sandbox/danal/result?status=success`,
      failUrl: () => config.orders.failUrl ?? `${selfUrl()}/sandbox/danal/result?status=fail`,
      notiUrl,
      sandboxCheckoutUrl: sandboxMode ? () => `${selfUrl()}/sandbox/danal/checkout` : undefined,
    },
  });
  const reconciler = createReconciler({
    db,
    danal,
    log,
    settings: { ...config.jobs.reconcile, attemptLeaseMs: config.danal.timeoutMs + 2_000 },
  });
  /** The job engine's periodic work: settle and expire orders, forget old idempotency keys. */
  async function housekeeping(): Promise<SweepReport> {
    const report = await reconciler.sweep();
    await purgeExpiredKeys(db, config.jobs.idempotencyTtlHours);
    await purgeOldRefusals(db);
    return report;
  }
  const webhooks = createWebhookDispatcher({ db, log, settings: { ...config.webhooks, keys: config.webhooks.secrets.map(secretKey) } });
  let jobs: JobEngine | undefined;
  const rateLimitStore = config.rateLimits.redisUrl
    ? new RedisRateLimitStore(config.rateLimits.redisUrl, config.rateLimits.redisKeyPrefix, log)
    : new MemoryRateLimitStore();
  let accepting = true;
  const app = createApp({
    config,
    db,
    log,
    auth: createAuthService({ db, jwt: config.jwt, log }),
    payments,
    cancels: createCancelService({ db, danal, log, smallestPartialCancel: config.orders.amountUnit }),
    notifications: createDepositNotificationService({ db, log, requireToken: config.notifications.requireToken }),
    sandbox: sandboxStore && sandboxRouter({ store: sandboxStore, secretKey: config.danal.secretKey, merchantId: config.danal.merchantId, defaultNotiUrl: notiPath, notificationTargets: () => [notiPath(), ...config.sandbox.notiUrls] }),
    isAccepting: () => accepting,
    rateLimitStore,
    admin: createAdminService({ db, log, webhookUrls: config.webhooks.urls }),
    jobsHealthy: config.jobs.enabled ? () => jobs?.healthy() ?? false : undefined,
  });

  const limits = config.http;
  const server = http.createServer(
    {
      // A request whose headers, or whole body, take longer is answered 408 and its socket closed.
      // Node checks these every connectionsCheckingInterval, so that bounds how late the 408 can be.
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
      keepAliveTimeout: limits.keepAliveTimeoutMs,
    },
    app,
  );
  // Past the cap a new connection is closed at once, so descriptors stay for the ones we serve.
  server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;
  // After listening: in sandbox mode the reconciler reaches Danal through this server.
  if (config.jobs.enabled) {
    jobs = await startJobEngine({
      databaseUrl,
      staleAfterSeconds: config.jobs.staleAfterSeconds,
      log,
      tasks: [
        { name: 'reconcile-sweep', intervalSeconds: config.jobs.intervalSeconds, run: housekeeping },
        { name: 'webhook-dispatch', intervalSeconds: config.webhooks.intervalSeconds, run: webhooks.dispatch },
      ],
    });
  }

  return {
    url: baseUrl,
    port,
    sweep: housekeeping,
    dispatchWebhooks: webhooks.dispatch,
    async close() {
      accepting = false;
      await jobs?.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections go as soon as their request is answered...
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      server.closeIdleConnections();
      // ...and in-flight requests get a bounded time to finish (a Danal call may be among them).
      const deadline = setTimeout(() => server.closeAllConnections(), config.danal.timeoutMs + 5_000);
      await closed;
      clearInterval(sweep);
      clearTimeout(deadline);
      await Promise.allSettled([db.close(), sandboxStore?.close(), rateLimitStore.close()]);
    },
  };
}
