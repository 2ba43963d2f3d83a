/**
 * THE outbound-request module: every server-side fetch (URL import now; webhooks, ML backends
 * and storage endpoints later) goes through `outboundRequest`, or `outboundStream` for bodies
 * too large to hold in memory. The host is resolved once, the connection goes to that very
 * address (no second lookup an attacker could steer), redirects are followed by hand with the
 * same checks at each hop (a malformed `Location` is a 400), and time and size are bounded. The
 * address policy (`AddressPolicy`) is where the SSRF rules of the hardening work plug in.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Transform, type Readable } from 'node:stream';
import { AppError } from '../http/errors.js';

export type Lookup = (host: string) => Promise<{ address: string; family: number }[]>;
/** Returns why an address is refused, or null to allow it. */
export type AddressPolicy = (address: string) => string | null;

export interface OutboundOptions {
  method?: 'GET' | 'POST' | 'HEAD';
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  lookup?: Lookup;
  policy?: AddressPolicy;
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

type Limits = Required<Pick<OutboundOptions, 'timeoutMs' | 'maxBytes' | 'maxRedirects'>> & OutboundOptions;

const defaultLookup: Lookup = async (host) => dns.promises.lookup(host, { all: true, verbatim: true });
export const allowAll: AddressPolicy = () => null;

const refused = (why: string) => new AppError(400, 'OUTBOUND_REFUSED', why);

async function resolve(url: URL, lookup: Lookup, policy: AddressPolicy): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = net.isIP(host) ? [{ address: host, family: net.isIP(host) }] : await lookup(host).catch(() => []);
  if (addresses.length === 0) throw refused(`Cannot resolve host ${url.hostname}`);
  for (const a of addresses) {
    const why = policy(a.address);
    if (why) throw refused(`Refused to connect to ${url.hostname}: ${why}`);
  }
  return addresses[0]!.address;
}

/** Passes bytes through until more than `max` have gone by, then fails. */
function sizeLimit(url: URL, max: number): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > max) cb(refused(`Response from ${url.host} is larger than ${max} bytes`));
      else cb(null, chunk);
    },
  });
}

/** One request to an address already checked; resolves once the response headers are in. */
function once(url: URL, address: string, opts: Limits): Promise<OutboundStream> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolvePromise, reject) => {
    let body: Transform | undefined;
    const fail = (err: unknown) => {
      const e = err instanceof AppError ? err : refused(`Could not reach ${url.host}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      if (body) body.destroy(e);
      else reject(e);
    };
    const req = client.request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: { 'user-agent': 'Labelvault', ...opts.headers },
        // Connect to the address already checked; keep the name for TLS (SNI and certificate).
        lookup: (_h, _o, cb) => cb(null, address, net.isIP(address)),
        timeout: opts.timeoutMs,
      },
      (res) => {
        body = sizeLimit(url, opts.maxBytes);
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
      fail(refused(`${url.host} did not answer within ${opts.timeoutMs} ms`));
      req.destroy();
    });
    req.on('error', fail);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** The URL a redirect points to, or a 400 when its Location is not a URL. */
function redirectTarget(location: string, from: URL): URL {
  try {
    return new URL(location, from);
  } catch {
    throw refused(`${from.host} redirected to a malformed location`);
  }
}

function parseUrl(rawUrl: string): URL {
  try {
    return new URL(rawUrl);
  } catch {
    throw refused('Not a valid URL');
  }
}

/**
 * Makes one outbound HTTP(S) request under the module's rules and answers as soon as the final
 * response's headers arrive, its body to be streamed; 4xx AppError when refused or failed.
 */
export async function outboundStream(rawUrl: string, options: OutboundOptions = {}): Promise<OutboundStream> {
  const opts: Limits = { timeoutMs: 15_000, maxBytes: 100 * 1024 * 1024, maxRedirects: 5, ...options };
  let url = parseUrl(rawUrl);
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused('Only http and https URLs are fetched');
    if (url.username || url.password) throw refused('URLs with credentials are not fetched');
    const address = await resolve(url, opts.lookup ?? defaultLookup, opts.policy ?? allowAll);
    const res = await once(url, address, opts);
    const location = res.headers.location;
    if (res.status < 300 || res.status >= 400 || !location) return res;
    res.body.destroy();
    if (hop >= opts.maxRedirects) throw refused('Too many redirects');
    url = redirectTarget(location, url);
  }
}

/** Makes one outbound HTTP(S) request under the module's rules, body read whole (up to the size limit). */
export async function outboundRequest(rawUrl: string, options: OutboundOptions = {}): Promise<OutboundResponse> {
  const res = await outboundStream(rawUrl, options);
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  return { status: res.status, headers: res.headers, body: Buffer.concat(chunks), url: res.url };
}
