// Our Danal sandbox: Danal's ONE API shapes and rules over HTTP, mounted at
// /sandbox/danal in sandbox mode only, or served by a process of its own
// (npm run sandbox:danal, src/sandbox/main.ts). The service reaches it through
// the same DanalHttpClient as live Danal. Test controls (authorize, deposit,
// faults) let scripts play the buyer and make Danal misbehave.
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import axios from 'axios';
import { DANAL_METHODS } from '../danal/danal-gateway.js';
import { formatDanalDateTime, parseDanalDateTime } from '../danal/danal-http-client.js';
import type { SandboxFault, SandboxStore, SandboxTransaction } from './sandbox-store.js';
import { checkoutPage, resultPage } from './sandbox-pages.js';
import { jsonBody } from '../http/json-body.js';
import { isAllowedNotiUrl } from './notification-targets.js';

export interface SandboxOptions {
  store: SandboxStore;
  secretKey: string;
  merchantId: string;
  /** Where deposit notifications go when the buyer's window gave no notiUrl. */
  defaultNotiUrl: () => string;
  /**
   * The only notification URLs the sandbox posts to (each also with an order's token after it):
   * the service's own, or a configured list. Read at each use: the service's URL is known once it listens.
   */
  notificationTargets: () => string[];
}

const amountString = z.string().regex(/^[1-9]\d{0,11}$/, 'must be a string of digits');
const method = z.enum(DANAL_METHODS);
const transactionId = z.string().regex(/^[\x21-\x7e]{1,32}$/, 'must be 1-32 printable characters');
// Danal's database, like ours, cannot store NUL: refuse it as a bad request.
const text = (max: number) => z.string().max(max).regex(/^[^\u0000]*$/, 'must not contain NUL');
const orderId = z.string().regex(/^[\x21-\x7e]{1,64}$/, 'must be 1-64 printable characters');

const confirmRequest = z.object({ method, transactionId, merchantId: z.string().min(1).max(20), amount: amountString, orderId });
const cancelRequest = z.object({
  method,
  transactionId,
  merchantId: z.string().min(1).max(20),
  amount: amountString,
  cancelType: z.enum(['C', 'P']),
  cancelReason: text(200).optional(),
  cancelRequester: z.string().max(20).optional(),
});
// The SDK's VACCOUNT deposit deadline: expireDate YYYYMMDD and expireTime HHMM, Korea time.
const expireDate = z.string().regex(/^\d{8}$/, 'must be YYYYMMDD');
const expireTime = z.string().regex(/^([01]\d|2[0-3])[0-5]\d$/, 'must be HHMM');
const authorizeRequest = z.strictObject({
  orderId,
  amount: z.number().int().positive().max(100_000_000),
  method,
  notiUrl: z.url({ protocol: /^https?$/ }).optional(),
  expireDate: expireDate.optional(),
  expireTime: expireTime.optional(),
});

/** The deposit deadline the window asked for (the end of the day when only a date is given); undefined for none. */
function requestedDeadline(date: string | undefined, time: string | undefined): Date | undefined {
  if (!date) return undefined;
  const at = parseDanalDateTime(`${date}${time ?? '2359'}${time ? '00' : '59'}`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}
const faultRequest = z.strictObject({
  operation: z.enum(['confirm', 'cancel']),
  kind: z.enum(['timeout', 'cutoff', 'error', 'server_error', 'different_amount']),
  orderId: orderId.optional(),
  code: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'must be 1-64 printable characters').optional(),
  message: text(200).optional(),
  delayMs: z.number().int().min(0).max(120_000).optional(),
  amount: z.number().int().positive().optional(),
});

