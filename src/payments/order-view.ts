// How an order is shown to its owner. Account numbers appear here only for
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

export function orderView(order: Order) {
  return {
    orderID: order.id,
    orderName: order.orderName,
    status: order.status,
    amount: order.amount,
    pointAmount: order.pointAmount,
    paymentMethod: order.paymentMethod,
    taxFreeAmount: order.taxFreeAmount,
    vat: order.vat,
    suppliedAmount: order.suppliedAmount,
    transactionID: order.danalTransactionId,
    requestedAt: order.requestedAt,
    expiresAt: order.expiresAt,
    approvedAt: order.approvedAt,
    canceledAt: order.canceledAt,
    failure: order.failureCode ? { code: order.failureCode, message: order.failureMessage } : null,
    virtualAccount: virtualAccountView(order),
  };
}
