// Danal ONE API over HTTP (see ../shared/research/danal-api.md). Every answer
// is validated here and turned into a typed result or a typed failure; nothing
// Danal-shaped leaves this file. No automatic retry of confirm or cancel: a
// retried approval could charge twice.
import axios, { AxiosError, type AxiosInstance } from 'axios';
import { z } from 'zod';
import {
  DanalDeclinedError,
  DanalInvalidRequestError,
  DanalUnavailableError,
  DanalUnknownOutcomeError,
  type Approval,
  type CancelRequest,
  type CancelResult,
  type ConfirmRequest,
  type DanalGateway,
} from './danal-gateway.js';

export interface DanalClientOptions {
  /** Read at each call: in sandbox mode the base is known only once the server listens. */
  baseUrl: () => string;
  secretKey: string;
  merchantId: string;
  timeoutMs: number;
}

const digits = z.string().regex(/^\d{1,12}$/);
const danalDateTime = z.string().regex(/^\d{14}$/);

const failureBody = z.object({ code: z.string().min(1), message: z.string().default('') });

const confirmSuccess = z.object({
  code: z.literal('SUCCESS'),
  message: z.string().optional(),
  transactionId: z.string().min(1).max(64),
  orderId: z.string().min(1),
  amount: digits,
  method: z.string().min(1),
  transactionDateTime: danalDateTime.optional(),
  // Danal's published pages do not show the VACCOUNT fields; this is the shape our sandbox uses.
  virtualAccount: z
    .object({
      bankCode: z.string().min(1),
      bankName: z.string().min(1),
      accountNumber: z.string().min(1),
      accountHolder: z.string().min(1),
      expireDateTime: danalDateTime,
    })
    .optional(),
});

const cancelSuccess = z.object({
  code: z.literal('SUCCESS'),
  message: z.string().optional(),
  transactionId: z.string().min(1).max(64),
  transactionDateTime: danalDateTime.optional(),
});

/** Danal's yyyyMMddHHmmss is Korea time (UTC+9, no daylight saving). */
export function parseDanalDateTime(value: string | undefined): Date {
  if (!value) return new Date();
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((at, i) => Number(value.slice(at, at + (i === 0 ? 4 : 2))));
  return new Date(Date.UTC(y!, mo! - 1, d!, h! - 9, mi!, s!));
}

export function formatDanalDateTime(date: Date): string {
  const kst = new Date(date.getTime() + 9 * 3600_000);
  return kst.toISOString().replace(/\D/g, '').slice(0, 14);
}

const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class DanalHttpClient implements DanalGateway {
  private readonly http: AxiosInstance;

  constructor(private readonly options: DanalClientOptions) {
    this.http = axios.create({
      timeout: options.timeoutMs,
      headers: {
        Authorization: `Basic ${Buffer.from(`${options.secretKey}:`).toString('base64')}`,
        'Content-Type': 'application/json',
        Accept: 'application/json',
      },
      maxRedirects: 0,
      maxContentLength: 64 * 1024,
      // Every status is read by `post` below, not thrown by axios.
      validateStatus: () => true,
      transitional: { clarifyTimeoutError: true },
    });
  }

  async confirm(request: ConfirmRequest): Promise<Approval> {
    const body = await this.post('/payments/confirm', {
      method: request.method,
      transactionId: request.transactionId,
      merchantId: this.options.merchantId,
      amount: String(request.amount),
      orderId: request.orderId,
    });
    const ok = confirmSuccess.safeParse(body);
    if (!ok.success) throw new DanalUnknownOutcomeError('confirm answered SUCCESS in a shape we cannot read');
    const va = ok.data.virtualAccount;
    // An account we cannot read is not a payment: never let it pass as an approved card-like charge.
    if (request.method === 'VACCOUNT' && !va) throw new DanalUnknownOutcomeError('VACCOUNT confirm answered SUCCESS without the account');
    return {
      transactionId: ok.data.transactionId,
      orderId: ok.data.orderId,
      amount: Number(ok.data.amount),
      method: ok.data.method,
      approvedAt: parseDanalDateTime(ok.data.transactionDateTime),
      virtualAccount: va && {
        bankCode: va.bankCode,
        bankName: va.bankName,
        accountNumber: va.accountNumber,
        holder: va.accountHolder,
        dueAt: parseDanalDateTime(va.expireDateTime),
      },
    };
  }

  async cancel(request: CancelRequest): Promise<CancelResult> {
    const body = await this.post('/payments/cancel', {
      method: request.method,
      transactionId: request.transactionId,
      merchantId: this.options.merchantId,
      amount: String(request.amount),
      cancelType: request.cancelType,
      cancelReason: request.reason,
      cancelRequester: 'CUSTOMER',
    });
    const ok = cancelSuccess.safeParse(body);
    if (!ok.success) throw new DanalUnknownOutcomeError('cancel answered SUCCESS in a shape we cannot read');
    return { cancelTransactionId: ok.data.transactionId, canceledAt: parseDanalDateTime(ok.data.transactionDateTime) };
  }

  /** Sends one request and returns a body whose `code` is SUCCESS, or throws a typed failure. */
  private async post(path: string, payload: Record<string, string>): Promise<unknown> {
    let response;
    try {
      // axios's own timeout is per socket inactivity; the signal bounds the whole call, which
      // the reconciler's lease and the shutdown deadline rely on.
      response = await this.http.post(`${this.options.baseUrl()}${path}`, payload, { signal: AbortSignal.timeout(this.options.timeoutMs) });
    } catch (error) {
      const code = error instanceof AxiosError ? error.code : undefined;
      if (code && NEVER_SENT.has(code)) throw new DanalUnavailableError(code);
      const timedOut = code === 'ETIMEDOUT' || code === 'ECONNABORTED' || code === 'ERR_CANCELED';
      throw new DanalUnknownOutcomeError(timedOut ? 'timed out' : `connection failed (${code ?? 'unknown'})`);
    }
    const { status, data } = response;
    if (status >= 500) throw new DanalUnknownOutcomeError(`HTTP ${status}`);
    const failure = failureBody.safeParse(data);
    if (status >= 400) {
      throw new DanalInvalidRequestError(status, failure.data?.code ?? 'UNKNOWN', failure.data?.message ?? '');
    }
    if (status !== 200 || !failure.success) throw new DanalUnknownOutcomeError(`unreadable answer (HTTP ${status})`);
    if (failure.data.code !== 'SUCCESS') throw new DanalDeclinedError(failure.data.code, failure.data.message);
    return data;
  }
}
