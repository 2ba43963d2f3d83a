/**
 * THE outbound-request module: every server-side fetch (URL import now; webhooks, ML backends
 * and storage endpoints later) goes through `outboundRequest`, or `outboundStream` for bodies
 * too large to hold in memory. The host is resolved once, the connection goes to that very
 * address (no second lookup an attacker could steer), redirects are followed by hand with the
 * same checks at each hop (a malformed `Location` is a 400), and time and size are bounded.
 *
 * Every call takes the server's config: the SSRF rules (`address-policy.ts`: which addresses are
 * refused, the administrator's allowlist), the CA certificates trusted for HTTPS
 * (`CUSTOM_CA_CERTS` beside the built-in roots) and the limits all come from it, so no caller
 * can fetch outside them. A caller may only tighten the limits.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Transform, type Readable } from 'node:stream';
import type { Config } from '../config/config.js';
import { AppError, invalid } from '../http/errors.js';
import { createAddressPolicy, parseIpLiteral, type AddressPolicy } from './address-policy.js';

/** Resolves a host name to all its addresses (the system resolver unless a test injects one). */
export type Lookup = (host: string) => Promise<{ address: string; family: number }[]>;

/** The parts of the server's config the outbound module reads. */
export type OutboundConfig = Readonly<Pick<Config, 'outbound' | 'trust'>>;

export interface OutboundOptions {
  /** The server's config (`deps.config`): SSRF rules, trusted CAs and limits. */
  config: OutboundConfig;
  /** The request field the URL came from: refusals are then a 400 naming it (`{url: [why]}`). */
  field?: string;
  method?: 'GET' | 'POST' | 'HEAD';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Silence allowed, in ms; only lowers the configured `OUTBOUND_TIMEOUT_SECONDS`. */
  timeoutMs?: number;
  /** Largest body; only lowers the configured `OUTBOUND_MAX_BYTES`. */
  maxBytes?: number;
  /** Only lowers the configured `OUTBOUND_MAX_REDIRECTS`. */
  maxRedirects?: number;
  /** Test seam: resolves names instead of the system resolver (the policy still checks every answer). */
  lookup?: Lookup;
}

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  url: string;
}

/** A response whose body is read as it arrives. */
export interface OutboundStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The final URL, after redirects. */
  url: string;
  /**
   * The body. It fails with a 400 AppError past the size limit, when the server stalls longer
   * than the time limit, or when the connection breaks; destroy it when not reading it to the end.
   */
  body: Readable;
}

/** One fetch's settled rules: the config's, tightened by the caller's options. */
interface Plan {
  policy: AddressPolicy;
  ca: readonly string[] | undefined;
  lookup: Lookup;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  /** Aborted when the fetch's total time is up. */
  signal: AbortSignal;
  method: NonNullable<OutboundOptions['method']>;
  headers: Record<string, string> | undefined;
  body: string | Buffer | undefined;
  refused: (why: string) => AppError;
}

const systemLookup: Lookup = async (host) => dns.promises.lookup(host, { all: true, verbatim: true });

/** The policy built from a config, once per config object. */
const policies = new WeakMap<object, AddressPolicy>();

function policyFor(config: OutboundConfig): AddressPolicy {
  let policy = policies.get(config.outbound);
  if (!policy) {
    policy = createAddressPolicy(config.outbound);
    policies.set(config.outbound, policy);
  }
  return policy;
}

const lower = (configured: number, asked: number | undefined) => Math.min(configured, asked ?? configured);

function planFor(options: OutboundOptions, signal: AbortSignal): Plan {
  const { outbound } = options.config;
  const field = options.field;
  return {
    policy: policyFor(options.config),
    ca: options.config.trust.ca,
    lookup: options.lookup ?? systemLookup,
    timeoutMs: lower(outbound.timeoutMs, options.timeoutMs),
    maxBytes: lower(outbound.maxBytes, options.maxBytes),
    maxRedirects: lower(outbound.maxRedirects, options.maxRedirects),
    signal,
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    refused: (why) => (field ? invalid({ [field]: [why] }) : new AppError(400, 'OUTBOUND_REFUSED', why)),
  };
}

/** Resolves within `ms` or fails; the lookup itself cannot be cancelled, only abandoned. */
function within<T>(promise: Promise<T>, ms: number, why: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(why()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The one address to connect to: the host itself when it is an IP literal (read as the system
 * resolver would), else the first answer of a single lookup. Every address must pass the policy
 * before any connection is opened; one refused answer refuses the host.
 */
async function resolve(url: URL, plan: Plan): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literal = parseIpLiteral(host);
  const addresses = literal
    ? [{ address: literal }]
    : await within(plan.lookup(host), plan.timeoutMs, () => plan.refused(`Resolving ${host} took longer than ${plan.timeoutMs} ms`)).catch((err: unknown) => {
        if (err instanceof AppError) throw err;
        return [];
      });
  if (addresses.length === 0) throw plan.refused(`Cannot resolve host ${url.hostname}`);
  for (const a of addresses) {
    const why = plan.policy(a.address, host);
    if (why) throw plan.refused(`Refused to connect to ${url.hostname}: ${why} (SSRF protection; see SSRF_ALLOWED_HOSTS)`);
  }
  return addresses[0]!.address;
}

/** Passes bytes through until more than `max` have gone by, then fails. */
function sizeLimit(url: URL, max: number, refused: Plan['refused']): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > max) cb(refused(`Response from ${url.host} is larger than ${max} bytes`));
      else cb(null, chunk);
    },
  });
}

