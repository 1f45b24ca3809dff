// pgbench, run against the benchmark's own PostgreSQL with the captured flow.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';

const exec = promisify(execFile);

/** The id of pgbench's user for client n: its own wallet, as each HTTP connection has its own user. */
export const PGBENCH_USER_ID = (client: number) => `00000000-0000-4000-8000-${String(client).padStart(12, '0')}`;
export const PGBENCH_USER_EXPRESSION = `('00000000-0000-4000-8000-' || lpad(:client_id::text, 12, '0'))::uuid`;
export const uniqueExpression = (prefix: string) => `('${prefix}' || :run::text || 'c' || :client_id::text || 'k' || :k::text)`;

export async function createPgbenchUsers(client: pg.Client, count: number) {
  await client.query(
    `INSERT INTO users (id, email, password_hash, password_salt)
     SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'pgbench-' || n || '@bench.invalid', 'x', 'x'
     FROM generate_series(0, $1 - 1) n ON CONFLICT DO NOTHING`,
    [count],
  );
  await client.query(
    `INSERT INTO wallets (user_id) SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid
     FROM generate_series(0, $1 - 1) n ON CONFLICT DO NOTHING`,
    [count],
  );
}

export interface PgbenchRun {
  clients: number;
  tps: number;
  transactions: number;
  failed: number;
  latencyAvgMs: number;
}

let runNumber = 0;

export async function runPgbench(connection: { port: number; user: string; password: string; database: string }, scriptFile: string, clients: number, seconds: number): Promise<PgbenchRun> {
  runNumber += 1;
  const args = [
    '-h', '127.0.0.1', '-p', String(connection.port), '-U', connection.user,
    '-n', // no vacuum of pgbench's own tables: we use ours
    '-M', 'extended', // parse + bind + execute per statement, as node-postgres does
    '-c', String(clients), '-j', String(Math.min(clients, 2)),
    '-T', String(seconds),
    '-D', `run=${Date.now()}${runNumber}`, '-D', 'k=0',
    '-f', scriptFile,
    connection.database,
  ];
  const { stdout } = await exec('pgbench', args, { env: { ...process.env, PGPASSWORD: connection.password }, maxBuffer: 16 * 1024 * 1024 });
  const number = (pattern: RegExp) => Number(pattern.exec(stdout)?.[1] ?? NaN);
  const result = {
    clients,
    tps: Math.round(number(/tps = ([\d.]+)/) * 10) / 10,
    transactions: number(/number of transactions actually processed: (\d+)/),
    failed: number(/number of failed transactions: (\d+)/) || 0,
    latencyAvgMs: number(/latency average = ([\d.]+) ms/),
  };
  if (!Number.isFinite(result.tps)) throw new Error(`pgbench printed no tps:\n${stdout}`);
  return result;
}
