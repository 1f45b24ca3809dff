// What the API answers, as zod schemas: the source of the response side of
// /openapi.json (the request side comes from the schemas the routes validate
// with). The e2e suite checks every answer it receives against the document.
import { z } from 'zod';
import { OrderStatus, PaymentMethod } from '../generated/prisma/enums.js';

const dateTime = z.string().describe('ISO 8601 date-time');
const money = z.int().describe('KRW');
const points = z.int().describe('points');
const cursor = z.string().nullable().describe('pass back as ?cursor= for the next page; null on the last page');

export const errorEnvelope = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.string().describe('stable error code, e.g. VALIDATION_FAILED, ORDER_EXPIRED, RATE_LIMITED'),
      message: z.string(),
      details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

export const ok = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data, message: z.string().optional() });

const virtualAccount = z
  .object({ bankCode: z.string().nullable(), bankName: z.string().nullable(), accountNumber: z.string().nullable(), holder: z.string().nullable(), dueAt: dateTime.nullable() })
  .meta({ id: 'VirtualAccount' });

export const paymentObject = z
  .object({
    orderID: z.string(),
    orderName: z.string(),
    status: z.enum(OrderStatus),
    amount: money,
    totalAmount: money,
    balanceAmount: money.describe('what can still be refunded'),
    currency: z.literal('KRW'),
    pointAmount: points,
    paymentMethod: z.enum(PaymentMethod),
    method: z.enum(PaymentMethod),
    taxFreeAmount: money,
    vat: money,
    suppliedAmount: money,
    transactionID: z.string().nullable(),
    lastTransactionKey: z.string().nullable(),
    requestedAt: dateTime,
    expiresAt: dateTime,
    approvedAt: dateTime.nullable(),
    canceledAt: dateTime.nullable(),
    canceledAmount: money.describe('refunded so far, over all cancels'),
    canceledPoints: points.describe('points taken back so far'),
    cancels: z.array(
      z.object({
        cancelAmount: money,
        cancelPoints: points,
        cancelReason: z.string().nullable(),
        taxFreeAmount: money,
        refundableAmount: money,
        canceledAt: dateTime.nullable(),
        transactionKey: z.string().nullable(),
      }),
    ),
    isPartialCancelable: z.boolean().describe('whether POST /api/payment/cancel accepts an amount below balanceAmount (not for virtual accounts)'),
    failure: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
    virtualAccount: virtualAccount.nullable(),
  })
  .meta({ id: 'Payment' });

const ledgerEntry = z
  .object({ id: z.string(), type: z.enum(['CHARGE', 'CANCEL', 'SPEND']), amount: points, balanceAfter: points, orderID: z.string().nullable(), createdAt: dateTime })
  .meta({ id: 'LedgerEntry' });

const operatorOrder = paymentObject
  .extend({
    userId: z.uuid(),
    danalCancelTransactionId: z.string().nullable(),
    reconcile: z.object({ attempts: z.int(), nextAttemptAt: dateTime.nullable(), gaveUpAt: dateTime.nullable() }),
  })
  .meta({ id: 'OperatorPayment' });

const heldDeposit = z
  .object({
    depositId: z.string(),
    orderID: z.string(),
    userId: z.uuid(),
    transactionID: z.string(),
    amount: money.describe('what Danal reported arrived'),
    reason: z.string().describe('why it could not be credited'),
    status: z.enum(['Open', 'Credited', 'Returned']),
    receivedAt: dateTime,
    orderStatus: z.enum(OrderStatus),
    orderAmount: money,
    resolvedAt: dateTime.nullable(),
    resolvedBy: z.string().nullable(),
    resolutionNote: z.string().nullable(),
  })
  .meta({ id: 'HeldDeposit' });

const settlementLine = z.object({ paidCount: z.int(), paidAmount: money, canceledCount: z.int(), canceledAmount: money, netAmount: money });

