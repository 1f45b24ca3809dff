// npm run ops:stuck: the orders whose outcome at Danal is not settled. Those
// the reconciler gave up on need an operator (check Danal's merchant console,
// then settle or retry); the rest are still being tried. Exits 1 while any
// order waits for an operator, so monitoring can alert on it.
//   npm run ops:stuck -- --retry ORDER_ID   gives a given-up order a fresh set of attempts
//   npm run ops:stuck -- --retry ORDER_ID --approved-amount KRW
//       ...after reading in Danal's console what Danal approved for an unknown confirm:
//       the reconciler's net cancel returns exactly that amount
//   npm run ops:stuck -- --retry ORDER_ID --cancel-outcome refunded|not-refunded
//       ...after reading in Danal's console whether an unknown cancel was refunded
//       (a partial cancel is never sent twice by the reconciler: it waits for this)
import { parseArgs } from 'node:util';
import { connectToDatabase, hasOurTables } from './database-client.js';
import { rearm, unsettledOrders } from '../src/payments/reconcile-repository.js';

const { values: args } = parseArgs({ options: { retry: { type: 'string' }, 'approved-amount': { type: 'string' }, 'cancel-outcome': { type: 'string' } } });
const approvedAmount = args['approved-amount'];
const cancelOutcome = args['cancel-outcome'];
const badAmount = approvedAmount !== undefined && !/^[1-9]\d{0,11}$/.test(approvedAmount);
const badOutcome = cancelOutcome !== undefined && !['refunded', 'not-refunded'].includes(cancelOutcome);
const both = approvedAmount !== undefined && cancelOutcome !== undefined;
if (badAmount || badOutcome || both || ((approvedAmount !== undefined || cancelOutcome !== undefined) && args.retry === undefined)) {
  console.error('Usage: npm run ops:stuck -- --retry ORDER_ID [--approved-amount KRW | --cancel-outcome refunded|not-refunded]   (KRW a positive whole number)');
  process.exit(2);
}
const { client, stop } = await connectToDatabase();
try {
  if (!(await hasOurTables(client))) {
    process.exitCode = 2;
  } else if (args.retry !== undefined) {
    const orderId = args.retry;
    const retry = {
      ...(approvedAmount !== undefined && { approvedAmount: Number(approvedAmount) }),
      ...(cancelOutcome !== undefined && { cancelOutcome: cancelOutcome === 'refunded' ? ('refunded' as const) : ('not_refunded' as const) }),
    };
    const result = await rearm(client, orderId, retry, 'ops:stuck');
    if (result.rearmed) {
      console.log(`Order ${orderId} will be tried again at the next sweep.`);
    } else if (result.refusal === 'answer_does_not_fit') {
      const answer = result.status === 'ConfirmUnknown' ? '--approved-amount KRW' : '--cancel-outcome refunded|not-refunded';
      console.error(`Order ${orderId} is ${result.status}: answer it with ${answer} (or nothing). Nothing was changed.`);
    } else {
      console.log(`No order ${orderId} in an unknown state${result.status ? ` (it is ${result.status})` : ''}.`);
    }
    process.exitCode = result.rearmed ? 0 : result.refusal === 'answer_does_not_fit' ? 2 : 1;
  } else {
    const rows = await unsettledOrders(client);
    const waiting = rows.filter((r) => r.reconcile_gave_up_at);
    for (const r of rows) {
      const state = r.reconcile_gave_up_at
        ? `NEEDS OPERATOR since ${r.reconcile_gave_up_at.toISOString()}`
        : r.next_reconcile_at
          ? `retrying, next attempt ${r.next_reconcile_at.toISOString()}`
          : `in flight since ${r.updated_at.toISOString()}`;
      console.log(
        `${r.id}  ${r.status}  ${r.amount} KRW  user ${r.user_id}  danal ${r.danal_transaction_id ?? '-'}  attempts ${r.reconcile_attempts}  ${state}` +
          (r.last_reason ? `\n    last: ${r.last_reason}` : ''),
      );
    }
    console.log(`${rows.length} unsettled order(s), ${waiting.length} waiting for an operator`);
    process.exitCode = waiting.length ? 1 : 0;
  }
} finally {
  await stop();
}
