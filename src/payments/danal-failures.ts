// How Danal's typed failures become errors for the client and failure
// records on the order; shared by confirm and cancel.
import { AppError } from '../lib/errors.js';
import { DanalDeclinedError, DanalInvalidRequestError, type DanalError } from '../danal/danal-gateway.js';

export const outcomeUnknown = () =>
  new AppError(504, 'DANAL_OUTCOME_UNKNOWN', 'Danal did not give a definite answer; the order is marked for verification. Do not pay again.');
/** `unchanged` says what the client can rely on, e.g. "nothing was charged". */
export const danalUnavailable = (unchanged: string) =>
  new AppError(503, 'DANAL_UNAVAILABLE', `Danal cannot be reached right now; ${unchanged}. Try again shortly.`);

export function danalFailure(error: DanalError): { code: string; message: string } {
  if (error instanceof DanalDeclinedError) return { code: error.code, message: error.danalMessage };
  if (error instanceof DanalInvalidRequestError) return { code: error.code, message: error.danalMessage || `HTTP ${error.httpStatus}` };
  return { code: 'DANAL_ERROR', message: error.message };
}
