// What the services know of Danal: an interface with typed results and typed
// failures. No HTTP, no Danal field names; see danal-http-client.ts for those.

/** Danal's payment method codes (the SDK's `paymentsMethod`). */
export const DANAL_METHODS = ['CARD', 'KAKAOPAY', 'NAVERPAY', 'TRANSFER', 'MOBILE', 'VACCOUNT', 'PAYCO'] as const;
export type DanalMethod = (typeof DANAL_METHODS)[number];

export interface ConfirmRequest {
  transactionId: string;
  orderId: string;
  amount: number;
  method: DanalMethod;
}

export interface IssuedVirtualAccount {
  bankCode: string;
  bankName: string;
  accountNumber: string;
  holder: string;
  dueAt: Date;
}

export interface Approval {
  transactionId: string;
  orderId: string;
  amount: number;
  method: string;
  approvedAt: Date;
  /** Present for VACCOUNT: the account the buyer must pay into. */
  virtualAccount?: IssuedVirtualAccount;
}

export interface CancelRequest {
  transactionId: string;
  method: DanalMethod;
  amount: number;
  cancelType: 'C' | 'P';
  reason: string;
}

export interface CancelResult {
  cancelTransactionId: string;
  canceledAt: Date;
}

export interface DanalGateway {
  confirm(request: ConfirmRequest): Promise<Approval>;
  cancel(request: CancelRequest): Promise<CancelResult>;
}

/** Base of every Danal failure. `definite` says whether Danal certainly did nothing. */
export abstract class DanalError extends Error {
  abstract readonly definite: boolean;
}

/** Danal answered and refused (a business decline): nothing happened at Danal. */
export class DanalDeclinedError extends DanalError {
  readonly definite = true;
  constructor(readonly code: string, readonly danalMessage: string) {
    super(`Danal declined: ${code} ${danalMessage}`);
  }
}

/** Danal rejected the request itself (authentication, shape): nothing happened, and it is our bug or config. */
export class DanalInvalidRequestError extends DanalError {
  readonly definite = true;
  constructor(readonly httpStatus: number, readonly code: string, readonly danalMessage: string) {
    super(`Danal rejected the request (HTTP ${httpStatus}): ${code} ${danalMessage}`);
  }
}

/** The request never reached Danal (connection refused, no route): nothing happened. */
export class DanalUnavailableError extends DanalError {
  readonly definite = true;
  constructor(readonly reason: string) {
    super(`Danal unreachable: ${reason}`);
  }
}

/**
 * Timed out, cut off, a server error, or an answer we cannot read: Danal may
 * or may not have done it. Never treat this as a failure or as a success.
 */
export class DanalUnknownOutcomeError extends DanalError {
  readonly definite = false;
  constructor(readonly reason: string) {
    super(`Danal outcome unknown: ${reason}`);
  }
}
