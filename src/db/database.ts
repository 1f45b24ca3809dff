import type { Config } from '../config.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

export interface DatabaseServer {
  url: string;
  /** True when this process started the server and must stop it. */
  embedded: boolean;
  stop(): Promise<void>;
}

/** DATABASE_URL when given; otherwise an embedded PostgreSQL that this process owns. */
export async function openDatabaseServer(config: Config): Promise<DatabaseServer> {
  if (config.database.url) return { url: config.database.url, embedded: false, stop: async () => {} };
  const server = await startEmbeddedPostgres({ dataDir: config.database.embeddedDir, port: config.database.embeddedPort });
  return { url: server.url, embedded: true, stop: server.stop };
}
