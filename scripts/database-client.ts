// How the operators' scripts reach the database: DATABASE_URL; else the
// embedded database of a running `npm start`; else that database started for
// the script and stopped after it.
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openDatabaseServer } from '../src/db/database.js';
import { embeddedDatabaseUrl } from '../src/db/embedded-postgres.js';

export async function connectToDatabase(): Promise<{ client: pg.Client; url: string; stop: () => Promise<void> }> {
  const config = loadConfig();
  const url = config.database.url ?? embeddedDatabaseUrl(config.database.embeddedPort);
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    return { client, url, stop: () => client.end() };
  } catch (error) {
    if (config.database.url) throw error;
  }
  const server = await openDatabaseServer(config);
  const own = new pg.Client({ connectionString: server.url });
  await own.connect();
  return {
    client: own,
    url: server.url,
    stop: async () => {
      await own.end();
      await server.stop();
    },
  };
}

/** True when the database has our tables; otherwise says how to get them. */
export async function hasOurTables(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query(`SELECT to_regclass('public.wallets') IS NOT NULL AS present`);
  if (!rows[0].present) console.error('This database has no DPOT Pay tables yet: run `npm start` or `npm run db:migrate` first.');
  return rows[0].present;
}
