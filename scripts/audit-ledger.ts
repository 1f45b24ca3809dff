// npm run audit:ledger: checks every wallet and order against the ledger (and
// against the Danal sandbox's records in sandbox mode). Prints what it checked,
// every discrepancy and every unsettled sum of money (a deposit waiting for an
// operator); exits 1 on any. Read-only, one snapshot.
import { auditLedger } from '../src/audit/ledger-audit.js';
import { connectToDatabase, hasOurTables } from './database-client.js';

const { client, stop } = await connectToDatabase();
try {
  if (!(await hasOurTables(client))) {
    process.exitCode = 2;
  } else {
    const { checked, discrepancies, unsettled } = await auditLedger(client);
    for (const [name, count] of Object.entries(checked)) console.log(`checked ${count} ${name}`);
    for (const problem of discrepancies) console.log(`DISCREPANCY ${problem}`);
    for (const open of unsettled) console.log(`UNSETTLED ${open}`);
    console.log(discrepancies.length ? `${discrepancies.length} discrepancies` : 'no discrepancies');
    console.log(unsettled.length ? `${unsettled.length} unsettled (npm run ops:stuck)` : 'nothing unsettled');
    process.exitCode = discrepancies.length || unsettled.length ? 1 : 0;
  }
} finally {
  await stop();
}
