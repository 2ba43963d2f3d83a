/**
 * Structured JSON logs (pino) with the request id. Credentials never reach them: auth headers
 * and cookies are redacted, and secret-bearing query parameters are masked in logged URLs.
 */
import type { FastifyRequest } from 'fastify';

const SECRET_QUERY = /([?&](?:token|key|api_key|access_token|refresh|password|secret|signature|sig)=)[^&#]*/gi;

/** A URL with secret-looking query values replaced by "***". */
export const maskUrl = (url: string) => url.replace(SECRET_QUERY, '$1***');

/** Pino options for the server: level, redaction of credentials, URL masking. */
export function loggerOptions(level: string) {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'req.headers["x-csrftoken"]', 'res.headers["set-cookie"]'],
      censor: '***',
    },
    serializers: {
      req(req: FastifyRequest) {
        return { method: req.method, url: maskUrl(req.url), remoteAddress: req.ip };
      },
    },
  };
}
