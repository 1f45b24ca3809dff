// npm run ops:stuck: the orders whose outcome at Danal is not settled, and the
// deposits Danal reported that could not be credited. Orders the reconciler
// gave up on need an operator (check Danal's merchant console, then settle or
// retry); the rest are still being tried. Every held deposit needs an
// operator. Exits 1 while anything waits for an operator, so monitoring can
// alert on it.
//   npm run ops:stuck -- --retry ORDER_ID   gives a given-up order a fresh set of attempts
//   npm run ops:stuck -- --retry ORDER_ID --approved-amount KRW
//       ...after reading in Danal's console what Danal approved for an unknown confirm:
//       the reconciler's net cancel returns exactly that amount
//   npm run ops:stuck -- --retry ORDER_ID --cancel-outcome refunded|not-refunded
//       ...after reading in Danal's console whether an unknown cancel was refunded
//       (a partial cancel is never sent twice by the reconciler: it waits for this)
//   npm run ops:stuck -- --settle-deposit ID --credit [--note TEXT]
//       a held deposit of the order's own amount, for an order that can still take it: credit it
//   npm run ops:stuck -- --settle-deposit ID --returned --note TEXT
//       ...or record that the money went back to the buyer (Danal's console, a bank transfer)
import { parseArgs } from 'node:util';
import { connectToDatabase, hasOurTables } from './database-client.js';
import { rearm, unsettledOrders } from '../src/payments/reconcile-repository.js';
import { heldDeposits, settleHeldDeposit } from '../src/payments/unsettled-deposits.js';

const { values: args } = parseArgs({
  options: {
    retry: { type: 'string' },
    'approved-amount': { type: 'string' },
    'cancel-outcome': { type: 'string' },
    'settle-deposit': { type: 'string' },
    credit: { type: 'boolean' },
    returned: { type: 'boolean' },
    note: { type: 'string' },
  },
});
const settling = args['settle-deposit'];
const depositFlags = args.credit || args.returned || args.note !== undefined;
if (
  (settling !== undefined && (!/^[1-9]\d{0,17}$/.test(settling) || args.credit === args.returned || args.retry !== undefined)) ||
  (settling === undefined && depositFlags)
) {
  console.error('Usage: npm run ops:stuck -- --settle-deposit ID (--credit | --returned) [--note TEXT]   (ID a held deposit, as listed)');
  process.exit(2);
}
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
  } else if (settling !== undefined) {
    const result = await settleHeldDeposit(client, settling, args.credit ? 'credit' : 'returned', 'ops:stuck', args.note ?? null);
    if (result.settled) console.log(`Deposit ${settling} of order ${result.deposit.orderId} is ${result.deposit.status}.`);
    else console.error(`${result.why}. Nothing was changed.`);
    process.exitCode = result.settled ? 0 : result.refusal === 'cannot_credit' ? 2 : 1;
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
    const held = await heldDeposits(client);
    for (const d of held) {
      console.log(
        `deposit ${d.id}  ${d.amount} KRW  order ${d.orderId} (${d.orderStatus}, ${d.orderAmount} KRW)  user ${d.userId}  danal ${d.transactionId}  ` +
          `NEEDS OPERATOR since ${d.createdAt.toISOString()}\n    why: ${d.reason}`,
      );
    }
    console.log(`${rows.length} unsettled order(s), ${waiting.length} waiting for an operator; ${held.length} held deposit(s) waiting for an operator`);
    process.exitCode = waiting.length || held.length ? 1 : 0;
  }
} finally {
  await stop();
}
