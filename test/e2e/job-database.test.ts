// pg-boss 10 does not await its record of a job's end; the job engine's
// database adapter keeps a database outage at that moment from becoming an
// unhandled rejection (which ends a Node process).
import { createRequire } from 'node:module';
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { createJobDatabase, JOBS_SCHEMA } from '../../src/jobs/job-database.js';
import { createLogger } from '../../src/lib/logger.js';
import { findFreePort } from '../../src/db/embedded-postgres.js';

const plans = createRequire(import.meta.url)('pg-boss/src/plans.js') as { completeJobs(schema: string): string; failJobsById(schema: string): string };

function capturedLog() {
  const lines: string[] = [];
  return { lines, log: createLogger('info', { write: (line: string) => void lines.push(line) }) };
}

describe("the job engine's database", () => {
  it("absorbs a job's end that the database was not there to record, and nothing else", async () => {
    const nowhere = `postgresql://postgres:x@127.0.0.1:${await findFreePort()}/none`;
    const { lines, log } = capturedLog();
    const db = createJobDatabase(nowhere, log, () => {});
    try {
      for (const text of [plans.completeJobs(JOBS_SCHEMA), plans.failJobsById(JOBS_SCHEMA)]) {
        await expect(db.executeSql(text, ['reconcile-sweep', [], null])).resolves.toEqual({ rows: [{ count: '0' }], rowCount: 0 });
      }
      expect(lines.filter((l) => l.includes('"jobs.end_not_recorded"'))).toHaveLength(2);
      // Fetching work, creating queues, anything else: pg-boss sees the error as before.
      await expect(db.executeSql('SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await db.close();
    }
  });

  it('passes statements and their errors through while the database is there', async () => {
    const { log } = capturedLog();
    const db = createJobDatabase(inject('databaseUrl'), log, () => {});
    try {
      await expect(db.executeSql('SELECT $1::int AS one', [1])).resolves.toMatchObject({ rows: [{ one: 1 }] });
      await expect(db.executeSql('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    } finally {
      await db.close();
    }
  });
});
