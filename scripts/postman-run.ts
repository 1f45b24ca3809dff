// npm run test:postman: the service on a fresh database, the Postman
// collection run against it with newman, everything torn down afterwards.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/lib/logger.js';
import { findFreePort, startEmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { applyMigrations } from '../src/db/schema-engine.js';
import { startServer } from '../src/server.js';

const require = createRequire(import.meta.url);
const newman = require('newman') as {
  run(options: object, callback: (error: Error | null, summary: { run: { failures: unknown[] } }) => void): void;
};

const dataDir = path.join(tmpdir(), `dpot-postman-pg-${process.pid}`);
const database = await startEmbeddedPostgres({ dataDir, port: await findFreePort() });
let failures = 1;
try {
  await applyMigrations(database.url);
  const config = loadConfig({ ...process.env, DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
  const server = await startServer(config, database.url, createLogger(config.logLevel));
  try {
    failures = await new Promise<number>((resolve, reject) =>
      newman.run(
        {
          collection: path.resolve('postman/dpot-payment.postman_collection.json'),
          environment: path.resolve('postman/dpot-local.postman_environment.json'),
          envVar: [{ key: 'baseUrl', value: server.url }],
          reporters: ['cli'],
        },
        (error, summary) => (error ? reject(error) : resolve(summary.run.failures.length)),
      ),
    );
  } finally {
    await server.close();
  }
} finally {
  await database.stop();
  await rm(dataDir, { recursive: true, force: true });
}
console.log(failures === 0 ? 'Postman collection: all assertions passed' : `Postman collection: ${failures} failure(s)`);
process.exit(failures === 0 ? 0 : 1);
