/**
 * SSRF rules: which addresses a server-side fetch may reach. Pure code, no I/O.
 *
 * - `parseIpLiteral` reads a host string the way the system resolver (inet_aton / getaddrinfo)
 *   and the WHATWG URL parser do, so `2130706433`, `0177.0.0.1`, `0x7f.1` and `127.1` are all
 *   127.0.0.1, and `[::ffff:7f00:1]` is an IPv6 literal.
 * - `classifyAddress` says why an address is not a public unicast one (loopback, private,
 *   link-local and cloud metadata, carrier-grade NAT, multicast, reserved, documentation,
 *   benchmarking, unspecified, broadcast, unique-local, site-local), looking through the IPv6
 *   forms that carry an IPv4 address (mapped, compatible, translated, NAT64, 6to4, Teredo).
 * - `createAddressPolicy` adds the administrator's allowlist (`SSRF_ALLOWED_HOSTS`) and the on/off
 *   switch (`SSRF_PROTECTION_ENABLED`); the outbound module asks it about every address it would
 *   connect to, at every redirect hop.
 */
import net from 'node:net';

/** Returns why a host's address is refused, or null to allow it. `host` is the URL's host name. */
export type AddressPolicy = (address: string, host: string) => string | null;

/** The SSRF settings the policy is built from (`config.outbound`). */
export interface SsrfRules {
  ssrfProtection: boolean;
  /** Host names (`*.corp.example` for subdomains), IP addresses and CIDRs reachable anyway. */
  allowedHosts: readonly string[];
}

/** Bytes of an address: 4 for IPv4, 16 for IPv6. */
type Bytes = readonly number[];

const IPV4_PART = /^(?:0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$/i;

/**
 * Reads `host` as an IPv4 address written the way inet_aton accepts it: one to four parts, each
 * decimal, octal (leading 0) or hex (0x), the last part filling the remaining bytes (`127.1`,
 * `2130706433`); one trailing dot allowed. Returns its four bytes, or null when it is not one.
 */
function ipv4Bytes(host: string): Bytes | null {
  const text = host.endsWith('.') ? host.slice(0, -1) : host;
  const parts = text.split('.');
  if (parts.length > 4 || parts.some((p) => !IPV4_PART.test(p))) return null;
  const nums = parts.map((p) => (/^0x/i.test(p) ? (p.length === 2 ? 0 : parseInt(p.slice(2), 16)) : /^0./.test(p) ? parseInt(p, 8) : Number(p)));
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 256 ** (4 - nums.length)) return null;
  const bytes = [...nums];
  for (let i = 3 - nums.length; i >= 0; i--) bytes.push(Math.floor(last / 256 ** i) % 256);
  return bytes;
}

/** The 16 bytes of a valid IPv6 address (zone id already removed). */
function ipv6Bytes(text: string): Bytes {
  let head = text;
  const tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    head = v4[1]!.endsWith('::') ? v4[1]! : v4[1]!.slice(0, -1);
    tail.push(...v4[2]!.split('.').map(Number));
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').filter(Boolean).map((g) => parseInt(g, 16)) : []);
  const l = groups(left);
  const r = groups(right);
  const missing = 8 - l.length - r.length - tail.length / 2;
  const words = [...l, ...Array<number>(right === undefined ? 0 : missing).fill(0), ...r];
  return [...words.flatMap((w) => [w >> 8, w & 255]), ...tail];
}

/** IPv6 text without brackets and zone id, or null when it is not an IPv6 address. */
function ipv6Text(host: string): string | null {
  const text = host.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  return net.isIPv6(text) ? text : null;
}

const v4Text = (b: Bytes) => b.join('.');

function v6Text(b: Bytes): string {
  const words = Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16));
  // Shorten the longest run of zero words (two or more) to "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best === -1) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}

/**
 * Reads a host string as an IP address the way the system resolver would (decimal, octal, hex and
 * short IPv4 forms; IPv6 with or without brackets and zone id) and returns it in canonical form
 * (`127.0.0.1`, `::ffff:7f00:1`), or null when the host is a name to look up.
 */
export function parseIpLiteral(host: string): string | null {
  const v4 = ipv4Bytes(host.trim());
  if (v4) return v4Text(v4);
  const v6 = ipv6Text(host.trim());
  return v6 === null ? null : v6Text(ipv6Bytes(v6));
}

