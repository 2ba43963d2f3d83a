/**
 * Cross-origin access: none unless CORS_ALLOWED_ORIGINS lists the request's Origin exactly. A
 * listed origin gets its own origin echoed back (never `*`) with credentials; a preflight from a
 * listed origin is answered 204, from any other origin refused with 403 and no CORS headers, so
 * the browser blocks the call. Same-origin requests carry no Origin to match and are unaffected.
 */
import type { FastifyInstance } from 'fastify';

const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
/** Request headers a listed origin may send: what Label Studio's clients and the web app use. */
const ALLOWED_HEADERS = ['authorization', 'content-type', 'x-api-key', 'x-csrftoken', 'x-requested-with'];
const EXPOSED_HEADERS = 'x-request-id, retry-after, content-disposition';

/** Registers the CORS rules for the given allowlist (an empty list: no cross-origin access). */
export function registerCors(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  const allowed = new Set(allowedOrigins.map((o) => o.toLowerCase()));
  if (allowed.size > 0) {
    // Answers differ by Origin: shared caches must keep them apart (added to any Vary a route set).
    app.addHook('onSend', async (_req, reply) => {
      const vary = String(reply.getHeader('vary') ?? '');
      if (!/\borigin\b/i.test(vary)) void reply.header('vary', vary ? `${vary}, Origin` : 'Origin');
    });
  }
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    const listed = typeof origin === 'string' && allowed.has(origin.toLowerCase());
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (preflight) {
      if (!listed) {
        return reply.code(403).send({ status_code: 403, detail: 'Cross-origin requests from this origin are not allowed.', code: 'CORS_REFUSED' });
      }
      const requested = String(req.headers['access-control-request-headers'] ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter((h) => ALLOWED_HEADERS.includes(h));
      return reply
        .code(204)
        .header('access-control-allow-origin', origin)
        .header('access-control-allow-credentials', 'true')
        .header('access-control-allow-methods', METHODS)
        .header('access-control-allow-headers', requested.join(', ') || ALLOWED_HEADERS.join(', '))
        .header('access-control-max-age', '600')
        .send();
    }
    if (listed) {
      void reply
        .header('access-control-allow-origin', origin)
        .header('access-control-allow-credentials', 'true')
        .header('access-control-expose-headers', EXPOSED_HEADERS);
    }
  });
}
