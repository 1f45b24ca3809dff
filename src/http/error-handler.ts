// The one place where errors become HTTP responses.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { isDatabaseUnavailable } from '../db/database-errors.js';
import { MAX_JSON_DEPTH } from './json-body.js';

/** Errors raised by Express's body parser, by their `type`. */
const BODY_PARSER_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'MALFORMED_JSON', 'The request body is not valid JSON'],
  'entity.too.large': [413, 'PAYLOAD_TOO_LARGE', 'The request body is too large'],
  'entity.too.deep': [400, 'JSON_TOO_DEEP', `The request body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`],
  'encoding.unsupported': [415, 'UNSUPPORTED_ENCODING', 'The request body encoding is not supported'],
  'charset.unsupported': [415, 'UNSUPPORTED_CHARSET', 'The request body charset is not supported; use UTF-8'],
  'request.aborted': [400, 'REQUEST_ABORTED', 'The request body was not received completely'],
  'request.size.invalid': [400, 'REQUEST_SIZE_INVALID', 'The request body length does not match Content-Length'],
  'parameters.too.many': [413, 'PAYLOAD_TOO_LARGE', 'The request body has too many parameters'],
};

export function errorBody(code: string, message: string, details?: unknown) {
  return { success: false, error: details ? { code, message, details } : { code, message } };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json(errorBody('ROUTE_NOT_FOUND', `No route for ${req.method} ${req.path}`));
};

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    if (res.headersSent) return;
    if (error instanceof AppError) {
      res.status(error.status).json(errorBody(error.code, error.message, error.details));
      return;
    }
    const parserError = BODY_PARSER_ERRORS[(error as { type?: string })?.type ?? ''];
    if (parserError) {
      const [status, code, message] = parserError;
      res.status(status).json(errorBody(code, message));
      return;
    }
    // Other client errors raised by Express and its parsers carry a 4xx status:
    // a URL that is not valid percent-encoding, a body that does not decompress.
    const status = Number((error as { status?: unknown })?.status);
    if (status >= 400 && status < 500) {
      const message = error instanceof URIError ? 'The URL is not correctly percent-encoded' : 'The request could not be read';
      res.status(status).json(errorBody('BAD_REQUEST', message));
      return;
    }
    if (isDatabaseUnavailable(error)) {
      log.error({ event: 'database.unavailable', reqId: req.id, method: req.method, path: req.path, reason: (error as Error)?.message }, 'database unavailable');
      res.setHeader('Retry-After', '5');
      res.status(503).json(errorBody('DATABASE_UNAVAILABLE', 'The database cannot be reached right now; try again shortly'));
      return;
    }
    // Anything else is our bug: log it whole, tell the client nothing of it.
    log.error({ err: error, reqId: req.id, method: req.method, path: req.path }, 'unhandled error');
    res.status(500).json(errorBody('INTERNAL_ERROR', `Something went wrong on our side; quote request id ${req.id}`));
  };
}
