// How pg-boss reaches PostgreSQL: through our own pool, so that one flaw of
// pg-boss 10 cannot end the process. Its workers record a job's end without
// awaiting it (manager.js, work(): `this.complete(...)` and `this.fail(...)`
// with neither await nor catch); if the database drops at that moment the
// rejection is unhandled, and Node ends the process on an unhandled
// rejection. (pg-boss 11 and later need Node 22.) Here a job's end that fails
// because the database is unavailable is logged and reported to pg-boss as
// "nothing updated": the job stays active until it expires and then runs
// again, which our periodic tasks allow (each is an idempotent sweep). Every
// other statement, and every other error, reaches pg-boss unchanged.
import { createRequire } from 'node:module';
import pg from 'pg';
import type { Logger } from '../lib/logger.js';
import { isDatabaseUnavailable } from '../db/database-errors.js';

const require = createRequire(import.meta.url);
// pg-boss's own statement texts, to recognise a job's end among its statements (pinned pg-boss 10.4.2).
const plans = require('pg-boss/src/plans.js') as { completeJobs(schema: string): string; failJobsById(schema: string): string };

/** pg-boss's default schema, which the job engine uses. */
export const JOBS_SCHEMA = 'pgboss';

export interface JobDatabase {
  /** What pg-boss calls for every statement (its `db` option). */
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
  close(): Promise<void>;
}

export function createJobDatabase(connectionString: string, log: Logger, onPoolError: (error: Error) => void): JobDatabase {
  const pool = new pg.Pool({ connectionString, max: 3, application_name: 'dpot-pay-jobs' });
  // An idle connection that breaks is reported like pg-boss's own pool did; a checked-out one fails its query.
  pool.on('error', onPoolError);
  pool.on('connect', (client) => client.on('error', () => {}));
  const jobEnds = new Set([plans.completeJobs(JOBS_SCHEMA), plans.failJobsById(JOBS_SCHEMA)]);
  return {
    async executeSql(text, values) {
      try {
        return await pool.query(text, values);
      } catch (error) {
        if (!jobEnds.has(text) || !isDatabaseUnavailable(error)) throw error;
        log.warn({ event: 'jobs.end_not_recorded', err: error }, 'the database went away as a job ended; the job will expire and run again');
        return { rows: [{ count: '0' }], rowCount: 0 };
      }
    },
    close: () => pool.end(),
  };
}
