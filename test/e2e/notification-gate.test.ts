// Who may send a deposit notification, and what a refused one costs us: from
// an address that is not allowed, a bounded trace (address, time, size, a
// prefix) and, past a few a minute, nothing but a 429. From an allowed
// address, the full record as before.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postFrom as postFromAddress, startTestServer, type TestServer } from '../helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ RATE_LIMIT_NOTI_REFUSED_PER_ADDRESS: '10' });
});
afterAll(() => t?.close());

const postFrom = (address: string, body: string) => postFromAddress(`${t.url}/api/payment/noti/vaccount`, address, body).then((a) => ({ ...a, body: a.text, retryAfter: a.headers['retry-after'] as string | undefined }));

const padded = (marker: string) => JSON.stringify({ code: 'SUCCESS', orderID: marker, transactionID: 'T1', amount: '1000', pad: 'x'.repeat(7_900) });

describe('deposit notifications from an address that is not allowed', () => {
  it('stores a bounded trace for the first few and nothing after them, and never the body', async () => {
    const marker = `ORDGATE${randomUUID().slice(0, 8)}`;
    const answers = [];
    for (let i = 0; i < 40; i++) answers.push(await postFrom('127.0.2.2', padded(marker)));
    expect(answers.slice(0, 10).map((a) => a.status)).toEqual(Array(10).fill(403));
    expect(JSON.parse(answers[0]!.body)).toMatchObject({ code: 'FAIL' });
    expect(new Set(answers.slice(10).map((a) => a.status))).toEqual(new Set([429]));
    expect(Number(answers.at(-1)!.retryAfter)).toBeGreaterThanOrEqual(1);

    // Nothing in the full record: that is for allowed senders.
    expect(await t.db.depositNotification.count({ where: { sourceIp: '127.0.2.2' } })).toBe(0);
    const traces = await t.db.refusedNotification.findMany({ where: { sourceIp: '127.0.2.2', prefix: { contains: marker } } });
    expect(traces).toHaveLength(10);
    for (const trace of traces) {
      expect(trace.size).toBe(Buffer.byteLength(padded(marker)));
      expect(trace.prefix.length).toBeLessThanOrEqual(200);
      expect(trace.prefix.startsWith('{"code":"SUCCESS"')).toBe(true);
      expect(trace.receivedAt).toBeInstanceOf(Date);
    }
  });

  it('counts each address on its own: another refused address gets its own few traces', async () => {
    const answer = await postFrom('127.0.2.3', '{"code":"SUCCESS"}');
    expect(answer.status).toBe(403);
    expect(await t.db.refusedNotification.count({ where: { sourceIp: '127.0.2.3' } })).toBe(1);
  });

  it('answers an oversized body from a refused address without reading all of it, and traces its start', async () => {
    const answer = await postFrom('127.0.2.4', `{"code":"SUCCESS","pad":"${'y'.repeat(20_000)}"}`);
    expect(answer.status).toBe(413);
    const [trace] = await t.db.refusedNotification.findMany({ where: { sourceIp: '127.0.2.4' } });
    expect(trace!.prefix.length).toBeLessThanOrEqual(200);
  });
});

describe('deposit notifications from an allowed address', () => {
  it('keeps the full record of what was sent, whatever its outcome', async () => {
    const marker = `ORDFULL${randomUUID().slice(0, 8)}`;
    const answer = await postFrom('127.0.0.1', padded(marker));
    expect(answer.status).toBe(404);
    const [stored] = await t.db.depositNotification.findMany({ where: { orderId: marker } });
    expect(stored).toMatchObject({ outcome: 'REJECTED', sourceIp: '127.0.0.1', body: { orderID: marker, pad: 'x'.repeat(7_900) } });
  });
});
