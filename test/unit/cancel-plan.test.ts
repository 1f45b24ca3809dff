import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planCancel } from '../../src/payments/cancel-service.js';
import type { Order } from '../../src/payments/order-repository.js';
import { pointsFor } from '../../src/payments/order-policy.js';

const UNIT = 100; // ORDER_AMOUNT_UNIT: the smallest partial cancel

/** The formula, the test's own oracle: points taken back once `canceled` KRW are refunded. */
const takenBack = (o: Order, canceled: number) => Number((BigInt(o.pointAmount) * BigInt(canceled)) / BigInt(o.amount));

// An order of 10,000 KRW bought at 3 points per 100 KRW: 300 points, so parts round.
const order = (changes: Partial<Order> = {}) =>
  ({ id: 'ORD123456', status: 'Paid', amount: 10_000, pointAmount: 300, canceledAmount: 0, canceledPoints: 0, paymentMethod: 'Card', ...changes }) as Order;

/** The order after `plan` was refunded, as completeCancel leaves it. */
const afterRefund = (o: Order, plan: { amount: number; pointAmount: number }) =>
  ({
    ...o,
    status: o.canceledAmount + plan.amount === o.amount ? 'Canceled' : 'PartialCanceled',
    canceledAmount: o.canceledAmount + plan.amount,
    canceledPoints: o.canceledPoints + plan.pointAmount,
  }) as Order;

describe('planning a cancel', () => {
  it('without an amount cancels everything that remains, with Danal cancelType C', () => {
    expect(planCancel(order(), { orderID: 'ORD123456' }, UNIT)).toMatchObject({ amount: 10_000, pointAmount: 300, cancelType: 'C', reason: 'customer request' });
    expect(planCancel(order({ status: 'PartialCanceled', canceledAmount: 150, canceledPoints: 4 }), { orderID: 'x' }, UNIT)).toMatchObject({ amount: 9_850, pointAmount: 296, cancelType: 'C' });
  });

  it('takes back the running total of points, rounded down, minus what was taken before; the last cancel takes the rest', () => {
    const part = planCancel(order(), { orderID: 'x', amount: 150, reason: 'one item' }, UNIT);
    expect(part).toMatchObject({ amount: 150, pointAmount: 4, cancelType: 'P', reason: 'one item' }); // 4.5 points
    // Another 150 KRW: 9 points for the 300 KRW so far, 4 taken before: 5 (each part alone would take 4).
    expect(planCancel(afterRefund(order(), part), { orderID: 'x', amount: 150 }, UNIT)).toMatchObject({ pointAmount: 5, cancelType: 'P' });
    const rest = planCancel(afterRefund(order(), part), { orderID: 'x', amount: 9_850 }, UNIT);
    expect(rest).toMatchObject({ pointAmount: 296, cancelType: 'C' });
    expect(part.pointAmount + rest.pointAmount).toBe(300);
  });

  it("takes back what the issue's reproductions lost: 30 parts at rate 150, 40 parts at rate 10", () => {
    const run = (o: Order, amount: number, times: number) => {
      for (let i = 0; i < times; i++) o = afterRefund(o, planCancel(o, { orderID: 'x', amount }, UNIT));
      return o;
    };
    // Rate 150: 15,000 points for 10,000 KRW; 30 parts of 101 KRW are 3,030 KRW, worth 4,545 points.
    expect(run(order({ pointAmount: 15_000 }), 101, 30).canceledPoints).toBe(4_545);
    // Rate 10: 1,000 points; 40 parts of 119 KRW are 4,760 KRW, worth 476 points.
    expect(run(order({ pointAmount: 1_000 }), 119, 40).canceledPoints).toBe(476);
  });

  it('refuses more than what remains, a part smaller than ORDER_AMOUNT_UNIT, and parts of virtual-account payments', () => {
    expect(() => planCancel(order({ status: 'PartialCanceled', canceledAmount: 4_000, canceledPoints: 120 }), { orderID: 'x', amount: 6_001 }, UNIT)).toThrow(
      expect.objectContaining({ status: 409, code: 'CANCEL_AMOUNT_EXCEEDS_BALANCE' }),
    );
    expect(() => planCancel(order(), { orderID: 'x', amount: 99 }, UNIT)).toThrow(
      expect.objectContaining({ status: 422, code: 'CANCEL_AMOUNT_TOO_SMALL', message: expect.stringContaining('at least 100 KRW') }),
    );
    expect(() => planCancel(order({ paymentMethod: 'VirtualAccount' }), { orderID: 'x', amount: 5_000 }, UNIT)).toThrow(expect.objectContaining({ status: 409, code: 'PARTIAL_CANCEL_NOT_SUPPORTED' }));
    expect(planCancel(order({ paymentMethod: 'VirtualAccount' }), { orderID: 'x', amount: 10_000 }, UNIT)).toMatchObject({ cancelType: 'C' });
  });

  it('lets the rest be canceled however small it is', () => {
    const almost = order({ status: 'PartialCanceled', canceledAmount: 9_950, canceledPoints: 298 });
    expect(planCancel(almost, { orderID: 'x', amount: 50 }, UNIT)).toMatchObject({ amount: 50, pointAmount: 2, cancelType: 'C' });
  });

  it('refuses a part worth less than one point, naming the smallest that is worth one', () => {
    // 1 point per 100 KRW with ORDER_AMOUNT_UNIT 1: 99 KRW is worth nothing, 100 KRW one point.
    const cheap = order({ pointAmount: 100 });
    expect(() => planCancel(cheap, { orderID: 'x', amount: 99 }, 1)).toThrow(expect.objectContaining({ status: 422, code: 'CANCEL_AMOUNT_TOO_SMALL', message: expect.stringContaining('at least 100 KRW') }));
    expect(planCancel(cheap, { orderID: 'x', amount: 100 }, 1)).toMatchObject({ pointAmount: 1 });
  });

  it('refuses orders that are not paid, or have a cancel in flight, naming their status', () => {
    expect(() => planCancel(order({ status: 'Canceled', canceledAmount: 10_000, canceledPoints: 300 }), { orderID: 'x' }, UNIT)).toThrow(expect.objectContaining({ code: 'ORDER_CANCELED' }));
    expect(() => planCancel(order({ status: 'Canceling' }), { orderID: 'x' }, UNIT)).toThrow(expect.objectContaining({ code: 'ORDER_CANCELING', message: expect.stringContaining('in progress') }));
    expect(() => planCancel(order({ status: 'Pending' }), { orderID: 'x' }, UNIT)).toThrow(expect.objectContaining({ code: 'ORDER_PENDING' }));
  });
});

