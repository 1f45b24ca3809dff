// The parts the benchmark runs: a fresh embedded PostgreSQL of its own, the
// standalone Danal sandbox (dist/sandbox/main.js, https with a CA of its own),
// and the compiled service started as in production: NODE_ENV=production,
// DANAL_MODE=live, Danal reached over https at the sandbox process, whose CA
// it trusts through NODE_EXTRA_CA_CERTS, as an operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { closeSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { findFreePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded-postgres.js';
import { ensureSandboxTls } from '../src/sandbox/tls.js';

export interface BenchDatabase extends EmbeddedDatabase {
  port: number;
  /** The postmaster's pid: its backends are its children, whose CPU the bench adds up. */
  pid: number;
  /** Everything PostgreSQL logged since `markLog()`. */
  logSinceMark(): string;
  markLog(): void;
}

export async function startBenchDatabase(dataDir: string): Promise<BenchDatabase> {
  const port = await findFreePort();
  let log = '';
  const db = await startEmbeddedPostgres({
    dataDir,
    port,
    // Room for 64 load connections plus the service's pool; statements are
    // logged only for the sessions the SQL capture switches on.
    settings: { max_connections: '300', shared_buffers: '256MB', log_line_prefix: '%m [%p] ' },
    onLog: (text) => {
      log += text;
    },
  });
  return {
    ...db,
    port,
    pid: Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    logSinceMark: () => log,
    markLog: () => {
      log = '';
    },
  };
}

