// npm start: config, database (embedded unless DATABASE_URL), migrations, server.
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './lib/logger.js';
import { openDatabaseServer } from './db/database.js';
import { applyMigrations } from './db/schema-engine.js';
import { startServer } from './server.js';

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const log = createLogger(config.logLevel);
// The first line says what this process is about to be: where it will listen, and whether money is real.
const listen = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
const loopbackOnly = ['127.0.0.1', '::1', 'localhost'].includes(config.host);
log.info(
  { event: 'starting', danalMode: config.danal.mode, env: config.env, host: config.host, port: config.port, loopbackOnly },
  config.danal.mode === 'sandbox'
    ? `DPOT Pay starting in SANDBOX mode (no real money) on ${listen}: ${loopbackOnly ? 'loopback only, so no other machine can reach its free points; set HOST=0.0.0.0 to open it' : `HOST=${config.host} lets other machines reach the sandbox, whose payments cost nothing`}`
    : `DPOT Pay starting in LIVE mode with Danal at ${config.danal.apiBase} on ${listen}`,
);

const database = await openDatabaseServer(config).catch((error: Error) => {
  log.fatal(error.message);
  process.exit(1);
});
if (database.embedded) log.info({ dataDir: config.database.embeddedDir, port: config.database.embeddedPort }, 'embedded PostgreSQL started');
const applied = await applyMigrations(database.url);
log.info({ applied }, applied.length ? 'migrations applied' : 'database schema up to date');

const server = await startServer(config, database.url, log);
const where = config.publicBaseUrl ?? `http://localhost:${server.port}`;
log.info(
  { url: where, danalMode: config.danal.mode, env: config.env },
  config.danal.mode === 'sandbox'
    ? `DPOT Pay listening on ${where} in SANDBOX mode (Danal sandbox at ${where}/sandbox/danal; no real payments)`
    : `DPOT Pay listening on ${where} with LIVE Danal at ${config.danal.apiBase}`,
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down: draining requests');
  await server.close();
  await database.stop();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
