import { describe, expect, it } from 'vitest';
import { OrderStatus } from '../../src/generated/prisma/enums.js';
import { TRANSITIONS, canTransition, statusCode } from '../../src/payments/order-status.js';

describe('order status transitions', () => {
  it('lets a Pending order be claimed for confirm or expire, nothing else', () => {
    expect(TRANSITIONS.Pending).toEqual(['Confirming', 'Expired']);
    expect(canTransition('Pending', 'Paid')).toBe(false);
  });

  it('only reaches Paid from a claimed confirm, a deposit (also one Danal took after our clock closed the account), a resolved unknown, or a refused cancel', () => {
    const into = Object.values(OrderStatus).filter((from) => canTransition(from, 'Paid')).sort();
    expect(into).toEqual(['CancelUnknown', 'Canceling', 'ConfirmUnknown', 'Confirming', 'Expired', 'WaitingForDeposit']);
    expect(TRANSITIONS.Expired).toEqual(['Paid']);
  });

  it('cancels only through Canceling', () => {
    const into = Object.values(OrderStatus).filter((from) => canTransition(from, 'Canceled')).sort();
    expect(into).toEqual(['CancelUnknown', 'Canceling']);
    expect(TRANSITIONS.Paid).toEqual(['Canceling']);
  });

  it('never leaves a final state', () => {
    for (const final of ['Failed', 'Canceled'] as const) expect(TRANSITIONS[final]).toEqual([]);
  });

  it('names each status in a stable error code', () => {
    expect(statusCode('CancelUnknown')).toBe('ORDER_CANCEL_UNKNOWN');
    expect(statusCode('WaitingForDeposit')).toBe('ORDER_WAITING_FOR_DEPOSIT');
    expect(statusCode('Paid')).toBe('ORDER_PAID');
  });
});
