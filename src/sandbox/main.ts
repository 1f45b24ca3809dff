// npm run sandbox:danal: the Danal sandbox as a server of its own, for running
// DPOT Pay in live mode against it (the benchmark, production-install checks,
// live-mode tests). It serves only the sandbox: Danal's API and the buyer's
// steps under /sandbox/danal, over https with a certificate of its own CA
// (src/sandbox/tls.ts) unless SANDBOX_TLS=false. Its records live in the
// schema danal_sandbox of DATABASE_URL (or of an embedded PostgreSQL).
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createLogger } from '../lib/logger.js';
import { startEmbeddedPostgres } from '../db/embedded-postgres.js';
import { requestContext } from '../http/request-context.js';
import { errorHandler, notFoundHandler } from '../http/error-handler.js';
import { loadSandboxConfig, type SandboxConfig } from './sandbox-config.js';
import { SandboxStore } from './sandbox-store.js';
import { sandboxRouter } from './sandbox-router.js';
import { ensureSandboxTls } from './tls.js';

let config: SandboxConfig;
try {
  config = loadSandboxConfig();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const log = createLogger(config.logLevel, undefined, 'danal-sandbox');

let tls: ReturnType<typeof ensureSandboxTls> | undefined;
try {
  tls = config.tls && ensureSandboxTls(config.tls.dir, config.tls.hosts);
} catch (error) {
  log.fatal((error as Error).message);
  process.exit(1);
}

const database = config.database.url
  ? { url: config.database.url, stop: async () => {} }
  : await startEmbeddedPostgres({ dataDir: config.database.embeddedDir, port: config.database.embeddedPort });
const store = new SandboxStore(database.url);
await store.init();

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(requestContext(log));
app.get('/healthz', (_req, res) => void res.json({ success: true, data: { status: 'ok' } }));
app.use(
  '/sandbox/danal',
  sandboxRouter({
    store,
    secretKey: config.secretKey,
    merchantId: config.merchantId,
    defaultNotiUrl: () => config.notiUrls[0]!,
    notificationTargets: () => config.notiUrls,
  }),
);
app.use(notFoundHandler);
app.use(errorHandler(log));

const limits = { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000, keepAliveTimeout: 5_000 };
const server = tls ? https.createServer({ ...limits, cert: tls.cert, key: tls.key }, app) : http.createServer(limits, app);
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port, config.host, () => resolve());
});
const { port } = server.address() as AddressInfo;
const host = config.host.includes(':') ? `[${config.host}]` : config.host;
const url = `${tls ? 'https' : 'http'}://${host}:${port}`;
const apiBase = `${url}/sandbox/danal`;
log.info(
  { url, apiBase, caFile: tls?.caFile, notiUrls: config.notiUrls },
  tls
    ? `Danal sandbox listening on ${apiBase}; its certificate is signed by the CA in ${tls.caFile}: start DPOT Pay with NODE_EXTRA_CA_CERTS=${tls.caFile} DANAL_API_BASE=${apiBase}`
    : `Danal sandbox listening on ${apiBase} (plain http: SANDBOX_TLS=false; live mode needs https)`,
);

async function shutdown() {
  server.close();
  server.closeIdleConnections();
  await store.close();
  await database.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
