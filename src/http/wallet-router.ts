import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Db } from '../db/prisma.js';
import { listLedger, readWallet } from '../wallet/wallet-ledger.js';
import { decodeCursor, encodeCursor } from '../lib/cursor.js';
import { pageCursor, pageLimit, parse } from './validate.js';

export const ledgerQuery = z.strictObject({ limit: pageLimit, cursor: pageCursor });
// A ledger id is a PostgreSQL bigint: a larger number is no position of ours.
const MAX_BIGINT = 9223372036854775807n;
const LEDGER_CURSOR = z.strictObject({ id: z.string().regex(/^\d{1,19}$/).refine((id) => BigInt(id) <= MAX_BIGINT) });

export function walletRouter(db: Db, requireAuth: RequestHandler): Router {
  const router = Router();
  router.get('/', requireAuth, async (req, res) => {
    res.json({ success: true, data: await readWallet(db, req.userId!) });
  });
  /** The wallet's ledger, newest first, a page at a time. */
  router.get('/ledger', requireAuth, async (req, res) => {
    const query = parse(ledgerQuery, req.query, 'query');
    const before = query.cursor ? decodeCursor(query.cursor, LEDGER_CURSOR).id : undefined;
    const rows = await listLedger(db, req.userId!, query.limit + 1, before);
    const entries = rows.slice(0, query.limit);
    const nextCursor = rows.length > query.limit ? encodeCursor({ id: entries.at(-1)!.id }) : null;
    res.json({ success: true, data: { entries, nextCursor } });
  });
  return router;
}
