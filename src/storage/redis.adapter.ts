/**
 * Redis as a storage (Label Studio's Redis storage): import reads the keys starting with `path`
 * (each value a task JSON, a list of tasks, or JSONL); export writes each annotation's JSON at
 * `<path>:<annotation id>`. Keys are listed with SCAN (no order; a key seen twice is listed once).
 * Redis cannot presign: media stream through the server.
 *
 * Connections come from THE Redis factory (src/redis/redis.ts `openRedis`), with the storage's
 * own TLS settings: the server certificate verified against `tls_ca_certs` (or the built-in roots
 * plus CUSTOM_CA_CERTS), its name against `tls_servername` or the host, and a client certificate
 * when given. The host is resolved through the outbound address policy right before connecting
 * (the storages service also checks it on create / validate), and the client connects to the
 * address that was checked, so a DNS answer cannot change between the check and the connection.
 */
import net from 'node:net';
import { Readable } from 'node:stream';
import type { RedisConfig } from '../config/connections.js';
import { openRedis, type Redis } from '../redis/redis.js';
import { keyMatches, StorageError, type ByteRange, type ListOptions, type ObjectStream, type StorageAdapter, type StorageObject } from './storage-adapter.js';

/** What a Redis storage is made from (settings and opened credentials). */
export interface RedisStorageSettings {
  host: string;
  port: number;
  db: number;
  /** Key prefix ('' for every key of the database). */
  path: string;
  password: string | null;
  tls: {
    /** PEM certificates to trust; null: `defaultCa`. */
    ca: string | null;
    /** Built-in roots plus CUSTOM_CA_CERTS, or null for Node's defaults. */
    defaultCa: readonly string[] | null;
    clientCert: string | null;
    clientKey: string | null;
    servername: string | null;
  } | null;
  /** Host resolution with the outbound address policy applied, or null for the system's. */
  lookup: net.LookupFunction | null;
}

const SCAN_COUNT = 1000;

/** A glob pattern matching keys that start with `prefix` (SCAN MATCH). */
function globPrefix(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
}

/** Turns a connection or command failure into a StorageError with our own text. */
function mapError(err: unknown, what: string, tls: boolean): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as { code?: string; message?: string };
  const m = e.message ?? '';
  if (/WRONGPASS|NOAUTH|invalid password|AUTH <password>/i.test(m)) return new StorageError('access_denied', `The Redis server refused the password (${what}).`, 'password');
  if (/DB index is out of range/i.test(m)) return new StorageError('not_found', `The Redis database does not exist (${what}).`, 'db');
  // An alert comes from the server (e.g. "certificate required": our client certificate was missing or refused).
  if (tls && /alert/i.test(m)) return new StorageError('access_denied', `The Redis server refused the TLS connection: check the client certificate (${what}).`, 'tls_client_cert');
  if (/certificate|self.signed|unable to verify|altnames|CERT_/i.test(m) || /CERT|SELF_SIGNED/.test(e.code ?? '')) {
    return new StorageError('access_denied', `The Redis server's certificate is not trusted (${what}).`, 'tls_ca_certs');
  }
  // A server requiring client certificates drops the handshake (TLS 1.3: right after it, as a reset or a closed connection).
  if (tls && e.code !== 'ECONNREFUSED' && (/alert|handshake|ssl|tls|closed|hang up/i.test(m) || ['ECONNRESET', 'EPIPE'].includes(e.code ?? ''))) return new StorageError('access_denied', `The Redis server refused the TLS connection: check the client certificate (${what}).`, 'tls_client_cert');
  if (/Refused to connect/.test(m)) return new StorageError('refused', `The Redis host is refused by the server's SSRF rules (${what}).`, 'host');
  return new StorageError('unreachable', `The Redis server cannot be reached (${what}).`, 'host');
}

/** Resolves a host through the lookup (address policy), or returns an IP literal as it is. */
async function resolveHost(host: string, lookup: net.LookupFunction | null): Promise<string> {
  if (net.isIP(host) !== 0 || lookup === null) return host;
  return new Promise((resolve, reject) => {
    lookup(host, {}, (err, address) => (err ? reject(err) : resolve(typeof address === 'string' ? address : address[0]!.address)));
  });
}

/** The Redis adapter. */
export class RedisStorageAdapter implements StorageAdapter {
  readonly type = 'redis';
  private client: Promise<Redis> | null = null;
  private opened: Redis | null = null;

