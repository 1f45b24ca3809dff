import { Router, type RequestHandler } from 'express';
import type { Db } from '../db/prisma.js';
import { readWallet } from '../wallet/wallet-ledger.js';

export function walletRouter(db: Db, requireAuth: RequestHandler): Router {
  const router = Router();
  router.get('/', requireAuth, async (req, res) => {
    res.json({ success: true, data: await readWallet(db, req.userId!) });
  });
  return router;
}
