// Background work on pg-boss, a job queue kept in PostgreSQL: any number of
// server processes can run it. Each periodic task (the reconciler's sweep,
// the webhook dispatch) is one job on a "short" queue (at most one waiting):
// each run queues the next one `intervalSeconds` later, and a cron schedule
// re-queues it every minute should that chain ever break. Not "stately": a
// process killed mid-run leaves its job active until it expires, and stately
// would hold every other run back until then. Two runs at once are safe: the
// tasks lease their rows (FOR UPDATE SKIP LOCKED).
import PgBoss from 'pg-boss';
import type { Logger } from '../lib/logger.js';
import { createJobDatabase, JOBS_SCHEMA } from './job-database.js';

export interface PeriodicTask {
  /** The queue's name, e.g. reconcile-sweep. */
  name: string;
  intervalSeconds: number;
  run: () => Promise<unknown>;
}

export interface JobEngine {
  /**
   * True while every task completes: false before each has run once, after
   * pg-boss reported an error that no run has cleared since, and when a task
   * has not completed for `staleAfterSeconds` (its queue cannot be read, say).
   */
  healthy(): boolean;
  /** Lets running tasks finish, then stops. */
  stop(): Promise<void>;
}

export async function startJobEngine(options: { databaseUrl: string; staleAfterSeconds: number; log: Logger; tasks: PeriodicTask[] }): Promise<JobEngine> {
  const { log } = options;
  let lastError: Error | undefined;
  const lastRunAt = new Map<string, number>();
  let started = false;
  const onError = (error: Error) => {
    lastError = error;
    log.error({ event: 'jobs.error', err: error }, 'job engine error');
  };
  const db = createJobDatabase(options.databaseUrl, log, onError);
  const boss = new PgBoss({ db, schema: JOBS_SCHEMA });
  boss.on('error', onError);
  await boss.start();
  for (const task of options.tasks) {
    await boss.createQueue(task.name, { name: task.name, policy: 'short', retryLimit: 1, retryDelay: 2, expireInSeconds: 300 });
    await boss.work(task.name, { pollingIntervalSeconds: Math.min(task.intervalSeconds, 2) }, async () => {
      try {
        await task.run();
        lastError = undefined;
        lastRunAt.set(task.name, Date.now());
      } finally {
        await boss.send(task.name, {}, { startAfter: task.intervalSeconds });
      }
    });
    await boss.schedule(task.name, '* * * * *');
    await boss.send(task.name, {});
  }
  started = true;
  log.info({ event: 'jobs.started', tasks: options.tasks.map((t) => `${t.name} every ${t.intervalSeconds} s`) }, 'job engine started');

  const fresh = (name: string) => Date.now() - (lastRunAt.get(name) ?? -Infinity) <= options.staleAfterSeconds * 1000;
  return {
    healthy: () => started && lastError === undefined && options.tasks.every((t) => fresh(t.name)),
    async stop() {
      started = false;
      await boss.stop({ graceful: true, wait: true, timeout: 15_000 });
      await db.close(); // ours: pg-boss closes only a pool it opened itself
    },
  };
}