const newTransactionId = () => `T${formatDanalDateTime(new Date()).slice(2, 8)}${randomBytes(6).toString('hex').toUpperCase()}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const answer = (res: Response, body: Record<string, unknown>, status = 200) => res.status(status).json(body);
const decline = (res: Response, code: string, message: string) => answer(res, { code, message });

export function sandboxRouter(options: SandboxOptions): Router {
  const { store } = options;
  const router = Router();
  const allowedNotiUrl = (url: string | undefined) => url === undefined || isAllowedNotiUrl(url, options.notificationTargets());
  const notiUrlProblem = () => `notiUrl: must be this service's notification URL (${options.notificationTargets().join(', ')}), or it with the order's token after it`;
  // The payment window posts a form and is redirected to the merchant's successUrl/failUrl,
  // which may be another origin; helmet's default form-action 'self' would block that.
  router.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'self'");
    next();
  });
  router.use(jsonBody('16kb'));
  router.use(express.urlencoded({ extended: false, limit: '16kb' }));

  function authenticated(req: Request): boolean {
    const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.get('authorization') ?? '');
    if (!match) return false;
    const expected = Buffer.from(`${options.secretKey}:`);
    const given = Buffer.from(match[1]!, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Danal's checks before any business rule: credentials, request shape, merchant. */
  function admit<S extends z.ZodType>(req: Request, res: Response, schema: S): z.infer<S> | undefined {
    if (!authenticated(req)) {
      answer(res, { code: 'UNAUTHORIZED', message: 'invalid secret key' }, 401);
      return undefined;
    }
    const parsed = schema.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      answer(res, { code: 'INVALID_REQUEST', message: `${issue.path.join('.')}: ${issue.message}` }, 400);
      return undefined;
    }
    if ((parsed.data as { merchantId: string }).merchantId !== options.merchantId) {
      answer(res, { code: 'INVALID_MERCHANT', message: 'unknown merchantId' }, 400);
      return undefined;
    }
    return parsed.data;
  }

  /** Sends the answer as the fault says: late, never, or at once. */
  async function deliver(req: Request, res: Response, fault: SandboxFault | undefined, body: Record<string, unknown>) {
    if (fault?.kind === 'cutoff') return void req.socket.destroy();
    if (fault?.kind === 'timeout') await sleep(fault.delay_ms ?? 20_000);
    if (!res.writableEnded && !req.socket.destroyed) answer(res, body);
  }

  const approvalEcho = (t: SandboxTransaction) => ({
    code: 'SUCCESS',
    message: t.method === 'VACCOUNT' ? '가상계좌 발급 완료' : '결제 승인 완료',
    transactionId: t.transaction_id,
    orderId: t.order_id,
    amount: String(t.approved_amount),
    method: t.method,
    transactionDateTime: formatDanalDateTime(t.approved_at ?? new Date()),
    ...(t.account_number && {
      virtualAccount: {
        bankCode: t.bank_code,
        bankName: t.bank_name,
        accountNumber: t.account_number,
        accountHolder: t.account_holder,
        expireDateTime: formatDanalDateTime(t.due_at!),
      },
    }),
  });

  router.post('/payments/confirm', async (req, res) => {
    const request = admit(req, res, confirmRequest);
    if (!request) return;
    const fault = await store.takeFault('confirm', request.orderId);
    if (fault?.kind === 'error') return decline(res, fault.error_code ?? 'PG_DECLINED', fault.error_message ?? '카드사 승인 거절');
    if (fault?.kind === 'server_error') return answer(res, { code: 'SYSTEM_ERROR', message: 'temporary failure' }, 500);

    const outcome = await store.withTransactionLocked(request.transactionId, async (t, q) => {
      if (!t) return { code: 'TRANSACTION_NOT_FOUND', message: 'no authenticated transaction with this transactionId' };
      if (t.method !== request.method) return { code: 'METHOD_MISMATCH', message: 'method does not match the transaction' };
      if (t.order_id !== request.orderId) return { code: 'ORDER_MISMATCH', message: 'orderId does not match the transaction' };
      if (t.status === 'CANCELED') return { code: 'ALREADY_CANCELED', message: 'the transaction was canceled' };
      // A repeated confirm of an approved transaction gets the same answer again.
      if (t.status !== 'AUTHENTICATED') return approvalEcho(t);
      let approvedAmount = Number(request.amount);
      if (fault?.kind === 'different_amount') {
        approvedAmount = fault.amount ?? (t.amount !== approvedAmount ? t.amount : approvedAmount + 1000);
      } else if (approvedAmount !== t.amount) {
        return { code: 'AMOUNT_MISMATCH', message: 'amount differs from the amount the buyer authenticated' };
      }
      const vaccount = t.method === 'VACCOUNT';
      const { rows } = await q.query(
        `UPDATE danal_sandbox.transactions
         SET status = $2, approved_amount = $3, approved_at = now(),
             bank_code = $4, bank_name = $5, account_number = $6, account_holder = $7, due_at = $8
         WHERE transaction_id = $1 RETURNING *`,
        [
          t.transaction_id,
          vaccount ? 'ISSUED' : 'APPROVED',
          approvedAmount,
          vaccount ? '088' : null,
          vaccount ? '신한은행' : null,
          vaccount ? `5620${String(randomInt(1e9)).padStart(9, '0')}` : null,
          vaccount ? '다날_DPOT' : null,
          vaccount ? (t.requested_due_at ?? new Date(Date.now() + 24 * 3600_000)) : null,
        ],
      );
      return approvalEcho(rows[0]);
    });
    await deliver(req, res, fault, outcome);
  });

  router.post('/payments/cancel', async (req, res) => {
    const request = admit(req, res, cancelRequest);
    if (!request) return;
    const found = await store.getTransaction(request.transactionId);
    const fault = await store.takeFault('cancel', found?.order_id ?? '');
    if (fault?.kind === 'error') return decline(res, fault.error_code ?? 'CANCEL_REFUSED', fault.error_message ?? '취소 불가');
    if (fault?.kind === 'server_error') return answer(res, { code: 'SYSTEM_ERROR', message: 'temporary failure' }, 500);

    const outcome = await store.withTransactionLocked(request.transactionId, async (t, q) => {
      if (!t) return { code: 'TRANSACTION_NOT_FOUND', message: 'no transaction with this transactionId' };
      if (t.method !== request.method) return { code: 'METHOD_MISMATCH', message: 'method does not match the transaction' };
      if (t.status === 'CANCELED') return { code: 'ALREADY_CANCELED', message: 'the transaction is already canceled' };
      if (t.status === 'AUTHENTICATED') return { code: 'NOT_APPROVED', message: 'the transaction was never approved' };
      const remaining = t.approved_amount! - t.canceled_amount;
      const amount = Number(request.amount);
      if (request.cancelType === 'C' && amount !== remaining) {
        return { code: 'AMOUNT_MISMATCH', message: `a full cancel must be for the remaining ${remaining}` };
      }
      if (amount > remaining) return { code: 'EXCEEDS_CANCELABLE_AMOUNT', message: `at most ${remaining} can be canceled` };
      const cancelId = newTransactionId();
      await q.query(
        'INSERT INTO danal_sandbox.cancels (cancel_transaction_id, transaction_id, amount, cancel_type, reason) VALUES ($1, $2, $3, $4, $5)',
        [cancelId, t.transaction_id, amount, request.cancelType, request.cancelReason ?? null],
      );
      await q.query(
        `UPDATE danal_sandbox.transactions SET canceled_amount = canceled_amount + $2,
           status = CASE WHEN canceled_amount + $2 = approved_amount THEN 'CANCELED' ELSE status END
         WHERE transaction_id = $1`,
        [t.transaction_id, amount],
      );
      return {
        code: 'SUCCESS',
        message: '취소 완료',
        transactionId: cancelId,
        amount: String(amount),
        remainingAmount: String(remaining - amount),
        transactionDateTime: formatDanalDateTime(new Date()),
      };
    });
    await deliver(req, res, fault, outcome);
  });

  // ---- The buyer's side: the payment window, and a scriptable shortcut ----

  async function authorize(input: z.infer<typeof authorizeRequest>) {
    const id = newTransactionId();
    const dueAt = input.method === 'VACCOUNT' ? requestedDeadline(input.expireDate, input.expireTime) : undefined;
    await store.insertTransaction({ transactionId: id, orderId: input.orderId, amount: input.amount, method: input.method, notiUrl: input.notiUrl ?? null, dueAt: dueAt ?? null });
    return { transactionId: id, orderId: input.orderId, amount: input.amount, method: input.method };
  }

  router.post('/authorize', async (req, res) => {
    const parsed = authorizeRequest.safeParse(req.body);
    if (!parsed.success) return answer(res, { code: 'INVALID_REQUEST', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') }, 400);
    if (!allowedNotiUrl(parsed.data.notiUrl)) return answer(res, { code: 'INVALID_REQUEST', message: notiUrlProblem() }, 400);
    answer(res, await authorize(parsed.data), 201);
  });

  const windowParams = z.object({
    merchantId: z.literal(options.merchantId),
    paymentsMethod: method,
    orderId,
    orderName: z.string().max(100).default(''),
    amount: z.string().regex(/^[1-9]\d{0,8}$/),
    userId: z.string().max(64).default(''),
    successUrl: z.url({ protocol: /^https?$/ }),
    failUrl: z.url({ protocol: /^https?$/ }),
    notiUrl: z.url({ protocol: /^https?$/ }).optional(),
    expireDate: expireDate.optional(),
    expireTime: expireTime.optional(),
  });

  const readWindow = (input: unknown, res: Response) => {
    const parsed = windowParams.safeParse(input);
    if (parsed.success && !allowedNotiUrl(parsed.data.notiUrl)) {
      res.status(400).type('text/plain').send(`Invalid payment window parameters: ${notiUrlProblem()}`);
      return undefined;
    }
    if (parsed.success) return parsed.data;
    const problem = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    res.status(400).type('text/plain').send(`Invalid payment window parameters: ${problem}`);
    return undefined;
  };

  router.get('/checkout', (req, res) => {
    const params = readWindow(req.query, res);
    if (params) res.type('html').send(checkoutPage(Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Record<string, string>));
  });

  const redirect = (res: Response, base: string, query: Record<string, string>) => {
    const url = new URL(base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    res.redirect(303, url.toString());
  };

  router.post('/checkout/approve', async (req, res) => {
    const params = readWindow(req.body, res);
    if (!params) return;
    const auth = await authorize({
      orderId: params.orderId,
      amount: Number(params.amount),
      method: params.paymentsMethod,
      notiUrl: params.notiUrl,
      expireDate: params.expireDate,
      expireTime: params.expireTime,
    });
    redirect(res, params.successUrl, { code: 'SUCCESS', message: '인증 완료', transactionId: auth.transactionId, orderId: auth.orderId, amount: String(auth.amount), method: auth.method });
  });

  router.post('/checkout/cancel', (req, res) => {
    const params = readWindow(req.body, res);
    if (params) redirect(res, params.failUrl, { code: 'USER_CANCEL', message: '사용자가 결제를 취소했습니다', orderId: params.orderId });
  });

  router.get('/result', (req, res) => {
    const query = Object.fromEntries(Object.entries(req.query).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    res.type('html').send(resultPage(query));
  });

  // ---- Danal's side of a virtual account: the bank reports a deposit ----

  router.post('/deposit', async (req, res) => {
    const parsed = z.strictObject({ transactionId }).safeParse(req.body);
    if (!parsed.success) return answer(res, { code: 'INVALID_REQUEST', message: 'transactionId is required' }, 400);
    const t = await store.getTransaction(parsed.data.transactionId);
    if (!t || t.method !== 'VACCOUNT') return answer(res, { code: 'TRANSACTION_NOT_FOUND', message: 'no virtual-account transaction with this transactionId' }, 404);
    if (t.status !== 'ISSUED' && t.status !== 'DEPOSITED') return answer(res, { code: 'NOT_ISSUED', message: `the transaction is ${t.status}` }, 409);
    // The bank takes no deposit into an account past its deadline: Danal sends nothing.
    if (t.status === 'ISSUED' && t.due_at && t.due_at <= new Date()) {
      return answer(res, { code: 'ACCOUNT_EXPIRED', message: `the account's deposit deadline ${t.due_at.toISOString()} has passed` }, 409);
    }
    const notiUrl = t.noti_url ?? options.defaultNotiUrl();
    // Checked again at the moment of posting: the list may have changed since the authorization.
    if (!isAllowedNotiUrl(notiUrl, options.notificationTargets())) return answer(res, { code: 'NOTI_URL_NOT_ALLOWED', message: notiUrlProblem() }, 409);
    const notification = { code: 'SUCCESS', message: '입금완료', transactionID: t.transaction_id, orderID: t.order_id, amount: String(t.approved_amount) };
    // No redirect is followed and the reply's body stays here: the caller learns the status only.
    const reply = await axios
      .post(notiUrl, notification, { timeout: 10_000, maxRedirects: 0, maxContentLength: 64 * 1024, validateStatus: () => true })
      .catch(() => ({ status: 0, data: undefined }));
    const delivered = reply.status === 200 && (reply.data as { code?: string } | undefined)?.code === 'SUCCESS';
    if (delivered) {
      await store.withTransactionLocked(t.transaction_id, (_t, q) => q.query("UPDATE danal_sandbox.transactions SET status = 'DEPOSITED' WHERE transaction_id = $1 AND status = 'ISSUED'", [t.transaction_id]));
    }
    answer(res, { notiUrl, notification, replyStatus: reply.status, delivered });
  });

  // ---- Test controls ----

  router.post('/faults', async (req, res) => {
    const parsed = faultRequest.safeParse(req.body);
    if (!parsed.success) return answer(res, { code: 'INVALID_REQUEST', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') }, 400);
    const f = parsed.data;
    const id = await store.addFault({
      operation: f.operation,
      kind: f.kind,
      order_id: f.orderId ?? null,
      error_code: f.code ?? null,
      error_message: f.message ?? null,
      delay_ms: f.delayMs ?? null,
      amount: f.amount ?? null,
    });
    answer(res, { id, ...f }, 201);
  });

  router.get('/transactions/:transactionId', async (req, res) => {
    const t = await store.getTransaction(req.params.transactionId);
    if (!t) return answer(res, { code: 'TRANSACTION_NOT_FOUND', message: 'no such transaction' }, 404);
    answer(res, {
      transactionId: t.transaction_id,
      orderId: t.order_id,
      method: t.method,
      status: t.status,
      authenticatedAmount: t.amount,
      approvedAmount: t.approved_amount,
      canceledAmount: t.canceled_amount,
      cancels: await store.cancelsOf(t.transaction_id),
    });
  });

  return router;
}