export interface BenchService {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The standalone sandbox: where the service's Danal calls and the buyer's authorize step go. */
export interface BenchSandbox extends BenchService {
  /** Its Danal API, as DANAL_API_BASE. */
  apiBase: string;
  /** The CA its https certificate is signed by. */
  ca: Buffer;
  caFile: string;
}

export const JWT_SECRET = randomBytes(48).toString('base64');
// The keys the sandbox accepts and the service sends: live mode refuses the sandbox's published ones.
const DANAL_KEYS = { DANAL_SECRET_KEY: `SK_BENCH_${randomBytes(16).toString('hex')}`, DANAL_CLIENT_KEY: 'CL_BENCH_client_key', DANAL_MERCHANT_ID: 'BENCH00001' };

/**
 * `node dist/sandbox/main.js` on `databaseUrl` (its tables in the schema danal_sandbox), over https
 * with a certificate made in `tlsDir`, allowed to notify the services on `servicePorts`.
 */
export async function startSandbox(databaseUrl: string, logFile: string, tlsDir: string, servicePorts: number[]): Promise<BenchSandbox> {
  const port = await findFreePort();
  const url = `https://127.0.0.1:${port}`;
  // Made here, before the sandbox starts (it finds and uses it), so that the bench knows the CA to trust.
  const { caFile } = ensureSandboxTls(tlsDir, ['127.0.0.1', 'localhost', '::1']);
  const ca = readFileSync(caFile);
  const service = await launch(url, logFile, [path.resolve('dist/sandbox/main.js')], {
    ...DANAL_KEYS,
    SANDBOX_PORT: String(port),
    SANDBOX_HOST: '127.0.0.1',
    SANDBOX_TLS_DIR: tlsDir,
    SANDBOX_NOTI_URLS: servicePorts.map((p) => `http://127.0.0.1:${p}/api/payment/noti/vaccount`).join(','),
    DATABASE_URL: databaseUrl,
  }, ca);
  return { ...service, apiBase: `${url}/sandbox/danal`, caFile, ca };
}

/**
 * `node dist/main.js` in production and live mode, its log written to `logFile`,
 * calling Danal at the sandbox process over https, as the real Danal is another server.
 */
export async function startService(
  databaseUrl: string,
  logFile: string,
  danal: BenchSandbox,
  options: { profileDir?: string; jobs?: boolean; port?: number } = {},
): Promise<BenchService> {
  const port = options.port ?? (await findFreePort());
  const url = `http://127.0.0.1:${port}`;
  return launch(url, logFile, [...cpuProfile(options.profileDir), path.resolve('dist/main.js')], {
    ...serviceEnvironment(port, databaseUrl, danal),
    JOBS_ENABLED: options.jobs === false ? 'false' : 'true',
  });
}

/**
 * A reference server (bench/reference-server.ts): the flow's statements served
 * bare or by Express alone, with the service's configuration, memory flags and
 * Danal stand-in, so that the service can be read against it.
 */
export async function startReferenceServer(
  kind: 'bare' | 'express',
  databaseUrl: string,
  logFile: string,
  danal: BenchSandbox,
  options: { profileDir?: string } = {},
): Promise<BenchService> {
  const port = await findFreePort();
  // tsx compiles the file once at start; the flow then runs as plain JavaScript.
  const args = [...cpuProfile(options.profileDir), '--import', 'tsx', path.resolve('bench/reference-server.ts')];
  return launch(`http://127.0.0.1:${port}`, logFile, args, {
    ...serviceEnvironment(port, databaseUrl, danal),
    REFERENCE: kind,
  });
}

/**
 * --cpu-prof writes a .cpuprofile into `dir` when the process exits (open it in
 * Chrome DevTools); one file per thread, named with the process id.
 */
function cpuProfile(dir: string | undefined): string[] {
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** The service's environment in the bench: production and live mode, Danal at the sandbox process. */
function serviceEnvironment(port: number, databaseUrl: string, danal: BenchSandbox): Record<string, string> {
  const url = `http://127.0.0.1:${port}`;
  return {
    NODE_ENV: 'production',
    DANAL_MODE: 'live',
    DANAL_API_BASE: danal.apiBase,
    ...DANAL_KEYS,
    // The sandbox's certificate, trusted the way an operator trusts a private CA.
    NODE_EXTRA_CA_CERTS: danal.caFile,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    JWT_SECRET,
    PUBLIC_BASE_URL: url,
    CHECKOUT_SUCCESS_URL: 'https://dpot.example/pay/success',
    CHECKOUT_FAIL_URL: 'https://dpot.example/pay/fail',
    // The sandbox process posts deposit notifications from loopback.
    NOTI_ALLOWED_IPS: '127.0.0.1',
    // The load comes from one address and a few users, far past any real user's rate.
    RATE_LIMIT_AUTH_PER_ADDRESS: '10000000',
    RATE_LIMIT_LOGIN_PER_EMAIL_AND_ADDRESS: '10000000',
    RATE_LIMIT_LOGIN_PER_EMAIL: '10000000',
    RATE_LIMIT_PAYMENT_PER_USER: '10000000',
    RATE_LIMIT_PAYMENT_PER_ADDRESS: '10000000',
  };
}

/**
 * `node` with the flags and environment of `npm start` plus `args` and `env`,
 * its output written straight into `logFile` (as `npm start > file` would: no
 * relay through the bench's own process, whose CPU would count against the load
 * generator). Resolves once it answers /healthz.
 */
async function launch(url: string, logFile: string, args: string[], env: Record<string, string>, ca?: Buffer): Promise<BenchService> {
  const start = productionStart();
  const logFd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [...start.nodeFlags, ...args], {
    env: { PATH: process.env.PATH, ...start.env, ...env },
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitUntilAnswering(url, exited, logFile, ca);
  return {
    url,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** GET `url` → 2xx; over https, trusting `ca`. */
function answers(url: string, ca: Buffer | undefined): Promise<boolean> {
  const get = url.startsWith('https:') ? https.get : http.get;
  return new Promise((resolve) => {
    const req = get(url, { ca }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 300);
    });
    req.on('error', () => resolve(false));
  });
}

/** Resolves once the service answers /healthz; rejects if it exits first. */
async function waitUntilAnswering(url: string, exited: Promise<number | null>, logFile: string, ca?: Buffer): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  for (let tries = 0; tries < 600; tries++) {
    if (exitCode !== undefined) throw new Error(`the service exited with ${exitCode} before listening; see ${logFile}`);
    try {
      if (await answers(`${url}/healthz`, ca)) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the service did not answer within 60 s; see ${logFile}`);
}

/**
 * What `npm start` sets before `node dist/main.js` (package.json), so that the
 * benchmark runs the service exactly as production does: environment
 * assignments (GLIBC_TUNABLES) and node's flags (the memory budget).
 */
export function productionStart(): { env: Record<string, string>; nodeFlags: string[] } {
  const start: string = JSON.parse(readFileSync('package.json', 'utf8')).scripts.start;
  const words = start.trim().split(/\s+/);
  const node = words.indexOf('node');
  if (node < 0 || words.at(-1) !== 'dist/main.js') throw new Error(`package.json "start" is not "[VAR=value…] node [flags…] dist/main.js": ${start}`);
  const env = Object.fromEntries(words.slice(0, node).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
  return { env, nodeFlags: words.slice(node + 1, -1) };
}

/**
 * Peak resident memory of a process since the last reset, in MB. Linux keeps
 * the peak (VmHWM); writing 5 to clear_refs starts a new peak.
 */
export const peakRss = {
  reset(pid: number) {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  },
  readMb(pid: number): number {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
    return Math.round((kb / 1024) * 10) / 10;
  },
};

/** CPU time (user + system) a process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, counted in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU time of PostgreSQL so far, in seconds: the postmaster, the backends it has
 * already reaped (cutime, cstime) and the ones still running. A backend that
 * exits between two readings moves from the last term to the second, so the
 * difference of two readings counts it once.
 */
export function postgresCpuSeconds(postmasterPid: number): number {
  const own = procStat(postmasterPid);
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const child of postgresChildren(postmasterPid)) ticks += Number(child[11]) + Number(child[12]);
  return ticks / 100;
}

/**
 * Waits (at most 5 s) until PostgreSQL has no more processes than `count`: the
 * backends of clients that just disconnected have exited and been reaped, so
 * their CPU time is in the postmaster's cutime, not lost between two readings.
 */
export async function postgresSettled(postmasterPid: number, count: number): Promise<void> {
  for (let i = 0; i < 100 && postgresChildren(postmasterPid).length > count; i++) await new Promise((r) => setTimeout(r, 50));
}

export const postgresProcessCount = (postmasterPid: number) => postgresChildren(postmasterPid).length;

const procStat = (pid: number | string) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');

/** The stat fields of the postmaster's children (a zombie counts until it is reaped). */
function postgresChildren(postmasterPid: number): string[][] {
  const children: string[][] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = procStat(entry);
      if (Number(fields[1]) === postmasterPid) children.push(fields);
    } catch {
      // gone since the listing
    }
  }
  return children;
}

/** Busy and total CPU time of the whole machine so far (all cores), in clock ticks. */
export function machineCpuTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3]! + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}
