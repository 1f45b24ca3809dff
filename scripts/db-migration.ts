// npm run db:migration -- NAME: write the next migration from prisma/schema.prisma.
import { loadConfig } from '../src/config.js';
import { openDatabaseServer } from '../src/db/database.js';
import { createMigration } from '../src/db/schema-engine.js';

const name = process.argv[2];
if (!name || !/^[A-Za-z0-9_]+$/.test(name)) {
  console.error('Usage: npm run db:migration -- NAME   (letters, digits and _)');
  process.exit(2);
}
const server = await openDatabaseServer(loadConfig());
try {
  const folder = await createMigration(server.url, name);
  console.log(folder ? `Wrote prisma/migrations/${folder}/migration.sql` : 'No schema changes: nothing written.');
} finally {
  await server.stop();
}
