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

/** Prisma over node-postgres: no native query engine is needed. */
export function createPrisma(databaseUrl: string, poolSize: number): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  // An idle connection that the server drops must not crash the process.
  pool.on('error', () => {});
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
