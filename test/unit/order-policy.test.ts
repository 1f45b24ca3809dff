import { describe, expect, it } from 'vitest';
import { amountProblem, newOrderId, pointsFor, receiptSplit, type OrderPolicy } from '../../src/payments/order-policy.js';

const policy: OrderPolicy = { minAmount: 1_000, maxAmount: 1_000_000, amountUnit: 100, pointRatePercent: 100, ttlMinutes: 30, vaccountDepositMinutes: 1440, orderName: 'x' };

describe('amount policy', () => {
  it('accepts whole multiples of the unit within the bounds', () => {
    expect(amountProblem(1_000, policy)).toBeUndefined();
    expect(amountProblem(1_000_000, policy)).toBeUndefined();
    expect(amountProblem(12_300, policy)).toBeUndefined();
  });

  it('explains each refusal', () => {
    expect(amountProblem(900, policy)).toBe('must be at least 1000 KRW');
    expect(amountProblem(1_000_100, policy)).toBe('must be at most 1000000 KRW');
    expect(amountProblem(1_050, policy)).toBe('must be a multiple of 100 KRW');
    expect(amountProblem(1_000.5, policy)).toBe('must be a whole number of KRW');
    expect(amountProblem(Number.NaN, policy)).toBe('must be a whole number of KRW');
  });

  it('follows configured bounds', () => {
    expect(amountProblem(500, { ...policy, minAmount: 500, amountUnit: 500 })).toBeUndefined();
  });
});

describe('points', () => {
  it('gives 1 point per KRW by default and rounds a bonus rate down', () => {
    expect(pointsFor(10_000, policy)).toBe(10_000);
    expect(pointsFor(10_000, { ...policy, pointRatePercent: 110 })).toBe(11_000);
    expect(pointsFor(1_100, { ...policy, pointRatePercent: 33 })).toBe(363);
  });
});

describe('receipt split', () => {
  it('takes VAT as round((amount - taxFree) / 11), and the rest is the supplied amount', () => {
    expect(receiptSplit(10_000)).toEqual({ taxFreeAmount: 0, vat: 909, suppliedAmount: 9_091 });
    expect(receiptSplit(1_000)).toEqual({ taxFreeAmount: 0, vat: 91, suppliedAmount: 909 });
    expect(receiptSplit(10_000, 1_000)).toEqual({ taxFreeAmount: 1_000, vat: 818, suppliedAmount: 8_182 });
  });
});

describe('order IDs', () => {
  it('are 6-64 safe characters and do not repeat', () => {
    const ids = new Set(Array.from({ length: 1000 }, newOrderId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{6,64}$/);
  });
});
