/**
 * Turns every error into Label Studio's JSON error shape:
 * `{"status_code": 400, "detail": "…", "validation_errors": {"field": ["…"]}}`.
 * Unknown errors become a generic 500 logged with the request id; driver messages and stack
 * traces never reach the client.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ValidationErrors } from './errors.js';

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Maps schema-validation issues to `{field: [messages]}` (dotted paths; `non_field_errors` for the root). */
export function validationErrorsFrom(issues: AjvIssue[], context?: string): ValidationErrors {
  const out: ValidationErrors = {};
  for (const i of issues) {
    let field = (i.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    let message = i.message ?? 'is invalid';
    if (i.keyword === 'required' && typeof i.params?.missingProperty === 'string') {
      field = field ? `${field}.${i.params.missingProperty}` : i.params.missingProperty;
      message = 'This field is required.';
    } else if (i.keyword === 'additionalProperties' && typeof i.params?.additionalProperty === 'string') {
      field = field ? `${field}.${i.params.additionalProperty}` : i.params.additionalProperty;
      message = 'Unknown or read-only field.';
    }
    if (!field) field = context === 'querystring' || context === 'params' ? context : 'non_field_errors';
    (out[field] ??= []).push(message);
  }
  return out;
}

function send(reply: FastifyReply, status: number, detail: string, extra: Record<string, unknown> = {}) {
  return reply.code(status).type('application/json; charset=utf-8').send({ status_code: status, detail, ...extra });
}

/**
 * The field a unique-constraint violation is about, when the error is one (PostgreSQL 23505 with
 * its constraint name, SQLite's "UNIQUE constraint failed: table.column"); otherwise undefined.
 * Two requests racing past an "already exists" check end here instead of in a 500.
 */
export function uniqueViolationField(error: unknown): string | undefined {
  const e = error as { code?: unknown; constraint?: unknown; message?: unknown };
  if (e.code === '23505' && typeof e.constraint === 'string') return e.constraint.replace(/^[a-z]+_/, '').replace(/_(key|unique)$/, '');
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof e.message === 'string') return /\.(\w+)(,|$)/.exec(e.message)?.[1];
  return undefined;
}

/** Fastify error handler; registered once in buildApp. */
export function handleError(error: FastifyError | AppError | Error, req: FastifyRequest, reply: FastifyReply) {
  // Refused before its body was read (a streamed upload): close the connection rather than leave
  // the client's unread bytes to corrupt the next request on it.
  if (!req.raw.complete) void reply.header('connection', 'close');
  if (error instanceof AppError) {
    if (error.headers) void reply.headers(error.headers);
    const extra: Record<string, unknown> = { code: error.code };
    if (error.validationErrors) extra.validation_errors = error.validationErrors;
    return send(reply, error.status, error.message, extra);
  }
  const fe = error as FastifyError & { validationContext?: string };
  if (fe.validation) {
    return send(reply, 400, 'Validation error', {
      code: 'VALIDATION_ERROR',
      validation_errors: validationErrorsFrom(fe.validation as AjvIssue[], fe.validationContext),
    });
  }
  const duplicate = uniqueViolationField(error);
  if (duplicate) {
    return send(reply, 400, 'Validation error', { code: 'DUPLICATE', validation_errors: { [duplicate]: ['A record with this value already exists.'] } });
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (bad JSON, body too large, unsupported media type): safe to show.
    const detail = fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError ? 'Request body is not valid JSON.' : fe.message;
    return send(reply, status, detail, { code: fe.code ?? 'BAD_REQUEST' });
  }
  req.log.error({ err: error }, 'unhandled error');
  return send(reply, 500, 'Internal server error. The request id in X-Request-Id identifies it in the logs.', { code: 'INTERNAL' });
}
