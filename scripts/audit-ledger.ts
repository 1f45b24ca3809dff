// npm run audit:ledger: checks every wallet and order against the ledger (and
// against the Danal sandbox's records in sandbox mode). Prints what it checked
// and every discrepancy; exits 1 on any. Read-only, one snapshot.
import { auditLedger } from '../src/audit/ledger-audit.js';
import { connectToDatabase, hasOurTables } from './database-client.js';

const { client, stop } = await connectToDatabase();
try {
  if (!(await hasOurTables(client))) {
    process.exitCode = 2;
  } else {
    const { checked, discrepancies } = await auditLedger(client);
    for (const [name, count] of Object.entries(checked)) console.log(`checked ${count} ${name}`);
    for (const problem of discrepancies) console.log(`DISCREPANCY ${problem}`);
    console.log(discrepancies.length ? `${discrepancies.length} discrepancies` : 'no discrepancies');
    process.exitCode = discrepancies.length ? 1 : 0;
  }
} finally {
  await stop();
}
