// The service under chaos: `src/main.ts` as a child process on a fixed port
// (Danal's notification URLs must still reach it after a restart), killed
// with SIGKILL and started again on the same database.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

export const CHAOS_ENV = {
  NODE_ENV: 'test',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  DANAL_TIMEOUT_MS: '1000',
  JOBS_ENABLED: 'true',
  RECONCILE_INTERVAL_SECONDS: '1',
  RECONCILE_RETRY_BASE_MS: '300',
  RECONCILE_RETRY_MAX_MS: '3000',
  RECONCILE_MAX_ATTEMPTS: '30',
  // The least the Danal timeout allows (DANAL_TIMEOUT_MS + 30 s): orders a kill left in flight wait this long.
  RECONCILE_STALE_AFTER_MS: '31000',
  RATE_LIMIT_AUTH_PER_ADDRESS: '10000000',
  RATE_LIMIT_LOGIN_PER_EMAIL_AND_ADDRESS: '10000000',
  RATE_LIMIT_LOGIN_PER_EMAIL: '10000000',
  RATE_LIMIT_PAYMENT_PER_USER: '10000000',
  RATE_LIMIT_PAYMENT_PER_ADDRESS: '10000000',
};

export class ChaosService {
  private child?: ChildProcess;
  private readonly log;

  constructor(
    private readonly databaseUrl: string,
    readonly port: number,
    logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, ...CHAOS_ENV, DATABASE_URL: this.databaseUrl, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    this.child = child;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} while starting`);
      const ready = await fetch(`${this.url}/readyz`).then((r) => r.ok, () => false);
      if (ready) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('the service did not become ready within 60 s');
  }

  /** SIGKILL: no drain, no finally blocks, in whatever step each request is. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    this.log.end();
  }
}
