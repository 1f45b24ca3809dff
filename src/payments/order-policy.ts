// What the server decides about an order: the amount rules, the points, the
// receipt split. Pure functions; the client never decides any of this.
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { DanalMethod } from '../danal/danal-gateway.js';
import type { PaymentMethod } from '../generated/prisma/enums.js';

export type OrderPolicy = Config['orders'];

/** Why an amount is refused, or undefined when it is acceptable. */
export function amountProblem(amount: number, policy: OrderPolicy): string | undefined {
  if (!Number.isSafeInteger(amount)) return 'must be a whole number of KRW';
  if (amount < policy.minAmount) return `must be at least ${policy.minAmount} KRW`;
  if (amount > policy.maxAmount) return `must be at most ${policy.maxAmount} KRW`;
  if (amount % policy.amountUnit !== 0) return `must be a multiple of ${policy.amountUnit} KRW`;
  return undefined;
}

/** Points bought for an amount: POINT_RATE_PERCENT per 100 KRW, rounded down. */
export function pointsFor(amount: number, policy: OrderPolicy): number {
  return Math.floor((amount * policy.pointRatePercent) / 100);
}

/** VAT is round((amount - taxFree) / 11), as in the payment object design seed. */
export function receiptSplit(amount: number, taxFreeAmount = 0) {
  const vat = Math.round((amount - taxFreeAmount) / 11);
  return { taxFreeAmount, vat, suppliedAmount: amount - taxFreeAmount - vat };
}

/** 128 random bits: an orderID nobody can guess or enumerate. */
export function newOrderId(): string {
  return `ORD${randomBytes(16).toString('hex').toUpperCase()}`;
}

export const DANAL_METHOD_OF: Record<PaymentMethod, DanalMethod> = {
  Card: 'CARD',
  KakaoPay: 'KAKAOPAY',
  NaverPay: 'NAVERPAY',
  Transfer: 'TRANSFER',
  Mobile: 'MOBILE',
  VirtualAccount: 'VACCOUNT',
  Payco: 'PAYCO',
};

/** The `method` values of POST /api/payment/confirm (the seed's names). */
export const CONFIRM_METHOD_OF: Record<PaymentMethod, string> = {
  Card: 'CARD',
  KakaoPay: 'KAKAOPAY',
  NaverPay: 'NAVERPAY',
  Transfer: 'TRANSFER',
  Mobile: 'MOBILE',
  VirtualAccount: 'VIRTUAL_ACCOUNT',
  Payco: 'PAYCO',
};
export const CONFIRM_METHODS = Object.values(CONFIRM_METHOD_OF) as [string, ...string[]];
