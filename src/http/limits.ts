/**
 * Request limits beside the body size: how deep a JSON body may nest, and how many requests one
 * client IP may make per minute. The rate limit is a fixed one-minute window: kept in Redis when
 * REDIS_URL is set (one count per client shared by every app node), else in this process.
 * `req.ip` honours TRUST_PROXY, so behind a trusted proxy the client's address counts, never a
 * header an untrusted client made up. While Redis does not answer, requests are let through
 * (the limit fails open: an outage of the counter must not take the API down).
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from '../redis/redis.js';
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
/** Never counted: probes and scrapers come from one address, often. */
const EXEMPT = new Set(['/health', '/ready', '/metrics']);

/** Counts one request of a client in the current window; returns the count and when the window ends. */
type Counter = (ip: string, now: number) => Promise<{ n: number; windowEnd: number }>;

/** The in-process counter: one map per window, dropped when the window ends. */
function memoryCounter(): Counter {
  let windowStart = Date.now();
  let counts = new Map<string, number>();
  return async (ip, now) => {
    if (now - windowStart >= WINDOW_MS) {
      windowStart = now;
      counts = new Map();
    }
    const n = (counts.get(ip) ?? 0) + 1;
    counts.set(ip, n);
    return { n, windowEnd: windowStart + WINDOW_MS };
  };
}

/** The shared counter: one Redis key per client and minute (INCR, expiring after the minute). */
function redisCounter(redis: Redis, prefix: string): Counter {
  return async (ip, now) => {
    const window = Math.floor(now / WINDOW_MS);
    const key = `${prefix}:ratelimit:${window}:${ip}`;
    const res = await redis.multi().incr(key).pexpire(key, WINDOW_MS + 1_000).exec();
    const n = Number(res?.[0]?.[1] ?? 0);
    return { n, windowEnd: (window + 1) * WINDOW_MS };
  };
}

/**
 * Limits each client IP to `perMinute` requests per minute (0: no limit), counted in Redis when
 * `shared` is given (REDIS_URL), else in this process. Past it: 429 with Retry-After (seconds
 * until the window ends) and the standard error body.
 */
export function registerRateLimit(app: FastifyInstance, perMinute: number, shared?: { redis: Redis; prefix: string }): void {
  if (perMinute <= 0) return;
  const count = shared ? redisCounter(shared.redis, shared.prefix) : memoryCounter();
  app.addHook('onRequest', async (req, reply) => {
    if (EXEMPT.has(req.url.split('?')[0]!.replace(/\/+$/, ''))) return;
    const now = Date.now();
    const counted = await count(req.ip, now).catch(() => null);
    if (counted === null) return;
    const { n, windowEnd } = counted;
    void reply.header('x-ratelimit-limit', String(perMinute));
    void reply.header('x-ratelimit-remaining', String(Math.max(0, perMinute - n)));
    if (n > perMinute) {
      const retryAfter = Math.max(1, Math.ceil((windowEnd - now) / 1000));
      return reply
        .code(429)
        .header('retry-after', String(retryAfter))
        .send({ status_code: 429, detail: `Too many requests: at most ${perMinute} per minute. Retry in ${retryAfter} s.`, code: 'RATE_LIMITED' });
    }
  });
}
