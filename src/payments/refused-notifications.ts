// Deposit notifications from addresses NOTI_ALLOWED_IPS does not allow. Only
// a bounded trace of each is kept (who, when, how big, how it began), and
// only a few per address and per minute, so that anyone on the internet
// cannot fill the database through the one unauthenticated endpoint.
import type { Db } from '../db/prisma.js';
import { storable } from '../lib/storable-json.js';

/** Characters of the body kept in a trace (the table's CHECK says the same). */
export const TRACE_PREFIX_CHARS = 200;
/** Traces are purged by the reconciler's sweep after this many days. */
export const TRACE_RETENTION_DAYS = 7;

export interface RefusalTrace {
  sourceIp: string;
  size: number;
  prefix: Buffer;
  reason: string;
}

export async function recordRefusal(db: Db, trace: RefusalTrace): Promise<void> {
  const prefix = storable(trace.prefix.toString('utf8')).slice(0, TRACE_PREFIX_CHARS);
  await db.pool.query('INSERT INTO refused_notifications (source_ip, size, prefix, reason) VALUES ($1, $2, $3, $4)', [
    trace.sourceIp.slice(0, 64),
    trace.size,
    prefix,
    trace.reason.slice(0, 200),
  ]);
}

export async function purgeOldRefusals(db: Db): Promise<void> {
  await db.pool.query(`DELETE FROM refused_notifications WHERE received_at < now() - make_interval(days => $1)`, [TRACE_RETENTION_DAYS]);
}
