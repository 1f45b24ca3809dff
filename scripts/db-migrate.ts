// npm run db:migrate: apply prisma/migrations to DATABASE_URL (or the embedded database).
import { loadConfig } from '../src/config.js';
import { openDatabaseServer } from '../src/db/database.js';
import { applyMigrations } from '../src/db/schema-engine.js';

const server = await openDatabaseServer(loadConfig());
try {
  const applied = await applyMigrations(server.url);
  console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
} finally {
  await server.stop();
}
