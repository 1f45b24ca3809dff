// Danal's virtual-account deposit notification. Credits a WaitingForDeposit
// order once: the status change and the ledger row are one transaction, and
// a replay finds the order Paid and answers SUCCESS without crediting again.
// Every notification is stored as received, with what was done with it.
import { z } from 'zod';
import type { Db, Tx } from '../db/prisma.js';
import type { Logger } from '../lib/logger.js';
import type { NotificationOutcome } from '../generated/prisma/enums.js';
import { creditCharge } from '../wallet/wallet-ledger.js';
import * as orders from './order-repository.js';
import { crashPoint } from '../lib/crash-points.js';
import { storable } from '../lib/storable-json.js';

// Danal does not publish this contract (danal-api.md section 9); the fields
// are the seed collection's. Unknown extra fields are kept, not refused, so a
// field Danal adds one day cannot make us drop a real deposit.
const token = (min: number, max: number) => z.string().min(min).max(max).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII');
export const notificationSchema = z.looseObject({
  code: token(1, 64),
  message: z.string().max(500).optional(),
  transactionID: token(1, 64),
  orderID: token(6, 64),
  amount: z.string().regex(/^\d{1,12}$/, 'must be a string of digits'),
});

export interface NotificationReply {
  httpStatus: number;
  body: { code: 'SUCCESS' | 'FAIL'; message?: string };
}

export interface DepositNotificationDeps {
  db: Db;
  allowedIps: string[];
  log: Logger;
  now?: () => Date;
}

/** Express reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d. */
export const normalizeIp = (ip: string) => (ip.startsWith('::ffff:') ? ip.slice(7) : ip);

export function createDepositNotificationService(deps: DepositNotificationDeps) {
  const { db, log } = deps;
  const now = deps.now ?? (() => new Date());
  const allowed = new Set(deps.allowedIps.map(normalizeIp));

  async function record(tx: Db | Tx, sourceIp: string, body: unknown, orderId: string | undefined, outcome: NotificationOutcome, reason: string) {
    await tx.depositNotification.create({
      data: { sourceIp, body: storable(body ?? null) as object, orderId: storable(orderId ?? null), outcome, reason: storable(reason) },
    });
  }

  async function refuse(httpStatus: number, sourceIp: string, body: unknown, orderId: string | undefined, reason: string): Promise<NotificationReply> {
    await record(db, sourceIp, body, orderId, 'REJECTED', reason);
    log.warn({ event: 'notification.refused', orderID: orderId, sourceIp, reason }, 'deposit notification refused');
    return { httpStatus, body: { code: 'FAIL', message: reason } };
  }

  /** Already credited: Danal is told SUCCESS so it stops resending, and nothing is credited. */
  async function duplicate(sourceIp: string, body: unknown, orderId: string): Promise<NotificationReply> {
    await record(db, sourceIp, body, orderId, 'DUPLICATE', 'deposit already credited');
    log.info({ event: 'notification.duplicate', orderID: orderId, sourceIp }, 'deposit already credited');
    return { httpStatus: 200, body: { code: 'SUCCESS' } };
  }

  async function handle(rawIp: string, body: unknown): Promise<NotificationReply> {
    const sourceIp = normalizeIp(rawIp);
    const claimedOrder = typeof (body as { orderID?: unknown })?.orderID === 'string' ? String((body as { orderID: string }).orderID).slice(0, 64) : undefined;
    if (!allowed.has(sourceIp)) return refuse(403, sourceIp, body, claimedOrder, `source address ${sourceIp} is not allowed`);

    const parsed = notificationSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return refuse(400, sourceIp, body, claimedOrder, `${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    const note = parsed.data;
    if (note.code !== 'SUCCESS') return refuse(400, sourceIp, body, note.orderID, `code is ${note.code}, not SUCCESS`);

    const order = await orders.findOrder(db, note.orderID);
    if (!order) return refuse(404, sourceIp, body, note.orderID, `no order ${note.orderID}`);
    if (order.paymentMethod !== 'VirtualAccount') return refuse(409, sourceIp, body, order.id, 'order is not a virtual-account order');
    if (order.danalTransactionId !== note.transactionID) return refuse(409, sourceIp, body, order.id, 'transactionID does not match the order');
    if (Number(note.amount) !== order.amount) return refuse(409, sourceIp, body, order.id, `amount ${note.amount} does not match the order's ${order.amount}`);

    if (['Paid', 'PartialCanceled', 'Canceling', 'CancelUnknown', 'Canceled'].includes(order.status)) {
      return duplicate(sourceIp, body, order.id);
    }
    if (order.status !== 'WaitingForDeposit') return refuse(409, sourceIp, body, order.id, `order is ${order.status}, not WaitingForDeposit`);
    if (order.vaccountDueAt && order.vaccountDueAt < now()) return refuse(409, sourceIp, body, order.id, 'the deposit deadline has passed');

    crashPoint('notification.before_commit');
    const credited = await db.$transaction(async (tx) => {
      const moved = await orders.transition(tx, order.id, 'WaitingForDeposit', 'Paid', { approvedAt: now() }, { danalTransactionId: note.transactionID });
      if (!moved) return false;
      await creditCharge(tx, order.userId, order.id, order.pointAmount);
      await record(tx, sourceIp, body, order.id, 'CREDITED', `credited ${order.pointAmount} points`);
      return true;
    });
    if (credited) crashPoint('notification.after_commit');
    if (!credited) {
      // Another request moved the order first: a concurrent copy of this notification, or expiry.
      const current = await orders.findOrder(db, order.id);
      if (current?.status === 'WaitingForDeposit' || current?.status === 'Expired' || current?.status === 'Failed') {
        return refuse(409, sourceIp, body, order.id, `order is ${current.status}, not WaitingForDeposit`);
      }
      return duplicate(sourceIp, body, order.id);
    }
    log.info({ event: 'notification.credited', orderID: order.id, userId: order.userId, pointAmount: order.pointAmount }, 'deposit credited');
    return { httpStatus: 200, body: { code: 'SUCCESS' } };
  }

  return { handle };
}

export type DepositNotificationService = ReturnType<typeof createDepositNotificationService>;