/** Why a connection failed, in words safe to show (TLS failures say so: CUSTOM_CA_CERTS may be missing). */
function failure(url: URL, err: unknown, plan: Plan): AppError {
  if (err instanceof AppError) return err;
  if (plan.signal.aborted) return plan.refused(`Fetching from ${url.host} took longer than the time allowed`);
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  const tlsTrouble = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS/.test(code);
  return plan.refused(`Could not reach ${url.host}: ${code}${tlsTrouble ? ' (certificate not trusted; see CUSTOM_CA_CERTS)' : ''}`);
}

/** One request to an address already checked; resolves once the response headers are in. */
function once(url: URL, address: string, plan: Plan): Promise<OutboundStream> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolvePromise, reject) => {
    let body: Transform | undefined;
    const fail = (err: unknown) => {
      const e = failure(url, err, plan);
      if (body) body.destroy(e);
      else reject(e);
    };
    const family = net.isIP(address);
    const req = client.request(
      url,
      {
        method: plan.method,
        headers: { 'user-agent': 'Labelvault', ...plan.headers },
        // Connect to the address already checked; keep the name for TLS (SNI and certificate).
        lookup: (_h, o, cb) => (o.all ? cb(null, [{ address, family }]) : cb(null, address, family)),
        // A fresh connection each time: a pooled one may lead to an address checked under other rules.
        agent: false,
        timeout: plan.timeoutMs,
        signal: plan.signal,
        ...(plan.ca && { ca: [...plan.ca] }),
      },
      (res) => {
        body = sizeLimit(url, plan.maxBytes, plan.refused);
        // A failure before the caller starts reading must not crash the process: the stream keeps
        // it (`errored`), and the caller's pipeline or loop still rejects with it.
        body.on('error', () => {});
        // However the body ends early (limit, stall, the reader gave up), the connection goes too.
        body.on('close', () => {
          if (!res.complete) req.destroy();
        });
        res.on('error', fail);
        res.pipe(body);
        resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body, url: url.toString() });
      },
    );
    req.on('timeout', () => {
      fail(plan.refused(`${url.host} did not answer within ${plan.timeoutMs} ms`));
      req.destroy();
    });
    req.on('error', fail);
    if (plan.body !== undefined) req.write(plan.body);
    req.end();
  });
}

/** The URL a redirect points to, or a 400 when its Location is not a URL. */
function redirectTarget(location: string, from: URL, plan: Plan): URL {
  try {
    return new URL(location, from);
  } catch {
    throw plan.refused(`${from.host} redirected to a malformed location`);
  }
}

function parseUrl(rawUrl: string, plan: Plan): URL {
  try {
    return new URL(rawUrl);
  } catch {
    throw plan.refused('Not a valid URL');
  }
}

/**
 * Makes one outbound HTTP(S) request under the module's rules and answers as soon as the final
 * response's headers arrive, its body to be streamed; 4xx AppError when refused or failed.
 */
export async function outboundStream(rawUrl: string, options: OutboundOptions): Promise<OutboundStream> {
  const deadline = new AbortController();
  const plan = planFor(options, deadline.signal);
  const timer = setTimeout(() => deadline.abort(), options.config.outbound.maxDurationMs).unref();
  try {
    const res = await follow(rawUrl, plan);
    res.body.once('close', () => clearTimeout(timer));
    return res;
  } catch (err) {
    clearTimeout(timer);
    throw err;
  }
}

/** Requests the URL, then each redirect target after checking it again, up to the limit. */
async function follow(rawUrl: string, plan: Plan): Promise<OutboundStream> {
  let url = parseUrl(rawUrl, plan);
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw plan.refused('Only http and https URLs are fetched');
    if (url.username || url.password) throw plan.refused('URLs with credentials are not fetched');
    const address = await resolve(url, plan);
    const res = await once(url, address, plan);
    const location = res.headers.location;
    if (res.status < 300 || res.status >= 400 || !location) return res;
    res.body.destroy();
    if (hop >= plan.maxRedirects) throw plan.refused(`Too many redirects (more than ${plan.maxRedirects})`);
    url = redirectTarget(location, url, plan);
  }
}

/** Makes one outbound HTTP(S) request under the module's rules, body read whole (up to the size limit). */
export async function outboundRequest(rawUrl: string, options: OutboundOptions): Promise<OutboundResponse> {
  const res = await outboundStream(rawUrl, options);
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  return { status: res.status, headers: res.headers, body: Buffer.concat(chunks), url: res.url };
}
