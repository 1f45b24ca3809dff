// How an order is shown to its owner: the payment object of the design seed
// (../shared/seeds/payment-object-design.txt) where it applies, with the
// fields this API has always returned. Account numbers appear here only for
// the owner, who must pay into the virtual account; logs never carry them.
import type { Order } from './order-repository.js';

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

/** What can still be refunded: the whole amount of a paid order, nothing once canceled or never paid. */
export function balanceAmount(order: Order): number {
  return ['Paid', 'Canceling', 'CancelUnknown'].includes(order.status) ? order.amount : 0;
}

function cancelsOf(order: Order) {
  if (order.status !== 'Canceled') return [];
  return [
    {
      cancelAmount: order.amount,
      cancelReason: order.cancelReason,
      taxFreeAmount: order.taxFreeAmount,
      refundableAmount: 0,
      canceledAt: order.canceledAt,
      transactionKey: order.danalCancelTransactionId,
    },
  ];
}

export function orderView(order: Order) {
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
    cancels: cancelsOf(order),
    isPartialCancelable: false,
    failure: order.failureCode ? { code: order.failureCode, message: order.failureMessage } : null,
    virtualAccount: virtualAccountView(order),
  };
}
