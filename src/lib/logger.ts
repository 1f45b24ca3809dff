import { pino, type Logger, type DestinationStream } from 'pino';

// Anything that could carry a secret or an account number, wherever it sits
// in a logged object. pino replaces these values with "[REDACTED]".
const REDACT_PATHS = [
  'authorization',
  'password',
  'accessToken',
  'token',
  'secretKey',
  'accountNumber',
  'vaccountNumber',
  '*.authorization',
  '*.Authorization',
  '*.password',
  '*.accessToken',
  '*.token',
  '*.secretKey',
  '*.accountNumber',
  '*.vaccountNumber',
  'headers.authorization',
  'req.headers.authorization',
  'virtualAccount.accountNumber',
  // An HTTP client error carries the request it sent, Basic credentials included.
  'err.config.headers.Authorization',
  'err.config.headers.authorization',
  'err.config.auth',
  '*.virtualAccount.accountNumber',
];

export function createLogger(level: string, destination?: DestinationStream, service = 'dpot-pay'): Logger {
  return pino(
    {
      level,
      base: { service },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