export const responses = {
  registered: ok(z.object({ userId: z.uuid(), email: z.string() })),
  loggedIn: ok(z.object({ accessToken: z.string(), tokenType: z.literal('Bearer'), expiresIn: z.int() })),
  clientConfig: ok(z.object({ clientKey: z.string(), merchantID: z.string() })),
  orderCreated: ok(
    z.object({
      orderID: z.string(),
      amount: money,
      pointAmount: points,
      paymentMethod: z.enum(PaymentMethod),
      status: z.literal('Pending'),
      orderName: z.string(),
      expiresAt: dateTime,
      checkout: z.record(z.string(), z.union([z.string(), z.number()])).describe("the Danal SDK's parameters"),
    }),
  ),
  confirmed: ok(
    z.union([
      z.object({ orderID: z.string(), status: z.literal('Paid'), pointAmount: points, paidAt: dateTime.nullable(), balance: points }),
      z.object({ orderID: z.string(), status: z.literal('WaitingForDeposit'), pointAmount: points, virtualAccount: virtualAccount.nullable() }),
    ]),
  ),
  canceled: ok(
    z.object({
      orderID: z.string(),
      status: z.enum(['Canceled', 'PartialCanceled']).describe('Canceled once nothing remains to refund'),
      canceledAmount: money.describe('refunded by this cancel'),
      canceledPoints: points.describe('taken back from the wallet by this cancel'),
      balanceAmount: money.describe('what can still be canceled'),
      balance: points.describe('the wallet balance after the cancel'),
    }),
  ),
  order: ok(paymentObject),
  orders: ok(z.object({ orders: z.array(paymentObject), nextCursor: cursor })),
  wallet: ok(z.object({ balance: points, heldPoints: points, availableBalance: points, entries: z.array(ledgerEntry) })),
  ledger: ok(z.object({ entries: z.array(ledgerEntry), nextCursor: cursor })),
  notificationReply: z.object({ code: z.enum(['SUCCESS', 'FAIL']), message: z.string().optional() }),
  health: ok(z.object({ status: z.literal('ok') })),
  ready: ok(z.object({ status: z.literal('ready'), database: z.literal('ok'), jobs: z.enum(['ok', 'disabled']) })),
  adminOrders: ok(z.object({ orders: z.array(operatorOrder), nextCursor: cursor })),
  adminOrder: ok(
    z.object({
      order: operatorOrder,
      events: z.array(z.object({ id: z.string(), type: z.string(), detail: z.unknown(), createdAt: dateTime })),
      ledger: z.array(z.object({ id: z.string(), type: z.enum(['CHARGE', 'CANCEL', 'SPEND']), amount: points, balanceAfter: points, createdAt: dateTime })),
      notifications: z.array(z.object({ id: z.string(), receivedAt: dateTime, sourceIp: z.string(), outcome: z.enum(['CREDITED', 'DUPLICATE', 'REJECTED', 'HELD']), reason: z.string() })),
    }),
  ),
  settlement: ok(
    z.object({
      timeZone: z.string(),
      from: z.string(),
      to: z.string(),
      days: z.array(z.object({ date: z.string(), methods: z.array(settlementLine.extend({ method: z.enum(PaymentMethod) })), totals: settlementLine })),
      totals: settlementLine,
    }),
  ),
  stuck: ok(
    z.object({
      deposits: z.array(heldDeposit).describe('deposits Danal reported that could not be credited, waiting for an operator'),
      orders: z.array(
        z.object({
          orderID: z.string(),
          status: z.enum(OrderStatus),
          userId: z.uuid(),
          amount: money,
          transactionID: z.string().nullable(),
          attempts: z.int(),
          nextAttemptAt: dateTime.nullable(),
          needsOperator: z.boolean(),
          gaveUpAt: dateTime.nullable(),
          lastReason: z.string().nullable(),
        }),
      ),
    }),
  ),
  webhookDeliveries: ok(
    z.object({
      deliveries: z.array(
        z.object({
          eventId: z.uuid(),
          orderID: z.string(),
          orderStatus: z.enum(OrderStatus),
          url: z.string(),
          state: z.enum(['pending', 'delivered', 'dead']),
          attempts: z.int(),
          nextAttemptAt: dateTime,
          lastStatus: z.int().nullable(),
          lastError: z.string().nullable(),
          deliveredAt: dateTime.nullable(),
          createdAt: dateTime,
        }),
      ),
    }),
  ),
  deposits: ok(z.object({ deposits: z.array(heldDeposit) })),
  depositSettled: ok(heldDeposit),
  resent: ok(z.object({ eventId: z.uuid(), deliveries: z.int() })),
  rearmed: ok(z.object({ orderID: z.string(), scheduled: z.literal(true) })),
};