function bytesOf(address: string): Bytes | null {
  const v4 = ipv4Bytes(address);
  if (v4) return v4;
  const v6 = ipv6Text(address);
  return v6 === null ? null : ipv6Bytes(v6);
}

interface Range {
  net: Bytes;
  prefix: number;
  reason: string;
}

function range(cidr: string, reason: string): Range {
  const [addr, prefix] = cidr.split('/');
  return { net: bytesOf(addr!)!, prefix: Number(prefix), reason };
}

function inRange(b: Bytes, r: Range): boolean {
  if (b.length !== r.net.length) return false;
  for (let bit = 0; bit < r.prefix; bit += 8) {
    const n = Math.min(8, r.prefix - bit);
    const mask = (0xff << (8 - n)) & 0xff;
    if ((b[bit / 8]! & mask) !== (r.net[bit / 8]! & mask)) return false;
  }
  return true;
}

/** IPv4 ranges that are not public unicast (IANA special-purpose registry), most specific first. */
const V4_REFUSED: readonly Range[] = [
  range('255.255.255.255/32', 'broadcast'),
  range('169.254.169.254/32', 'link-local, cloud metadata service'),
  range('0.0.0.0/8', 'unspecified ("this network")'),
  range('10.0.0.0/8', 'private'),
  range('100.64.0.0/10', 'carrier-grade NAT'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local'),
  range('172.16.0.0/12', 'private'),
  range('192.0.0.0/24', 'reserved (IETF protocol assignments)'),
  range('192.0.2.0/24', 'documentation'),
  range('192.88.99.0/24', 'reserved (6to4 relay)'),
  range('192.168.0.0/16', 'private'),
  range('198.18.0.0/15', 'benchmarking'),
  range('198.51.100.0/24', 'documentation'),
  range('203.0.113.0/24', 'documentation'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved'),
];

/**
 * IPv6 ranges that carry an IPv4 address, and where its four bytes start. `asV4`: the address is
 * that IPv4 address (a public one is allowed); the others are judged by the IPv6 table after.
 */
const V6_EMBEDDING: readonly (Range & { at: number; asV4?: boolean; invert?: boolean })[] = [
  { ...range('::ffff:0:0/96', 'IPv4-mapped'), at: 12, asV4: true },
  { ...range('::ffff:0:0:0/96', 'IPv4-translated'), at: 12, asV4: true },
  { ...range('64:ff9b::/96', 'NAT64'), at: 12, asV4: true },
  { ...range('2002::/16', '6to4'), at: 2 },
  // Teredo: the server's address in clear, the client's inverted in the last four bytes.
  { ...range('2001::/32', 'Teredo (server)'), at: 4 },
  { ...range('2001::/32', 'Teredo (client)'), at: 12, invert: true },
];

/** IPv6 ranges that are not public unicast, most specific first. */
const V6_REFUSED: readonly Range[] = [
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('64:ff9b:1::/48', 'NAT64 local use'),
  range('100::/64', 'reserved (discard only)'),
  range('2001:db8::/32', 'documentation'),
  range('2001:2::/48', 'benchmarking'),
  range('2001::/23', 'reserved (IETF protocol assignments)'),
  range('3fff::/20', 'documentation'),
  range('5f00::/16', 'reserved (SRv6)'),
  range('fc00::/7', 'unique-local'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local'),
  range('ff00::/8', 'multicast'),
  range('::/8', 'reserved'),
  // Everything outside global unicast (2000::/3) is unassigned or special.
  range('4000::/2', 'reserved'),
  range('8000::/1', 'reserved'),
  range('0::/3', 'reserved'),
];

function classifyV4(b: Bytes): string | null {
  return V4_REFUSED.find((r) => inRange(b, r))?.reason ?? null;
}

function classifyBytes(b: Bytes): string | null {
  if (b.length === 4) return classifyV4(b);
  if (inRange(b, V6_REFUSED[0]!) || inRange(b, V6_REFUSED[1]!)) return b[15] === 0 ? 'unspecified' : 'loopback';
  for (const e of V6_EMBEDDING) {
    if (!inRange(b, e)) continue;
    const v4 = b.slice(e.at, e.at + 4).map((x) => (e.invert ? 255 - x : x));
    const why = classifyV4(v4);
    if (why) return `${e.reason} form of ${v4Text(v4)} (${why})`;
    if (e.asV4) return null;
  }
  // IPv4-compatible (deprecated ::a.b.c.d): the embedded address decides, else it is reserved.
  if (b.slice(0, 12).every((x) => x === 0)) {
    const why = classifyV4(b.slice(12));
    return why ? `IPv4-compatible form of ${v4Text(b.slice(12))} (${why})` : 'reserved (IPv4-compatible)';
  }
  return V6_REFUSED.find((r) => inRange(b, r))?.reason ?? null;
}

/**
 * Why an IP address is not a public unicast address (e.g. "loopback", "IPv4-mapped form of
 * 10.0.0.5 (private)"), or null when it is one. Accepts every form `parseIpLiteral` reads; a
 * string that is no address at all is refused too.
 */
export function classifyAddress(address: string): string | null {
  const b = bytesOf(address.trim());
  return b === null ? 'not an IP address' : classifyBytes(b);
}

/** Whether a listening address (HOST) is loopback only: `127.x`, `::1` or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const reason = classifyAddress(h);
  return reason === 'loopback' || reason?.endsWith('(loopback)') === true;
}

/** One parsed `SSRF_ALLOWED_HOSTS` entry. */
type AllowEntry = { kind: 'name'; name: string } | { kind: 'suffix'; suffix: string } | { kind: 'net'; range: Range };

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

function parseAllowEntry(raw: string): AllowEntry | null {
  const entry = raw.trim().toLowerCase();
  const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
  if (cidr) {
    const ip = net.isIP(cidr[1]!.replace(/^\[(.*)\]$/, '$1')) ? parseIpLiteral(cidr[1]!) : null;
    const prefix = Number(cidr[2]);
    if (ip === null || prefix > (ip.includes(':') ? 128 : 32)) return null;
    return { kind: 'net', range: range(`${ip}/${prefix}`, 'allowed') };
  }
  const ip = parseIpLiteral(entry);
  if (ip !== null) return { kind: 'net', range: range(`${ip}/${ip.includes(':') ? 128 : 32}`, 'allowed') };
  const name = entry.replace(/\.$/, '');
  if (name.startsWith('*.') && HOST_NAME.test(name.slice(2))) return { kind: 'suffix', suffix: name.slice(1) };
  return HOST_NAME.test(name) ? { kind: 'name', name } : null;
}

/**
 * Checks `SSRF_ALLOWED_HOSTS` entries (host names, `*.` suffixes, IP addresses, CIDRs) and
 * returns the ones that are none of these, for the config module to report.
 */
export function invalidAllowedHosts(entries: readonly string[]): string[] {
  return entries.filter((e) => parseAllowEntry(e) === null);
}

/** An IPv4-mapped IPv6 address as its IPv4 bytes, so allowlisted IPv4 networks match it. */
function unmapped(b: Bytes): Bytes {
  return b.length === 16 && b.slice(0, 10).every((x) => x === 0) && b[10] === 255 && b[11] === 255 ? b.slice(12) : b;
}

/**
 * Builds the policy the outbound module applies to every address it would connect to. Off: all
 * allowed. On: a host named in the allowlist (exactly or by `*.` suffix) may resolve anywhere; an
 * address inside an allowlisted IP or CIDR is allowed; any other non-public address is refused.
 */
export function createAddressPolicy(rules: SsrfRules): AddressPolicy {
  if (!rules.ssrfProtection) return () => null;
  const entries = rules.allowedHosts.map(parseAllowEntry).filter((e): e is AllowEntry => e !== null);
  const names = new Set(entries.flatMap((e) => (e.kind === 'name' ? [e.name] : [])));
  const suffixes = entries.flatMap((e) => (e.kind === 'suffix' ? [e.suffix] : []));
  const nets = entries.flatMap((e) => (e.kind === 'net' ? [e.range] : []));
  return (address, host) => {
    const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
    if (names.has(name) || suffixes.some((s) => name.endsWith(s))) return null;
    const b = bytesOf(address);
    if (b === null) return 'not an IP address';
    if (nets.some((r) => inRange(b, r) || inRange(unmapped(b), r))) return null;
    const why = classifyBytes(b);
    return why && `${address} is ${/^[aeiou]/i.test(why) ? 'an' : 'a'} ${why} address`;
  };
}
