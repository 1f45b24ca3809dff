// Danal's virtual-account deposit notification. Credits the order once: the
// status change and the ledger row are one transaction, and a replay finds the
// order Paid and answers SUCCESS without crediting again. A deposit that
// cannot be credited is never dropped: it is held for an operator. Every
// notification from an allowed address (the gate, src/http/notification-gate.ts,
// turns the others away) is stored as received, with what was done with it.
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { isUniqueViolation, type Db, type Tx } from '../db/prisma.js';
import type { Logger } from '../lib/logger.js';
import type { NotificationOutcome } from '../generated/prisma/enums.js';
import { creditCharge } from '../wallet/wallet-ledger.js';
import * as orders from './order-repository.js';
import type { Order } from './order-repository.js';
import { crashPoint } from '../lib/crash-points.js';
import { storable } from '../lib/storable-json.js';
import { normalizeIp } from '../lib/address-list.js';

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

/** Constant-time comparison of the order's token with the one in the path. */
function sameToken(expected: string | null, given: string): boolean {
  if (!expected) return false;
  const [a, b] = [Buffer.from(expected), Buffer.from(given)];
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface NotificationReply {
  httpStatus: number;
  body: { code: 'SUCCESS' | 'FAIL'; message?: string };
}

export interface DepositNotificationDeps {
  db: Db;
  log: Logger;
  /** Refuse notifications to the plain path: only the order's notiUrl, with its token, may credit. */
  requireToken?: boolean;
  now?: () => Date;
}

/** The order's deposit was credited already: a repeat is answered SUCCESS and credits nothing. */
const CREDITED = new Set(['Paid', 'PartialCanceled', 'Canceling', 'CancelUnknown', 'Canceled']);

export function createDepositNotificationService(deps: DepositNotificationDeps) {
  const { db, log } = deps;
  const now = deps.now ?? (() => new Date());

  async function record(tx: Db | Tx, sourceIp: string, body: unknown, orderId: string | undefined, outcome: NotificationOutcome, reason: string) {
    return tx.depositNotification.create({
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

  /**
   * A notification from an address NOTI_ALLOWED_IPS allows (the gate, src/http/notification-gate.ts,
   * turned the others away). `notiToken`: the last segment of the path it was posted to, when it came
   * to an order's own notiUrl.
   */
  async function handle(rawIp: string, body: unknown, notiToken?: string): Promise<NotificationReply> {
    const sourceIp = normalizeIp(rawIp);
    const claimedOrder = typeof (body as { orderID?: unknown })?.orderID === 'string' ? String((body as { orderID: string }).orderID).slice(0, 64) : undefined;

    const parsed = notificationSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return refuse(400, sourceIp, body, claimedOrder, `${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    const note = parsed.data;
    if (note.code !== 'SUCCESS') return refuse(400, sourceIp, body, note.orderID, `code is ${note.code}, not SUCCESS`);
    return settleDeposit(sourceIp, body, note, notiToken);
  }

  // ---- What a deposit Danal reports does to its order ----

  /**
   * A deposit concerns one of our accounts when its order exists, is a
   * virtual-account order and names the transaction Danal issued the account
   * under; anything else is refused (FAIL). Such a deposit is credited once
   * when it is the order's amount and the order waits for it, also when our
   * clock closed the account first (Danal, whose deadline is the one we sent,
   * took the money). Money that arrived and cannot be credited is held for an
   * operator. Danal hears SUCCESS only once what was done is committed.
   */
  async function settleDeposit(sourceIp: string, body: unknown, note: { transactionID: string; orderID: string; amount: string | number }, notiToken: string | undefined) {
    // A lost race (expiry, a concurrent copy) is decided again on the order as it then is.
    for (let attempt = 1; ; attempt += 1) {
      const order = await orders.findOrder(db, note.orderID);
      if (!order) return refuse(404, sourceIp, body, note.orderID, `no order ${note.orderID}`);
      if (order.paymentMethod !== 'VirtualAccount') return refuse(409, sourceIp, body, order.id, 'order is not a virtual-account order');
      // Who may speak for this order: the notiUrl token it was given, when the post came to a token path.
      if (notiToken !== undefined && !sameToken(order.notiToken, notiToken)) return refuse(403, sourceIp, body, order.id, 'the notiUrl token does not match the order');
      if (notiToken === undefined && deps.requireToken) return refuse(403, sourceIp, body, order.id, "notifications must be posted to the order's own notiUrl");
      if (order.danalTransactionId !== note.transactionID) return refuse(409, sourceIp, body, order.id, 'transactionID does not match the order');
      if (Number(note.amount) !== order.amount) return hold(sourceIp, body, order, note, `amount ${note.amount} differs from the order's ${order.amount}`);
      if (CREDITED.has(order.status)) return duplicate(sourceIp, body, order.id);
      const creditable = order.status === 'WaitingForDeposit' || (order.status === 'Expired' && order.vaccountNumber !== null);
      if (!creditable || attempt === 3) return hold(sourceIp, body, order, note, `order is ${order.status}; it cannot take the deposit`);
      if (await credit(sourceIp, body, order)) return { httpStatus: 200, body: { code: 'SUCCESS' } } as NotificationReply;
    }
  }

  /** The deposit pays the order: Paid, the points credited, the notification recorded, in one transaction. */
  async function credit(sourceIp: string, body: unknown, order: Order): Promise<boolean> {
    crashPoint('notification.before_commit');
    const late = order.vaccountDueAt !== null && order.vaccountDueAt <= now();
    const credited = await db.$transaction(async (tx) => {
      const from = order.status as 'WaitingForDeposit' | 'Expired';
      if (!(await orders.transition(tx, order.id, from, 'Paid', { approvedAt: now() }, { danalTransactionId: order.danalTransactionId }))) return false;
      await creditCharge(tx, order.userId, order.id, order.pointAmount);
      await record(tx, sourceIp, body, order.id, 'CREDITED', `credited ${order.pointAmount} points${late ? ' after our deposit deadline' : ''}`);
      if (late) await orders.recordEvent(tx, order.id, 'deposit.after_deadline', { was: from, dueAt: order.vaccountDueAt });
      return true;
    });
    if (!credited) return false;
    crashPoint('notification.after_commit');
    log.info({ event: 'notification.credited', orderID: order.id, userId: order.userId, pointAmount: order.pointAmount, late }, 'deposit credited');
    return true;
  }

  /**
   * Money arrived that cannot be credited: kept in unsettled_deposits for an
   * operator (ops:stuck, the admin API, the audit), then Danal is told SUCCESS
   * so that it stops resending. A resend of a deposit already held is that deposit.
   */
  async function hold(sourceIp: string, body: unknown, order: Order, note: { transactionID: string; amount: string | number }, reason: string): Promise<NotificationReply> {
    const deposit = { orderId: order.id, transactionId: note.transactionID, amount: BigInt(note.amount) };
    const already = () => db.unsettledDeposit.findUnique({ where: { orderId_transactionId_amount: deposit } });
    let held = await already();
    if (!held) {
      try {
        held = await db.$transaction(async (tx) => {
          const notification = await record(tx, sourceIp, body, order.id, 'HELD', `held for an operator: ${reason}`);
          return tx.unsettledDeposit.create({ data: { ...deposit, notificationId: notification.id, reason } });
        });
        log.error({ event: 'notification.held', orderID: order.id, userId: order.userId, amount: Number(deposit.amount), reason }, 'deposit held for an operator');
        return { httpStatus: 200, body: { code: 'SUCCESS' } };
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        held = await already(); // a concurrent copy of this notification held it first
      }
    }
    await record(db, sourceIp, body, order.id, 'DUPLICATE', `deposit already held for an operator (#${held!.id})`);
    return { httpStatus: 200, body: { code: 'SUCCESS' } };
  }

  return { handle };
}

export type DepositNotificationService = ReturnType<typeof createDepositNotificationService>;
