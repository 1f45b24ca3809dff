// /openapi.json is OpenAPI 3.1 built from the routes' own zod schemas, and
// /docs renders it. (Every answer of the e2e suite is checked against it by
// test/openapi-conformance.ts.)
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../helpers.js';

const t = useTestServer();

describe('OpenAPI', () => {
  it('documents the seed collection’s five calls and the rest of the API', async () => {
    const doc = (await t.api.get('/openapi.json').expect(200)).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const [path, method] of <[string, string][]>[
      ['/api/payment/order', 'post'],
      ['/api/payment/confirm', 'post'],
      ['/api/payment/cancel', 'post'],
      ['/api/payment/noti/vaccount', 'post'],
      ['/api/payment/config', 'get'],
      ['/api/payment/orders', 'get'],
      ['/api/wallet/ledger', 'get'],
      ['/api/admin/settlement', 'get'],
    ]) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    expect(doc.paths['/api/payment/confirm'].post.parameters).toEqual([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]);
    expect(doc.components.schemas.Payment.properties.balanceAmount).toBeDefined();
  });

  it('describes request bodies as the routes validate them', async () => {
    const doc = (await t.api.get('/openapi.json').expect(200)).body;
    const orderBody = doc.paths['/api/payment/order'].post.requestBody.content['application/json'].schema;
    const validate = new Ajv2020({ strict: false }).compile(orderBody);
    expect(validate({ amount: 10_000, paymentMethod: 'Card' })).toBe(true);
    expect(validate({ amount: 10_000, paymentMethod: 'Cash' })).toBe(false);
    expect(validate({ amount: '10000', paymentMethod: 'Card' })).toBe(false);
    expect(validate({ amount: 10_000, paymentMethod: 'Card', pointAmount: 999_999 })).toBe(false);
  });

  it('serves a browsable page at /docs, from our own origin', async () => {
    await t.api.get('/docs').expect(301).expect('Location', '/docs/');
    const page = await t.api.get('/docs/').expect(200);
    expect(page.text).toContain('swagger-ui-bundle.js');
    const init = await t.api.get('/docs/swagger-initializer.js').expect(200);
    expect(init.text).toContain("url: '/openapi.json'");
    await t.api.get('/docs/swagger-ui-bundle.js').expect(200).expect('Content-Type', /javascript/);
  });
});
