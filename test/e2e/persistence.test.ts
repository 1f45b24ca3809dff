// The database is the system of record: the schema matches its migrations,
// and a restarted server (and its sandbox) remembers everything.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { pendingSchemaChanges } from '../../src/db/schema-engine.js';
import { bearer, expectLedgerConsistent, newUser, paidOrder, startTestServer, walletOf } from '../helpers.js';

describe('persistence', () => {
  it('has a migration for everything in schema.prisma', async () => {
    // Fails when schema.prisma was changed without `npm run db:migration -- NAME`.
    expect(await pendingSchemaChanges(inject('databaseUrl'))).toBeUndefined();
  });

  it('cancels an order paid before a restart, through the restarted sandbox', async () => {
    const before = await startTestServer();
    const user = await newUser(before);
    const order = await paidOrder(before, user);
    await before.close();

    const after = await startTestServer();
    try {
      const res = await after.api.post('/api/payment/cancel').set(bearer(user)).send({ orderID: order.orderID }).expect(200);
      expect(res.body.data).toMatchObject({ status: 'Canceled', balance: 0 });
      expect((await walletOf(after, user)).entries.map((e) => e.type)).toEqual(['CANCEL', 'CHARGE']);
      await expectLedgerConsistent(after.db);
    } finally {
      await after.close();
    }
  });
});
