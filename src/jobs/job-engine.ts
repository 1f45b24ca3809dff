// Background work on pg-boss, a job queue kept in PostgreSQL: any number of
// server processes can run it. The reconciler's sweep is one job on a "short"
// queue (at most one waiting): each run queues the next one `intervalSeconds`
// later, and a cron schedule re-queues it every minute should that chain ever
// break. Not "stately": a process killed mid-sweep leaves its job active until
// it expires, and stately would hold every other sweep back until then. Two
// sweeps at once are safe: each order is leased (FOR UPDATE SKIP LOCKED).
import PgBoss from 'pg-boss';
import type { Logger } from '../lib/logger.js';

const SWEEP_QUEUE = 'reconcile-sweep';

export interface JobEngine {
  /**
   * True while sweeps complete: false before the first one, after pg-boss
   * reported an error that no sweep has cleared since, and when no sweep has
   * completed for `staleAfterSeconds` (the queue cannot be read, say).
   */
  healthy(): boolean;
  /** Queues a sweep now (used by operators' tools and tests); null when one is already waiting. */
  requestSweep(): Promise<string | null>;
  /** Lets a running sweep finish, then stops. */
  stop(): Promise<void>;
}

export async function startJobEngine(options: {
  databaseUrl: string;
  intervalSeconds: number;
  staleAfterSeconds: number;
  log: Logger;
  sweep: () => Promise<unknown>;
}): Promise<JobEngine> {
  const { log, intervalSeconds } = options;
  let lastError: Error | undefined;
  let lastSweepAt: number | undefined;
  let started = false;
  const boss = new PgBoss({ connectionString: options.databaseUrl, max: 3, application_name: 'dpot-pay-jobs' });
  boss.on('error', (error) => {
    lastError = error;
    log.error({ event: 'jobs.error', err: error }, 'job engine error');
  });
  await boss.start();
  await boss.createQueue(SWEEP_QUEUE, { name: SWEEP_QUEUE, policy: 'short', retryLimit: 1, retryDelay: 2, expireInSeconds: 300 });
  await boss.work(SWEEP_QUEUE, { pollingIntervalSeconds: Math.min(intervalSeconds, 2) }, async () => {
    try {
      await options.sweep();
      lastError = undefined;
      lastSweepAt = Date.now();
    } finally {
      await boss.send(SWEEP_QUEUE, {}, { startAfter: intervalSeconds });
    }
  });
  await boss.schedule(SWEEP_QUEUE, '* * * * *');
  await boss.send(SWEEP_QUEUE, {});
  started = true;
  log.info({ event: 'jobs.started', intervalSeconds }, 'job engine started');

  return {
    healthy: () =>
      started && lastError === undefined && lastSweepAt !== undefined && Date.now() - lastSweepAt <= options.staleAfterSeconds * 1000,
    requestSweep: () => boss.send(SWEEP_QUEUE, {}),
    async stop() {
      started = false;
      await boss.stop({ graceful: true, wait: true, timeout: 15_000 });
    },
  };
}
