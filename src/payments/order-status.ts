// The order state machine. Every status change in the repository is a
// conditional UPDATE ... WHERE status = <from>, so only transitions listed
// here happen, and only once when requests race.
import type { OrderStatus } from '../generated/prisma/enums.js';

export const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  Pending: ['Confirming', 'Expired'],
  // Unavailable Danal: the claim is released back to Pending.
  Confirming: ['Paid', 'WaitingForDeposit', 'Failed', 'ConfirmUnknown', 'Pending'],
  ConfirmUnknown: ['Failed', 'Paid'],
  WaitingForDeposit: ['Paid', 'Expired'],
  // A refunded cancel ends in Canceled, or PartialCanceled while some amount
  // remains; a refused one returns the order to where it was (Paid or PartialCanceled).
  Paid: ['Canceling'],
  PartialCanceled: ['Canceling'],
  Canceling: ['Canceled', 'PartialCanceled', 'CancelUnknown', 'Paid'],
  CancelUnknown: ['Canceled', 'PartialCanceled', 'Paid'],
  Failed: [],
  // A deposit Danal took after our clock closed the account (its deadline is the one we sent).
  Expired: ['Paid'],
  Canceled: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** A stable error code that names a status, e.g. CancelUnknown -> ORDER_CANCEL_UNKNOWN. */
export function statusCode(status: OrderStatus): string {
  return `ORDER_${status.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`;
}
