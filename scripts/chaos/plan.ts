// What each chaos flow will do, drawn up front from the seed: the same seed
// gives the same plans whatever the timing of the run.

/** mulberry32: a small, fast, seedable PRNG. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type ConfirmFault = 'latency' | 'timeout' | 'cutoff' | 'error' | 'server_error' | 'different_amount';
export type CancelFault = 'latency' | 'timeout' | 'cutoff' | 'error' | 'server_error';

export interface FlowPlan {
  user: number;
  virtualAccount: boolean;
  amount: number;
  /** Created and never paid: the order expires on its own. */
  abandon: boolean;
  /** A deposit notification for the order posted before it is even confirmed. */
  earlyNotification: boolean;
  confirmFault?: ConfirmFault;
  confirmCopies: number;
  useIdempotencyKey: boolean;
  deposit: boolean;
  /** Our clock closes the account before Danal's notification arrives (Danal took the money). */
  lateDeposit?: 'deadline_passed' | 'expired_by_sweep';
  depositReplays: number;
  handReplayedNotification: boolean;
  cancel: boolean;
  /** A card payment's cancel refunds a part (quarters of the amount) first... */
  partialShare?: 1 | 2 | 3;
  /** ...and then, maybe, the rest. */
  cancelRest: boolean;
  cancelFault?: CancelFault;
  cancelCopies: number;
  /**
   * A keyed partial cancel whose answer is lost: the client stops waiting after this many ms
   * (the request goes on at the server) and asks again with the same key until it hears an outcome.
   */
  lostCancelAnswerMs?: number;
}

export function planFlows(count: number, seed: number, users: number): FlowPlan[] {
  const random = seededRandom(seed);
  const chance = (p: number) => random() < p;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  return Array.from({ length: count }, () => {
    const virtualAccount = chance(0.25);
    return {
      user: Math.floor(random() * users),
      virtualAccount,
      amount: (1 + Math.floor(random() * 50)) * 1_000,
      abandon: chance(0.05),
      earlyNotification: virtualAccount && chance(0.15),
      confirmFault: chance(0.35) ? pick(['latency', 'timeout', 'cutoff', 'error', 'server_error', 'different_amount'] as const) : undefined,
      confirmCopies: chance(0.2) ? 2 + Math.floor(random() * 2) : 1,
      useIdempotencyKey: chance(0.5),
      deposit: chance(0.8),
      lateDeposit: virtualAccount && chance(0.3) ? pick(['deadline_passed', 'expired_by_sweep'] as const) : undefined,
      depositReplays: chance(0.3) ? 1 + Math.floor(random() * 2) : 0,
      handReplayedNotification: chance(0.1),
      cancel: chance(0.35),
      partialShare: chance(0.5) && !virtualAccount ? pick([1, 2, 3] as const) : undefined,
      cancelRest: chance(0.5),
      cancelFault: chance(0.25) ? pick(['latency', 'timeout', 'cutoff', 'error', 'server_error'] as const) : undefined,
      cancelCopies: chance(0.15) ? 2 : 1,
      lostCancelAnswerMs: chance(0.5) ? 20 + Math.floor(random() * 600) : undefined,
    };
  });
}
