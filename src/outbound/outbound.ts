/**
 * THE outbound-request module: every server-side fetch (URL import now; webhooks, ML backends
 * and storage endpoints later) goes through `outboundRequest`. The host is resolved once, the
 * connection goes to that very address (no second lookup an attacker could steer), redirects are
 * followed by hand with the same checks at each hop, and time and size are bounded. The address
 * policy (`AddressPolicy`) is where the SSRF rules of the hardening work plug in.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
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

function once(url: URL, address: string, opts: Required<Pick<OutboundOptions, 'timeoutMs' | 'maxBytes'>> & OutboundOptions): Promise<OutboundResponse> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolvePromise, reject) => {
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
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > opts.maxBytes) {
            req.destroy();
            reject(refused(`Response from ${url.host} is larger than ${opts.maxBytes} bytes`));
          } else chunks.push(c);
        });
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url: url.toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(refused(`${url.host} did not answer within ${opts.timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof AppError ? err : refused(`Could not reach ${url.host}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)));
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Makes one outbound HTTP(S) request under the module's rules; 4xx AppError when refused or failed. */
export async function outboundRequest(rawUrl: string, options: OutboundOptions = {}): Promise<OutboundResponse> {
  const opts = { timeoutMs: 15_000, maxBytes: 100 * 1024 * 1024, maxRedirects: 5, ...options };
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw refused('Not a valid URL');
  }
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused('Only http and https URLs are fetched');
    if (url.username || url.password) throw refused('URLs with credentials are not fetched');
    const address = await resolve(url, opts.lookup ?? defaultLookup, opts.policy ?? allowAll);
    const res = await once(url, address, opts);
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && location) {
      if (hop >= opts.maxRedirects) throw refused('Too many redirects');
      url = new URL(location, url);
      continue;
    }
    return res;
  }
}
