/**
 * Server-side fetches' settings (SSRF rules and limits), part of THE config module: config.ts
 * spreads these variables into its schema and calls `outboundFrom`; nothing here reads
 * `process.env`. The rules themselves live in src/outbound/.
 */
import { z } from 'zod';
import { invalidAllowedHosts, isLoopbackHost } from '../outbound/address-policy.js';
import { bool, int, optionalText } from './env-values.js';

/** The outbound variables, with their descriptions (the README table is generated from them). */
export const outboundEnv = {
  SSRF_PROTECTION_ENABLED: bool
    .optional()
    .describe(
      'Label Studio name. true: server-side fetches (URL import; later webhooks, ML backends, storage endpoints) refuse loopback, private, link-local (cloud metadata), carrier-grade NAT, multicast and reserved addresses. Unset: on when HOST is not loopback or NODE_ENV=production.',
    ),
  SSRF_ALLOWED_HOSTS: optionalText.describe(
    'Comma-separated host names (*.corp.example for subdomains), IP addresses or CIDRs (10.1.0.0/16) that server-side fetches may reach despite SSRF protection.',
  ),
  OUTBOUND_TIMEOUT_SECONDS: int(1, 3600)
    .default(15)
    .describe('A server-side fetch fails when the other end stays silent this long (connecting, answering or sending its body).'),
  OUTBOUND_MAX_DURATION_SECONDS: int(1, 86_400)
    .default(900)
    .describe('Longest a server-side fetch may take in all, redirects and body included.'),
  OUTBOUND_MAX_BYTES: int(1024, 64 * 1024 ** 3)
    .default(1024 ** 3)
    .describe('Largest response body a server-side fetch reads (a caller may set a lower limit, e.g. IMPORT_MAX_FILE_BYTES).'),
  OUTBOUND_MAX_REDIRECTS: int(0, 20)
    .default(5)
    .describe('Most redirects a server-side fetch follows; each hop is checked like the first.'),
};

const outboundSchema = z.object(outboundEnv);
type OutboundEnv = z.output<typeof outboundSchema>;

/** Server-side fetches: SSRF rules and limits. */
export interface OutboundConfig {
  ssrfProtection: boolean;
  /** Validated `SSRF_ALLOWED_HOSTS` entries (names, `*.` suffixes, IPs, CIDRs). */
  allowedHosts: readonly string[];
  timeoutMs: number;
  maxDurationMs: number;
  maxBytes: number;
  maxRedirects: number;
}

/** SSRF protection (on by default beyond loopback or in production) and fetch limits. */
export function outboundFrom(e: OutboundEnv & { NODE_ENV: string; HOST: string }, problems: string[]): OutboundConfig {
  const allowedHosts = (e.SSRF_ALLOWED_HOSTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const bad of invalidAllowedHosts(allowedHosts)) {
    problems.push(`SSRF_ALLOWED_HOSTS: "${bad}" is not a host name, *.suffix, IP address or CIDR`);
  }
  return {
    ssrfProtection: e.SSRF_PROTECTION_ENABLED ?? (e.NODE_ENV === 'production' || !isLoopbackHost(e.HOST)),
    allowedHosts,
    timeoutMs: e.OUTBOUND_TIMEOUT_SECONDS * 1000,
    maxDurationMs: e.OUTBOUND_MAX_DURATION_SECONDS * 1000,
    maxBytes: e.OUTBOUND_MAX_BYTES,
    maxRedirects: e.OUTBOUND_MAX_REDIRECTS,
  };
}
