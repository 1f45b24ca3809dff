import { describe, expect, it } from 'vitest';
import { planCancel } from '../../src/payments/cancel-service.js';
import type { Order } from '../../src/payments/order-repository.js';

// An order of 10,000 KRW bought at 3 points per 100 KRW: 300 points, so parts round.
const order = (changes: Partial<Order> = {}) =>
  ({ id: 'ORD123456', status: 'Paid', amount: 10_000, pointAmount: 300, canceledAmount: 0, canceledPoints: 0, paymentMethod: 'Card', ...changes }) as Order;

describe('planning a cancel', () => {
  it('without an amount cancels everything that remains, with Danal cancelType C', () => {
    expect(planCancel(order(), { orderID: 'ORD123456' })).toMatchObject({ amount: 10_000, pointAmount: 300, cancelType: 'C', reason: 'customer request' });
    expect(planCancel(order({ status: 'PartialCanceled', canceledAmount: 150, canceledPoints: 4 }), { orderID: 'x' })).toMatchObject({ amount: 9_850, pointAmount: 296, cancelType: 'C' });
  });

  it('takes back the points of a part in proportion to the order, rounded down, and the last cancel takes the rest', () => {
    const part = planCancel(order(), { orderID: 'x', amount: 150, reason: 'one item' });
    expect(part).toMatchObject({ amount: 150, pointAmount: 4, cancelType: 'P', reason: 'one item' }); // 4.5 points
    const rest = planCancel(order({ status: 'PartialCanceled', canceledAmount: 150, canceledPoints: 4 }), { orderID: 'x', amount: 9_850 });
    expect(rest).toMatchObject({ pointAmount: 296, cancelType: 'C' });
    expect(part.pointAmount + rest.pointAmount).toBe(300);
  });

  it('refuses more than what remains, a part worth no point, and parts of virtual-account payments', () => {
    expect(() => planCancel(order({ status: 'PartialCanceled', canceledAmount: 4_000, canceledPoints: 120 }), { orderID: 'x', amount: 6_001 })).toThrow(
      expect.objectContaining({ status: 409, code: 'CANCEL_AMOUNT_EXCEEDS_BALANCE' }),
    );
    expect(() => planCancel(order(), { orderID: 'x', amount: 20 })).toThrow(expect.objectContaining({ status: 422, code: 'CANCEL_AMOUNT_TOO_SMALL', message: expect.stringContaining('at least 34 KRW') }));
    expect(() => planCancel(order({ paymentMethod: 'VirtualAccount' }), { orderID: 'x', amount: 5_000 })).toThrow(expect.objectContaining({ status: 409, code: 'PARTIAL_CANCEL_NOT_SUPPORTED' }));
    expect(planCancel(order({ paymentMethod: 'VirtualAccount' }), { orderID: 'x', amount: 10_000 })).toMatchObject({ cancelType: 'C' });
  });

  it('refuses orders that are not paid, or have a cancel in flight, naming their status', () => {
    expect(() => planCancel(order({ status: 'Canceled', canceledAmount: 10_000, canceledPoints: 300 }), { orderID: 'x' })).toThrow(expect.objectContaining({ code: 'ORDER_CANCELED' }));
    expect(() => planCancel(order({ status: 'Canceling' }), { orderID: 'x' })).toThrow(expect.objectContaining({ code: 'ORDER_CANCELING', message: expect.stringContaining('in progress') }));
    expect(() => planCancel(order({ status: 'Pending' }), { orderID: 'x' })).toThrow(expect.objectContaining({ code: 'ORDER_PENDING' }));
  });
});
