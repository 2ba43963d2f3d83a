/**
 * Security headers on every response: a strict Content-Security-Policy for the app (routes that
 * serve their own kind of document, like uploads and the setup page, set a stricter one that is
 * kept), nosniff, no framing, a same-origin referrer and opener, no powerful browser features,
 * and HSTS on HTTPS (seen directly, or told by a proxy listed in TRUST_PROXY).
 */
import type { FastifyInstance } from 'fastify';

/**
 * The app's policy. The labeling editor runs under `script-src 'self'` (no eval) but injects
 * `<style>` elements, hence `'unsafe-inline'` for styles only (see NOTES.md). No wildcard sources.
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

/** Browser features the app never uses, switched off for it and anything it embeds. */
export const PERMISSIONS_POLICY = [
  'camera=()',
  'microphone=()',
  'geolocation=()',
  'payment=()',
  'usb=()',
  'serial=()',
  'bluetooth=()',
  'midi=()',
  'magnetometer=()',
  'gyroscope=()',
  'accelerometer=()',
  'display-capture=()',
  'interest-cohort=()',
].join(', ');

/** One year; subdomains are left to the deployer (they may serve other sites over plain HTTP). */
export const HSTS = 'max-age=31536000';

/** Adds the security headers to every response of the app (API, HTML, errors, 404/405). */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply) => {
    if (!reply.hasHeader('content-security-policy')) void reply.header('content-security-policy', APP_CSP);
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'same-origin');
    void reply.header('permissions-policy', PERMISSIONS_POLICY);
    void reply.header('cross-origin-opener-policy', 'same-origin');
    void reply.header('cross-origin-resource-policy', 'same-origin');
    void reply.header('x-permitted-cross-domain-policies', 'none');
    if (req.protocol === 'https') void reply.header('strict-transport-security', HSTS);
  });
}
