// One real PostgreSQL for the whole run: TEST_DATABASE_URL when given,
// otherwise a fresh embedded server that is removed afterwards.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { findFreePort, startEmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { applyMigrations } from '../src/db/schema-engine.js';
import { ensureSandboxTls } from '../src/sandbox/tls.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  // The standalone Danal sandbox's certificate, made once for the run (test/sandbox-process.ts), and
  // trusted the standard way by every test process and every server they start: the workers are
  // forked after this, with this environment.
  const tlsDir = path.join(tmpdir(), `dpot-test-tls-${process.pid}`);
  process.env.NODE_EXTRA_CA_CERTS = ensureSandboxTls(tlsDir, ['localhost', '127.0.0.1', '::1']).caFile;
  process.env.TEST_SANDBOX_TLS_DIR = tlsDir;
  let stop = async () => {};
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    // Under the system temp directory: the "postgres" user can reach it wherever the clone lives.
    const dataDir = path.join(tmpdir(), `dpot-test-pg-${process.pid}`);
    const server = await startEmbeddedPostgres({ dataDir, port: await findFreePort() });
    url = server.url;
    stop = async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  await applyMigrations(url);
  project.provide('databaseUrl', url);
  return async () => {
    await stop();
    await rm(tlsDir, { recursive: true, force: true });
  };
}
