// The adapter against a scripted HTTP server: each Danal answer becomes the
// right typed result or typed failure.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DanalHttpClient, parseDanalDateTime, formatDanalDateTime } from '../../src/danal/danal-http-client.js';
import { DanalDeclinedError, DanalInvalidRequestError, DanalUnavailableError, DanalUnknownOutcomeError } from '../../src/danal/danal-gateway.js';

type Script = (req: http.IncomingMessage, body: Record<string, unknown>, res: http.ServerResponse) => void;
let script: Script;
let seen: { headers: http.IncomingHttpHeaders; body: Record<string, unknown>; url: string }[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}');
      seen.push({ headers: req.headers, body, url: req.url! });
      script(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
};
const client = (baseUrl = () => base) => new DanalHttpClient({ baseUrl, secretKey: 'SK_TEST_unit', merchantId: 'M1', timeoutMs: 300 });
const confirmRequest = { transactionId: 'T1', orderId: 'ORD000001', amount: 10_000, method: 'CARD' as const };
const echo = { code: 'SUCCESS', message: 'ok', transactionId: 'T1', orderId: 'ORD000001', amount: '10000', method: 'CARD', transactionDateTime: '20260326123000' };

describe('Danal confirm', () => {
  it('sends Basic auth with the secret key, amounts as digit strings, and reads the approval', async () => {
    seen = [];
    script = (_req, _body, res) => json(res, 200, echo);
    const approval = await client().confirm(confirmRequest);
    expect(seen[0]!.url).toBe('/payments/confirm');
    expect(seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from('SK_TEST_unit:').toString('base64')}`);
    expect(seen[0]!.body).toEqual({ method: 'CARD', transactionId: 'T1', merchantId: 'M1', amount: '10000', orderId: 'ORD000001' });
    expect(approval).toMatchObject({ transactionId: 'T1', orderId: 'ORD000001', amount: 10_000, method: 'CARD' });
    expect(approval.approvedAt.toISOString()).toBe('2026-03-26T03:30:00.000Z');
  });

  it('reads an issued virtual account', async () => {
    script = (_req, _body, res) =>
      json(res, 200, { ...echo, method: 'VACCOUNT', virtualAccount: { bankCode: '088', bankName: '신한은행', accountNumber: '56201234', accountHolder: 'DPOT', expireDateTime: '20260327000000' } });
    const approval = await client().confirm({ ...confirmRequest, method: 'VACCOUNT' });
    expect(approval.virtualAccount).toEqual({ bankCode: '088', bankName: '신한은행', accountNumber: '56201234', holder: 'DPOT', dueAt: new Date('2026-03-26T15:00:00Z') });
  });

  it('treats a VACCOUNT approval without the account as an unknown outcome', async () => {
    script = (_req, _body, res) => json(res, 200, { ...echo, method: 'VACCOUNT' });
    const error = await client().confirm({ ...confirmRequest, method: 'VACCOUNT' }).catch((e) => e);
    expect(error).toBeInstanceOf(DanalUnknownOutcomeError);
  });

  it('turns a non-SUCCESS code into a decline with its code and message', async () => {
    script = (_req, _body, res) => json(res, 200, { code: 'CARD_LIMIT', message: '한도 초과' });
    const error = await client().confirm(confirmRequest).catch((e) => e);
    expect(error).toBeInstanceOf(DanalDeclinedError);
    expect(error).toMatchObject({ code: 'CARD_LIMIT', danalMessage: '한도 초과', definite: true });
  });

  it('turns a 4xx into an invalid-request failure', async () => {
    script = (_req, _body, res) => json(res, 401, { code: 'UNAUTHORIZED', message: 'bad key' });
    const error = await client().confirm(confirmRequest).catch((e) => e);
    expect(error).toBeInstanceOf(DanalInvalidRequestError);
    expect(error).toMatchObject({ httpStatus: 401, code: 'UNAUTHORIZED', definite: true });
  });

  it.each([
    ['a 5xx', (res: http.ServerResponse) => json(res, 502, 'Bad Gateway')],
    ['a body that is not JSON', (res: http.ServerResponse) => json(res, 200, '<html>oops</html>')],
    ['SUCCESS without the echo fields', (res: http.ServerResponse) => json(res, 200, { code: 'SUCCESS' })],
    ['SUCCESS with a non-numeric amount', (res: http.ServerResponse) => json(res, 200, { ...echo, amount: '10,000' })],
    ['a redirect', (res: http.ServerResponse) => res.writeHead(302, { Location: 'http://example.com' }).end()],
    ['a cut connection', (res: http.ServerResponse) => res.socket?.destroy()],
    ['no answer within the timeout', (res: http.ServerResponse) => setTimeout(() => json(res, 200, echo), 800)],
  ])('treats %s as an unknown outcome, never as a failure', async (_what, answer) => {
    script = (_req, _body, res) => answer(res);
    const error = await client().confirm(confirmRequest).catch((e) => e);
    expect(error).toBeInstanceOf(DanalUnknownOutcomeError);
    expect(error.definite).toBe(false);
  });

  it('treats a refused connection as unavailable: the request never left', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const error = await client(() => `http://127.0.0.1:${port}`).confirm(confirmRequest).catch((e) => e);
    expect(error).toBeInstanceOf(DanalUnavailableError);
    expect(error.definite).toBe(true);
  });
});

describe('Danal cancel', () => {
  it('sends cancelType and reason, and returns the new cancel transaction id', async () => {
    seen = [];
    script = (_req, _body, res) => json(res, 200, { code: 'SUCCESS', message: 'ok', transactionId: 'C9', transactionDateTime: '20260326123000' });
    const result = await client().cancel({ transactionId: 'T1', method: 'CARD', amount: 10_000, cancelType: 'C', reason: 'customer' });
    expect(seen[0]!.url).toBe('/payments/cancel');
    expect(seen[0]!.body).toMatchObject({ transactionId: 'T1', merchantId: 'M1', amount: '10000', cancelType: 'C', cancelReason: 'customer', method: 'CARD' });
    expect(result.cancelTransactionId).toBe('C9');
  });
});

describe('Danal date-times', () => {
  it('are Korea time both ways', () => {
    expect(parseDanalDateTime('20260101090000').toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(formatDanalDateTime(new Date('2026-01-01T00:00:00Z'))).toBe('20260101090000');
  });
});
