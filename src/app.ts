// The Express application: middleware order, routers, the error handler.
// Everything it needs arrives ready-made from src/server.ts.
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Config } from './config.js';
import type { Db } from './db/prisma.js';
import type { Logger } from './lib/logger.js';
import type { AuthService } from './auth/auth-service.js';
import type { PaymentService } from './payments/payment-service.js';
import type { CancelService } from './payments/cancel-service.js';
import type { DepositNotificationService } from './payments/deposit-notification-service.js';
import { requestContext, requireJsonBody } from './http/request-context.js';
import { errorHandler, notFoundHandler, errorBody } from './http/error-handler.js';
import { requireAuth } from './http/require-auth.js';
import { authRouter } from './http/auth-router.js';
import { paymentRouter } from './http/payment-router.js';
import { walletRouter } from './http/wallet-router.js';
import { notificationRouter } from './http/notification-router.js';
import { notificationGate } from './http/notification-gate.js';
import { idempotencyFor } from './http/idempotency.js';
import { cors } from './http/cors.js';
import { byAddress, byLoginEmail, byLoginEmailAndAddress, byUser, rateLimit } from './http/rate-limit.js';
import type { RateLimitStore } from './rate-limit/rate-limit-store.js';
import type { AdminService } from './admin/admin-service.js';
import { adminRouter } from './http/admin-router.js';
import { requireAdmin } from './http/require-admin.js';
import { docsRouter } from './http/docs.js';
import { jsonBody } from './http/json-body.js';
import { checkoutPageRouter } from './http/web.js';

export interface AppDeps {
  config: Config;
  db: Db;
  log: Logger;
  auth: AuthService;
  payments: PaymentService;
  cancels: CancelService;
  notifications: DepositNotificationService;
  admin: AdminService;
  /** Mounted at /sandbox/danal in sandbox mode only. */
  sandbox?: express.Router;
  /** False while shutting down, so that load balancers stop sending. */
  isAccepting: () => boolean;
  rateLimitStore: RateLimitStore;
  /** The job engine's health; undefined when this process runs no jobs (JOBS_ENABLED=false). */
  jobsHealthy?: () => boolean;
}

export const BODY_LIMIT = '16kb';

export function createApp(deps: AppDeps): Express {
  const { config, db, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  // Every API answer is one user's, at one moment (balances, orders, tokens): nothing to
  // revalidate, so no ETag (it also cost a SHA-1 of every body), and no-store below.
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy ?? false);
  app.use(requestContext(log));
  app.use(helmet());
  app.use(cors(config.corsOrigins));
  // No browser, proxy or CDN may keep an API answer: a token, a balance or an order
  // status served from a cache is a secret leaked or a stale figure shown (RFC 6749 §5.1).
  app.use('/api', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ success: true, data: { status: 'ok' } });
  });
  app.get('/readyz', (async (_req, res) => {
    if (!deps.isAccepting()) return void res.status(503).json(errorBody('SHUTTING_DOWN', 'The server is shutting down'));
    try {
      await db.pool.query('SELECT 1');
    } catch {
      return void res.status(503).json(errorBody('DATABASE_UNAVAILABLE', 'The database cannot be reached'));
    }
    const jobs = deps.jobsHealthy ? (deps.jobsHealthy() ? 'ok' : 'failing') : 'disabled';
    if (jobs === 'failing') return void res.status(503).json(errorBody('JOBS_UNAVAILABLE', 'The job engine (reconciler, expiry) is not running'));
    res.json({ success: true, data: { status: 'ready', database: 'ok', jobs } });
  }) as RequestHandler);

  app.use(docsRouter());

  const auth = requireAuth(config.jwt);
  const limits = config.rateLimits;
  const perWindow = (name: string, limit: number, keyOf: Parameters<typeof rateLimit>[1]['keyOf']) => ({ name, limit, keyOf, windowMs: limits.windowMs });
  const limitAuth = rateLimit(deps.rateLimitStore, perWindow('auth:address', limits.authPerAddress, byAddress));
  const limitLogin = rateLimit(
    deps.rateLimitStore,
    perWindow('login:email+address', limits.loginPerEmailAndAddress, byLoginEmailAndAddress),
    perWindow('login:email', limits.loginPerEmail, byLoginEmail),
  );
  const limitMoney = rateLimit(
    deps.rateLimitStore,
    perWindow('payment:user', limits.paymentPerUser, byUser),
    perWindow('payment:address', limits.paymentPerAddress, byAddress),
  );
  // Bodies are read by the routes that take one, after their guards (address limits, the token):
  // a request that is refused anyway costs no parsing.
  const json = jsonBody(BODY_LIMIT);
  const notificationGateway = notificationGate({
    db,
    log,
    allowedIps: config.notifications.allowedIps,
    rateLimitStore: deps.rateLimitStore,
    refusedPerAddress: limits.notiRefusedPerAddress,
    windowMs: limits.windowMs,
  });
  app.use('/api/payment/noti', notificationRouter(deps.notifications, notificationGateway));
  app.use('/api/auth', limitAuth, requireJsonBody, authRouter(deps.auth, limitLogin, json));
  app.use(
    '/api/payment',
    paymentRouter({
      payments: deps.payments,
      cancels: deps.cancels,
      requireAuth: auth,
      requireJsonBody,
      json,
      limitMoney,
      // A request holds its key as long as it can run: one Danal call and a margin.
      idempotent: idempotencyFor({ db, log, lockMs: config.danal.timeoutMs + 30_000 }),
      clientConfig: { clientKey: config.danal.clientKey, merchantID: config.danal.merchantId },
    }),
  );
  app.use('/api/wallet', walletRouter(db, auth));
  const limitAdmin = rateLimit(deps.rateLimitStore, perWindow('admin:address', limits.paymentPerAddress, byAddress));
  app.use('/api/admin', adminRouter(deps.admin, [limitAdmin, requireAdmin(config.adminApiKeys)], json));
  if (deps.sandbox) {
    app.use('/sandbox/danal', deps.sandbox);
    // A page to try the whole flow in a browser; only where no real money can move.
    app.use(checkoutPageRouter());
  }

  app.use(notFoundHandler);
  app.use(errorHandler(log));
  return app;
}
