// The seed collection's payment API. Handlers only validate, call one use
// case and wrap the answer.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { PaymentService } from '../payments/payment-service.js';
import type { CancelService } from '../payments/cancel-service.js';
import { CONFIRM_METHODS } from '../payments/order-policy.js';
import { PaymentMethod } from '../generated/prisma/enums.js';
import { krw, parse, parseBody, plainText } from './validate.js';
import { listOrdersQuery } from './order-query.js';

export const orderIdField = z.string({ error: 'must be a string' }).regex(/^[A-Za-z0-9_-]{6,64}$/, 'must be 6-64 letters, digits, _ or -');

export const createOrderBody = z.strictObject({
  amount: krw,
  paymentMethod: z.enum(Object.values(PaymentMethod) as [PaymentMethod, ...PaymentMethod[]], {
    error: `must be one of ${Object.values(PaymentMethod).join(', ')}`,
  }),
});

export const confirmBody = z.strictObject({
  orderID: orderIdField,
  transactionID: z.string({ error: 'must be a string' }).regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
  method: z.enum(CONFIRM_METHODS, { error: `must be one of ${CONFIRM_METHODS.join(', ')}` }),
});

export const cancelBody = z.strictObject({
  orderID: orderIdField,
  amount: z
    .number({ error: 'must be a number of KRW' })
    .int('must be a whole number of KRW')
    .positive('must be at least 1 KRW')
    .max(1_000_000_000, 'must be at most 1000000000 KRW')
    .optional()
    .describe('KRW to refund (a partial cancel); without it, everything that remains is canceled'),
  reason: plainText(200).optional(),
});

export interface PaymentRouterDeps {
  payments: PaymentService;
  cancels: CancelService;
  requireAuth: RequestHandler;
  requireJsonBody: RequestHandler;
  /** Reads a JSON body (src/http/json-body.ts); run after the guards. */
  json: RequestHandler;
  /** Rate limits of the money endpoints (per user and per address). */
  limitMoney: RequestHandler;
  /** The Idempotency-Key handling of one route (src/http/idempotency.ts). */
  idempotent: (route: string) => RequestHandler;
  clientConfig: { clientKey: string; merchantID: string };
}

export function paymentRouter(deps: PaymentRouterDeps): Router {
  const { payments } = deps;
  const router = Router();

  router.use(deps.requireAuth, deps.requireJsonBody);

  router.get('/config', (_req, res) => {
    res.json({ success: true, data: deps.clientConfig });
  });
  router.post('/order', deps.limitMoney, deps.json, deps.idempotent('POST /api/payment/order'), async (req, res) => {
    const body = parseBody(createOrderBody, req);
    res.status(201).json({ success: true, data: await payments.createOrder(req.userId!, body, req.idempotency), message: 'Order created' });
  });
  router.post('/confirm', deps.limitMoney, deps.json, deps.idempotent('POST /api/payment/confirm'), async (req, res) => {
    const result = await payments.confirm(req.userId!, parseBody(confirmBody, req));
    const message = result.status === 'Paid' ? '충전이 완료되었습니다.' : 'Virtual account issued; the points are credited when the deposit arrives';
    res.json({ success: true, data: result, message });
  });
  router.post('/cancel', deps.limitMoney, deps.json, deps.idempotent('POST /api/payment/cancel'), async (req, res) => {
    const canceled = await deps.cancels.cancel(req.userId!, parseBody(cancelBody, req), req.idempotency);
    res.json({ success: true, data: canceled, message: canceled.status === 'Canceled' ? 'Payment canceled' : 'Part of the payment canceled' });
  });
  router.get('/orders', async (req, res) => {
    const { status, ...query } = parse(listOrdersQuery, req.query, 'query');
    res.json({ success: true, data: await payments.listOrders(req.userId!, { ...query, statuses: status }) });
  });
  router.get('/orders/:orderID', async (req, res) => {
    const orderID = parse(orderIdField, req.params.orderID, 'orderID');
    res.json({ success: true, data: await payments.getOrder(req.userId!, orderID) });
  });
  return router;
}
