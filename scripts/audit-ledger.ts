// npm run audit:ledger: checks every wallet and order against the ledger (and
// against the Danal sandbox's records in sandbox mode). Prints what it checked
// and every discrepancy; exits 1 on any. Read-only, one snapshot.
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openDatabaseServer } from '../src/db/database.js';
import { embeddedDatabaseUrl } from '../src/db/embedded-postgres.js';
import { auditLedger } from '../src/audit/ledger-audit.js';

const config = loadConfig();

/** DATABASE_URL; else the embedded database of a running `npm start`; else start it for the audit. */
async function connect(): Promise<{ client: pg.Client; stop: () => Promise<void> }> {
  const url = config.database.url ?? embeddedDatabaseUrl(config.database.embeddedPort);
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    return { client, stop: async () => {} };
  } catch (error) {
    if (config.database.url) throw error;
  }
  const server = await openDatabaseServer(config);
  const own = new pg.Client({ connectionString: server.url });
  await own.connect();
  return { client: own, stop: server.stop };
}

const { client, stop } = await connect();
try {
  const schema = await client.query(`SELECT to_regclass('public.wallets') IS NOT NULL AS present`);
  if (!schema.rows[0].present) {
    console.error('This database has no DPOT Pay tables yet: run `npm start` or `npm run db:migrate` first.');
    process.exitCode = 2;
  } else {
    const { checked, discrepancies } = await auditLedger(client);
    for (const [name, count] of Object.entries(checked)) console.log(`checked ${count} ${name}`);
    for (const problem of discrepancies) console.log(`DISCREPANCY ${problem}`);
    console.log(discrepancies.length ? `${discrepancies.length} discrepancies` : 'no discrepancies');
    process.exitCode = discrepancies.length ? 1 : 0;
  }
} finally {
  await client.end();
  await stop();
}
