// Anything a client can send gets a clear 4xx with a stable code: never a 500,
// never a stack trace, never a change to a wallet.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorize, bearer, createOrder, expectLedgerConsistent, newUser, startTestServer, walletOf, type TestServer, type User } from '../helpers.js';

let t: TestServer;
let user: User;
let orderID: string;
beforeAll(async () => {
  t = await startTestServer();
  user = await newUser(t);
  orderID = (await createOrder(t, user)).orderID;
});
afterAll(() => t.close());
afterEach(async () => {
  await expectLedgerConsistent(t.db);
  expect((await walletOf(t, user)).balance).toBe(0);
});

function expectClearError(res: { status: number; body: { success: boolean; error: { code: string; message: string } }; text: string }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body.success).toBe(false);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.message.length).toBeGreaterThan(5);
  expect(res.text).not.toMatch(/at .+\.(ts|js):\d+|node_modules|Error:/);
}

const order = (body: unknown) => t.api.post('/api/payment/order').set(bearer(user)).send(body as object);

describe('bad input on POST /api/payment/order', () => {
  it.each([
    ['zero', 0, 'VALIDATION_FAILED', 'must be greater than 0'],
    ['negative', -1000, 'VALIDATION_FAILED', 'must be greater than 0'],
    ['fractional', 1000.5, 'VALIDATION_FAILED', 'must be a whole number of KRW'],
    ['huge', 1e15, 'VALIDATION_FAILED', 'is too large'],
    ['a string', '10000', 'VALIDATION_FAILED', 'must be a number'],
    ['null', null, 'VALIDATION_FAILED', 'must be a number'],
    ['below the minimum', 900, 'INVALID_AMOUNT', 'must be at least 1000 KRW'],
    ['above the maximum', 1_000_100, 'INVALID_AMOUNT', 'must be at most 1000000 KRW'],
    ['not a multiple of 100', 10_050, 'INVALID_AMOUNT', 'must be a multiple of 100 KRW'],
  ])('refuses an amount that is %s', async (_what, amount, code, why) => {
    const res = await order({ amount, paymentMethod: 'Card' });
    expectClearError(res, 400, code);
    expect(res.body.error.message).toContain(`amount ${why}`);
    expect(res.body.error.details).toEqual([{ field: 'amount', message: why }]);
  });

  it('refuses an amount that overflows JSON numbers', async () => {
    const res = await t.api.post('/api/payment/order').set(bearer(user)).set('Content-Type', 'application/json').send('{"amount":1e400,"paymentMethod":"Card"}');
    expectClearError(res, 400, 'VALIDATION_FAILED');
    expect(res.body.error.details[0]).toMatchObject({ field: 'amount' });
    expect(res.body.error.details[0].message).not.toBe('is required');
  });

  it('refuses an unknown payment method, naming the accepted ones', async () => {
    const res = await order({ amount: 10_000, paymentMethod: 'Bitcoin' });
    expectClearError(res, 400, 'VALIDATION_FAILED');
    expect(res.body.error.message).toContain('paymentMethod');
    expect(res.body.error.message).toContain('VirtualAccount');
  });

  it('names every missing field', async () => {
    const res = await order({});
    expectClearError(res, 400, 'VALIDATION_FAILED');
    expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['amount', 'paymentMethod']);
  });

  it('refuses unknown fields, such as a client-chosen point amount', async () => {
    const res = await order({ amount: 10_000, paymentMethod: 'Card', pointAmount: 99_999_999 });
    expectClearError(res, 400, 'VALIDATION_FAILED');
    expect(res.body.error.details).toContainEqual({ field: 'pointAmount', message: 'is not an accepted field' });
  });

  it('refuses a JSON array or a bare value as the body', async () => {
    expectClearError(await order([1, 2]), 400, 'VALIDATION_FAILED');
    const bare = await t.api.post('/api/payment/order').set(bearer(user)).set('Content-Type', 'application/json').send('"text"');
    expectClearError(bare, 400, 'MALFORMED_JSON');
  });

  it('refuses malformed JSON', async () => {
    const res = await t.api.post('/api/payment/order').set(bearer(user)).set('Content-Type', 'application/json').send('{"amount": 10000,');
    expectClearError(res, 400, 'MALFORMED_JSON');
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await t.api.post('/api/payment/order').set(bearer(user)).set('Content-Type', 'text/plain').send('amount=10000');
    expectClearError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const form = await t.api.post('/api/payment/order').set(bearer(user)).type('form').send({ amount: '10000', paymentMethod: 'Card' });
    expectClearError(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a missing body', async () => {
    const res = await t.api.post('/api/payment/order').set(bearer(user));
    expectClearError(res, 400, 'VALIDATION_FAILED');
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await order({ amount: 10_000, paymentMethod: 'Card', padding: 'x'.repeat(20_000) });
    expectClearError(res, 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe('bad input on confirm, cancel and order lookup', () => {
  const confirm = (body: unknown) => t.api.post('/api/payment/confirm').set(bearer(user)).send(body as object);

  it.each([
    ['a missing transactionID', () => ({ orderID, method: 'CARD' }), 'transactionID'],
    ['an unknown method', () => ({ orderID, transactionID: 'T1', method: 'CASH' }), 'method'],
    ['the order-style method name', () => ({ orderID, transactionID: 'T1', method: 'Card' }), 'method'],
    ['an over-long transactionID', () => ({ orderID, transactionID: 'T'.repeat(65), method: 'CARD' }), 'transactionID'],
    ['an orderID with odd characters', () => ({ orderID: "x' OR 1=1 --", transactionID: 'T1', method: 'CARD' }), 'orderID'],
    ['a numeric orderID', () => ({ orderID: 123456, transactionID: 'T1', method: 'CARD' }), 'orderID'],
    ['an extra amount field', () => ({ orderID, transactionID: 'T1', method: 'CARD', amount: 1 }), 'amount'],
  ])('confirm refuses %s', async (_what, body, field) => {
    const res = await confirm(body());
    expectClearError(res, 400, 'VALIDATION_FAILED');
    expect(res.body.error.message).toContain(field);
  });

  it('confirm answers 404 for an order that does not exist', async () => {
    const res = await confirm({ orderID: 'ORDDOESNOTEXIST', transactionID: 'T1', method: 'CARD' });
    expectClearError(res, 404, 'ORDER_NOT_FOUND');
  });

  it('confirm answers 409 for a transactionID Danal approved for another order', async () => {
    const owner = await newUser(t); // this file's user keeps an empty wallet
    const first = await createOrder(t, owner);
    const second = await createOrder(t, user);
    const tx = await authorize(t, first.orderID, 10_000);
    await t.api.post('/api/payment/confirm').set(bearer(owner)).send({ orderID: first.orderID, transactionID: tx, method: 'CARD' }).expect(200);
    const res = await confirm({ orderID: second.orderID, transactionID: tx, method: 'CARD' });
    expectClearError(res, 409, 'TRANSACTION_ALREADY_USED');
  });

  it.each([
    ['an empty reason', { reason: '' }, 'reason'],
    ['an over-long reason', { reason: 'r'.repeat(201) }, 'reason'],
    ['an unknown field', { pointAmount: 5000 }, 'pointAmount'],
    ['an amount given as a string', { amount: '5000' }, 'amount'],
    ['a reason with a NUL byte', { reason: 'a\u0000b' }, 'reason'],
    ['a reason with a newline', { reason: 'line\nbreak' }, 'reason'],
  ])('cancel refuses %s', async (_what, extra, field) => {
    const res = await t.api.post('/api/payment/cancel').set(bearer(user)).send({ orderID, ...extra });
    expectClearError(res, 400, 'VALIDATION_FAILED');
    expect(res.body.error.message).toContain(field);
  });

  it('order lookup refuses a malformed orderID', async () => {
    expectClearError(await t.api.get(`/api/payment/orders/${'a'.repeat(65)}`).set(bearer(user)), 400, 'VALIDATION_FAILED');
  });

  it('answers 400 to a URL that is not valid percent-encoding', async () => {
    expectClearError(await t.api.get('/api/payment/orders/%E0%A4%A').set(bearer(user)), 400, 'BAD_REQUEST');
  });

  it('answers 400 to a body that claims gzip but is not', async () => {
    const res = await t.api.post('/api/payment/order').set(bearer(user)).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('{"amount":10000}');
    expectClearError(res, 400, 'BAD_REQUEST');
  });

  it('the notification endpoint answers FAIL to garbage', async () => {
    const junk = await t.api.post('/api/payment/noti/vaccount').set('Content-Type', 'application/json').send('{nope');
    expect(junk.status).toBe(400);
    expect(junk.body.code).toBe('FAIL');
    const stored = await t.db.depositNotification.findFirstOrThrow({ where: { body: { equals: { unparsed: '{nope' } } } });
    expect(stored.outcome).toBe('REJECTED');
    const empty = await t.api.post('/api/payment/noti/vaccount').send({});
    expect(empty.body.code).toBe('FAIL');
    const text = await t.api.post('/api/payment/noti/vaccount').set('Content-Type', 'text/plain').send('code=SUCCESS');
    expect(text.body.code).toBe('FAIL');
  });

  it('the notification endpoint records and refuses NUL bytes instead of failing', async () => {
    const field = await t.api.post('/api/payment/noti/vaccount').send({ code: 'SUCCESS', transactionID: 'T\u0000', orderID: 'ORDNULTEST01', amount: '1000' });
    expect(field.status).toBe(400);
    expect(field.body.code).toBe('FAIL');
    const raw = await t.api.post('/api/payment/noti/vaccount').set('Content-Type', 'text/plain').send('\u0000ORDNULTEST02');
    expect(raw.status).toBe(400);
    expect(raw.body.code).toBe('FAIL');
    const stored = await t.db.depositNotification.findFirstOrThrow({ where: { orderId: 'ORDNULTEST01' } });
    expect(stored).toMatchObject({ outcome: 'REJECTED', body: { transactionID: 'T\ufffd' } });
    expect(await t.db.depositNotification.count({ where: { body: { equals: { unparsed: '\ufffdORDNULTEST02' } } } })).toBe(1);
  });

  it('the notification endpoint records and refuses lone UTF-16 surrogates, in keys and values, instead of failing', async () => {
    // JSON.stringify writes them as \ud800, which PostgreSQL's JSON parser refuses (found by the property tests).
    const res = await t.api
      .post('/api/payment/noti/vaccount')
      .set('Content-Type', 'application/json')
      .send('{"code":"SUCCESS","orderID":"ORDSURROGATE1","transactionID":"T\\ud800","\\udc00":"x","amount":"1000"}');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('FAIL');
    const stored = await t.db.depositNotification.findFirstOrThrow({ where: { orderId: 'ORDSURROGATE1' } });
    expect(stored.body).toMatchObject({ transactionID: 'T\ufffd', '\ufffd': 'x' });
  });
});
