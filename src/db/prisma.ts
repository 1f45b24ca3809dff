import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

/**
 * Prisma for most queries, and `pool` for the few statements of the charge
 * flow's hot path: the benchmark measured a Prisma 7 query at 5-9 times the
 * CPU of the same statement through node-postgres (bench/README.md). Both use
 * one pool of connections.
 */
export type Db = PrismaClient & { pool: pg.Pool; close(): Promise<void> };
/** The client handed to the callback of db.$transaction(async (tx) => ...). */
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/**
 * A connection PostgreSQL drops (restart, failover) must not crash the process.
 * pg-pool listens for errors of idle connections only; a connection that is
 * checked out (a transaction) emits its error on the client, where nobody
 * would listen: its query fails anyway, and the pool discards it on release.
 */
export function guardPool(pool: pg.Pool): void {
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
}

/** Prisma over node-postgres: no native query engine is needed. */
export function createPrisma(databaseUrl: string, poolSize: number): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  guardPool(pool);
  const client = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closed: Promise<void> | undefined;
  return Object.assign(client, {
    pool,
    close: () => (closed ??= client.$disconnect().then(() => pool.end())),
  });
}

/** PostgreSQL's unique_violation, as Prisma reports it through the pg adapter, or as pg reports it. */
export function isUniqueViolation(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined;
  return code === 'P2002' || code === '23505';
}