  constructor(private readonly s: RedisStorageSettings) {
    if (s.tls && (s.tls.clientCert === null) !== (s.tls.clientKey === null)) {
      throw new StorageError('invalid', 'Give the client certificate and its key together.', s.tls.clientCert === null ? 'tls_client_cert' : 'tls_client_key');
    }
  }

  /** Connects once (lazily), selecting the database; failures carry the reason the client saw. */
  private connect(): Promise<Redis> {
    this.client ??= (async () => {
      const address = await resolveHost(this.s.host, this.s.lookup);
      const hostInUrl = net.isIPv6(address) ? `[${address}]` : address;
      const tls = this.s.tls;
      const config: RedisConfig = {
        url: `${tls ? 'rediss' : 'redis'}://${hostInUrl}:${this.s.port}`,
        host: this.s.host,
        tls: tls && { ca: tls.ca !== null ? [tls.ca] : (tls.defaultCa ?? undefined), certFile: undefined, keyFile: undefined, servername: tls.servername ?? undefined },
      };
      const pem = tls?.clientCert && tls.clientKey ? { cert: tls.clientCert, key: tls.clientKey } : undefined;
      const client = openRedis(config, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: false, ...(this.s.password !== null && { password: this.s.password }) }, pem);
      this.opened = client;
      let reason: unknown = null;
      client.on('error', (err: unknown) => {
        reason ??= err; // the TLS refusal arrives here; the command only says the connection closed
      });
      try {
        await client.connect();
        if (this.s.db !== 0) await client.select(this.s.db);
      } catch (err) {
        client.disconnect();
        throw reason ?? err;
      }
      return client;
    })();
    this.client.catch(() => {
      this.client = null;
    });
    return this.client;
  }

  private async run<T>(what: string, fn: (c: Redis) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.connect());
    } catch (err) {
      throw mapError(err, what, this.s.tls !== null);
    }
  }

  uriOf(key: string): string {
    return `redis://${this.s.db}/${key}`;
  }

  keyOf(uri: string): string | null {
    const head = `redis://${this.s.db}/`;
    if (!uri.startsWith(head)) return null;
    const key = uri.slice(head.length);
    return key !== '' && key.startsWith(this.s.path) ? key : null;
  }

  async *list(opts: ListOptions): AsyncIterable<StorageObject[]> {
    const prefix = opts.prefix.startsWith(this.s.path) ? opts.prefix : this.s.path + opts.prefix;
    const seen = new Set<string>();
    let cursor = '0';
    do {
      opts.signal?.throwIfAborted();
      const [next, keys] = await this.run('listing keys', (c) => c.scan(cursor, 'MATCH', globPrefix(prefix), 'COUNT', SCAN_COUNT));
      cursor = next;
      const objects: StorageObject[] = [];
      for (const key of keys) {
        if (seen.has(key) || !keyMatches(key, opts.regex)) continue;
        if (!opts.recursive && key.slice(prefix.length).includes('/')) continue;
        seen.add(key);
        objects.push({ key, size: null });
      }
      if (objects.length > 0) yield objects.sort((a, b) => (a.key < b.key ? -1 : 1));
    } while (cursor !== '0');
  }

  async read(key: string, range?: ByteRange): Promise<ObjectStream> {
    const value = await this.run('reading a key', (c) => c.getBuffer(key));
    if (value === null) throw new StorageError('not_found', 'Not found (reading a key).', 'key');
    if (range && range.start >= value.length) throw new StorageError('invalid', 'Range not satisfiable.', 'range');
    const body = range ? value.subarray(range.start, range.end === undefined ? undefined : range.end + 1) : value;
    return { body: Readable.from([body]), length: body.length, totalSize: value.length, contentType: 'application/json', partial: range !== undefined };
  }

  async presign(): Promise<null> {
    return null;
  }

  async write(key: string, body: Buffer | string): Promise<void> {
    await this.run('writing a key', (c) => c.set(key, body));
  }

  async delete(key: string): Promise<void> {
    await this.run('deleting a key', (c) => c.del(key));
  }

  async validate(): Promise<void> {
    const pong = await this.run('connecting', (c) => c.ping());
    if (pong !== 'PONG') throw new StorageError('invalid', 'The server did not answer PING as Redis does.', 'host');
  }

  close(): void {
    this.opened?.disconnect();
    this.opened = null;
    this.client = null;
  }
}
