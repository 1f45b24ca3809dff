// /api/admin: operators' lookups, settlement and unsettled orders. Behind
// requireAdmin (an API key), never behind a user's token.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AdminService } from '../admin/admin-service.js';
import { parse } from './validate.js';
import { adminOrdersQuery } from './order-query.js';

const day = z.iso.date('must be a date, YYYY-MM-DD');
const MAX_SETTLEMENT_DAYS = 92;
export const settlementQuery = z
  .strictObject({ from: day, to: day })
  .refine((q) => q.from <= q.to, { path: ['from'], message: 'must not be after to' })
  .refine((q) => (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 < MAX_SETTLEMENT_DAYS, {
    path: ['to'],
    message: `must be within ${MAX_SETTLEMENT_DAYS} days of from`,
  });
const orderIdParam = z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, 'must be 6-64 letters, digits, _ or -');
export const webhooksQuery = z.strictObject({
  state: z.enum(['pending', 'delivered', 'dead']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
const eventIdParam = z.uuid('must be a webhook event id (UUID)');
export const retryBody = z.strictObject({
  approvedAmount: z.number().int().positive().max(100_000_000).optional().describe("for an unknown confirm: what Danal's console shows as approved"),
  cancelOutcome: z.enum(['refunded', 'not_refunded']).optional().describe("for an unknown cancel: whether Danal's console shows it refunded"),
}).refine((body) => body.approvedAmount === undefined || body.cancelOutcome === undefined, {
  path: ['cancelOutcome'],
  message: 'give approvedAmount (an unknown confirm) or cancelOutcome (an unknown cancel), not both',
});

const depositIdParam = z.string().regex(/^[1-9]\d{0,17}$/, 'must be a held deposit id (digits)');
export const depositsQuery = z.strictObject({ status: z.enum(['Open', 'Credited', 'Returned']).default('Open') });
export const settleDepositBody = z.strictObject({
  resolution: z.enum(['credit', 'returned']).describe("credit: the order gets its points (its own amount, an order that can still take it); returned: the money went back to the buyer outside this service"),
  note: z.string().trim().min(1).max(500).regex(/^[^\u0000-\u001f]*$/, 'must be one line of text').optional().describe('what the operator did or saw'),
});

export function adminRouter(admin: AdminService, guards: RequestHandler[], json: RequestHandler): Router {
  const router = Router();
  router.use(...guards);

  router.get('/orders', async (req, res) => {
    const { status, orderID, transactionID, ...query } = parse(adminOrdersQuery, req.query, 'query');
    res.json({ success: true, data: await admin.findOrders({ ...query, statuses: status, orderId: orderID, transactionId: transactionID }) });
  });
  router.get('/orders/:orderID', async (req, res) => {
    res.json({ success: true, data: await admin.orderDetail(parse(orderIdParam, req.params.orderID, 'orderID')) });
  });
  router.get('/settlement', async (req, res) => {
    const { from, to } = parse(settlementQuery, req.query, 'query');
    res.json({ success: true, data: await admin.settlement(from, to) });
  });
  router.get('/stuck', async (_req, res) => {
    res.json({ success: true, data: await admin.stuckOrders() });
  });
  router.post('/orders/:orderID/reconcile', json, async (req, res) => {
    const orderId = parse(orderIdParam, req.params.orderID, 'orderID');
    const body = parse(retryBody, req.body ?? {}); // the body is optional
    res.json({ success: true, data: await admin.retryResolution(orderId, body) });
  });
  router.get('/deposits', async (req, res) => {
    const { status } = parse(depositsQuery, req.query, 'query');
    res.json({ success: true, data: await admin.deposits(status) });
  });
  router.post('/deposits/:depositId/settle', json, async (req, res) => {
    const depositId = parse(depositIdParam, req.params.depositId, 'depositId');
    const { resolution, note } = parse(settleDepositBody, req.body ?? {});
    res.json({ success: true, data: await admin.settleDeposit(depositId, resolution, note) });
  });
  router.get('/webhooks', async (req, res) => {
    const { state, limit } = parse(webhooksQuery, req.query, 'query');
    res.json({ success: true, data: await admin.webhookDeliveries(state, limit) });
  });
  router.post('/webhooks/:eventId/resend', async (req, res) => {
    res.json({ success: true, data: await admin.resendWebhook(parse(eventIdParam, req.params.eventId, 'eventId')) });
  });
  return router;
}
