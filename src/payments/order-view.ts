// How an order is shown to its owner: the payment object of the design seed
// (../shared/seeds/payment-object-design.txt) where it applies, with the
// fields this API has always returned. Account numbers appear here only for
// the owner, who must pay into the virtual account; logs never carry them.
import type { Order } from './order-repository.js';
import type { OrderCancel } from './cancel-repository.js';

export function virtualAccountView(order: Order) {
  if (!order.vaccountNumber) return null;
  return {
    bankCode: order.vaccountBankCode,
    bankName: order.vaccountBankName,
    accountNumber: order.vaccountNumber,
    holder: order.vaccountHolder,
    dueAt: order.vaccountDueAt,
  };
}

/** Statuses in which the order was paid and part of it may remain to refund. */
const PAID = ['Paid', 'PartialCanceled', 'Canceling', 'CancelUnknown'];

/** What can still be refunded: the amount not yet canceled of a paid order, nothing if never paid. */
export function balanceAmount(order: Order): number {
  return PAID.includes(order.status) ? order.amount - order.canceledAmount : 0;
}

/** The completed cancels, each with what remained refundable after it. */
function cancelsView(order: Order, cancels: OrderCancel[]) {
  let refunded = 0;
  return cancels.map((cancel) => {
    refunded += cancel.amount;
    return {
      cancelAmount: cancel.amount,
      cancelPoints: cancel.pointAmount,
      cancelReason: cancel.reason,
      // Points are bought with taxable money: no tax-free part to refund.
      taxFreeAmount: 0,
      refundableAmount: order.amount - refunded,
      canceledAt: cancel.completedAt,
      transactionKey: cancel.danalCancelTransactionId,
    };
  });
}

/** `cancels`: the order's completed cancels, oldest first (cancel-repository's completedCancels). */
export function orderView(order: Order, cancels: OrderCancel[] = []) {
  return {
    orderID: order.id,
    orderName: order.orderName,
    status: order.status,
    amount: order.amount,
    totalAmount: order.amount,
    balanceAmount: balanceAmount(order),
    currency: 'KRW' as const,
    pointAmount: order.pointAmount,
    paymentMethod: order.paymentMethod,
    method: order.paymentMethod,
    taxFreeAmount: order.taxFreeAmount,
    vat: order.vat,
    suppliedAmount: order.suppliedAmount,
    transactionID: order.danalTransactionId,
    lastTransactionKey: order.danalCancelTransactionId ?? order.danalTransactionId,
    requestedAt: order.requestedAt,
    expiresAt: order.expiresAt,
    approvedAt: order.approvedAt,
    canceledAt: order.canceledAt,
    canceledAmount: order.canceledAmount,
    canceledPoints: order.canceledPoints,
    cancels: cancelsView(order, cancels),
    isPartialCancelable: order.paymentMethod !== 'VirtualAccount',
    failure: order.failureCode ? { code: order.failureCode, message: order.failureMessage } : null,
    virtualAccount: virtualAccountView(order),
  };
}
