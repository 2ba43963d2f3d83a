/**
 * Request limits beside the body size: how deep a JSON body may nest, and how many requests one
 * client IP may make per minute. The rate limit is a fixed one-minute window kept in this
 * process (each app node counts its own clients); `req.ip` honours TRUST_PROXY, so behind a
 * trusted proxy the client's address counts, never a header an untrusted client made up.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from './errors.js';

/**
 * True when the JSON text nests objects/arrays deeper than `max`. Scans the text once without
 * parsing (brackets inside strings do not count), so a hostile body is refused before any
 * recursive code (parser, prototype scan, serializer, database) walks it.
 */
export function jsonTooDeep(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
  }
  return false;
}

/** The error for a body nested past JSON_MAX_DEPTH (400). */
export function jsonTooDeepError(max: number): AppError {
  return new AppError(400, 'JSON_TOO_DEEP', `Request body nests objects or arrays deeper than ${max} levels.`);
}

const WINDOW_MS = 60_000;
/** Never counted: liveness probes come from one load balancer address, often. */
const EXEMPT = new Set(['/health']);

/**
 * Limits each client IP to `perMinute` requests per minute (0: no limit). Past it: 429 with
 * Retry-After (seconds until the window ends) and the standard error body.
 */
export function registerRateLimit(app: FastifyInstance, perMinute: number): void {
  if (perMinute <= 0) return;
  let windowStart = Date.now();
  let counts = new Map<string, number>();
  app.addHook('onRequest', async (req, reply) => {
    const now = Date.now();
    if (now - windowStart >= WINDOW_MS) {
      windowStart = now;
      counts = new Map();
    }
    if (EXEMPT.has(req.url.split('?')[0]!.replace(/\/+$/, ''))) return;
    const n = (counts.get(req.ip) ?? 0) + 1;
    counts.set(req.ip, n);
    void reply.header('x-ratelimit-limit', String(perMinute));
    void reply.header('x-ratelimit-remaining', String(Math.max(0, perMinute - n)));
    if (n > perMinute) {
      const retryAfter = Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000));
      return reply
        .code(429)
        .header('retry-after', String(retryAfter))
        .send({ status_code: 429, detail: `Too many requests: at most ${perMinute} per minute. Retry in ${retryAfter} s.`, code: 'RATE_LIMITED' });
    }
  });
}