describe('the points of partial cancels, over random split sequences and rates', () => {
  // An order of any allowed size and rate, cut into parts of at least ORDER_AMOUNT_UNIT, then the rest.
  const splits = fc
    .record({
      units: fc.integer({ min: 10, max: 10_000 }), // the order: 1,000 to 1,000,000 KRW in units of 100
      rate: fc.integer({ min: 1, max: 1_000 }), // POINT_RATE_PERCENT
      parts: fc.array(fc.integer({ min: UNIT, max: 50_000 }), { minLength: 1, maxLength: 60 }),
    })
    .map(({ units, rate, parts }) => ({ amount: units * UNIT, rate, parts }));

  it('add up to the order, never take more than remains, and never leave a whole point the uncanceled money did not buy', () => {
    fc.assert(
      fc.property(splits, ({ amount, rate, parts }) => {
        const pointAmount = pointsFor(amount, { pointRatePercent: rate } as Parameters<typeof pointsFor>[1]);
        let o = order({ amount, pointAmount });
        const taken: number[] = [];
        for (const part of parts) {
          const remaining = o.amount - o.canceledAmount;
          if (part >= remaining) break;
          const plan = planCancel(o, { orderID: 'x', amount: part }, UNIT);
          expect(plan.pointAmount).toBeGreaterThanOrEqual(0);
          expect(plan.pointAmount).toBeLessThanOrEqual(o.pointAmount - o.canceledPoints);
          o = afterRefund(o, plan);
          taken.push(plan.pointAmount);
          // The running total is exact: the points of the money canceled so far, rounded down...
          expect(o.canceledPoints).toBe(takenBack(o, o.canceledAmount));
          // ...so the user keeps what the uncanceled money buys and less than one point more.
          const kept = o.pointAmount - o.canceledPoints;
          const uncanceled = o.amount - o.canceledAmount;
          expect(kept * o.amount).toBeGreaterThanOrEqual(o.pointAmount * uncanceled);
          expect(kept * o.amount).toBeLessThan(o.pointAmount * uncanceled + o.amount);
        }
        const last = planCancel(o, { orderID: 'x' }, UNIT);
        taken.push(last.pointAmount);
        expect(taken.reduce((a, b) => a + b, 0)).toBe(pointAmount);
        expect(afterRefund(o, last)).toMatchObject({ canceledAmount: amount, canceledPoints: pointAmount });
      }),
      { numRuns: 2_000 },
    );
  });
});
