/**
 * THE Redis connection factory: every Redis client (the health check now; jobs and shared state
 * later) is made by `openRedis`, so TLS is configured in one place. With a rediss:// REDIS_URL
 * the server certificate is verified against REDIS_TLS_CA_FILE (or the built-in roots plus
 * CUSTOM_CA_CERTS) and its host name against REDIS_TLS_SERVERNAME or the URL's host; a client
 * certificate (REDIS_TLS_CERT_FILE/KEY_FILE) is presented when configured.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/connections.js';

export type { Redis } from 'ioredis';

/** A client certificate and its key given as PEM text (Redis storages keep them in the database, not in files). */
export interface RedisClientPem {
  cert: string;
  key: string;
}

/**
 * The TLS options for a Redis config (undefined for plain redis://). Key files are read here;
 * `clientPem`, when given, is the client certificate instead of the config's files.
 */
export function redisTlsOptions(redis: RedisConfig, clientPem?: RedisClientPem): ConnectionOptions | undefined {
  if (redis.tls === null) return undefined;
  const { ca, certFile, keyFile, servername } = redis.tls;
  const name = servername ?? (net.isIP(redis.host) === 0 ? redis.host : undefined);
  return {
    rejectUnauthorized: true,
    ...(ca !== undefined && { ca: [...ca] }),
    ...(certFile !== undefined && keyFile !== undefined && { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') }),
    ...(clientPem !== undefined && { cert: clientPem.cert, key: clientPem.key }),
    // SNI and the name the certificate is checked against; an IP address is checked as `host`.
    ...(name !== undefined && { servername: name }),
  };
}

/**
 * Opens an ioredis client for REDIS_URL with its TLS settings. `overrides` adjust ioredis options
 * (e.g. `lazyConnect`, `maxRetriesPerRequest: null` for BullMQ); TLS cannot be overridden.
 * `clientPem`: a client certificate given as text (Redis storages) instead of REDIS_TLS_* files.
 * The caller owns the client: `quit()` it on shutdown, and listen to its `error` event (TLS
 * refusals arrive there; a command only learns that the connection closed).
 */
export function openRedis(redis: RedisConfig, overrides: Omit<RedisOptions, 'tls'> = {}, clientPem?: RedisClientPem): Redis {
  const tls = redisTlsOptions(redis, clientPem);
  return new Redis(redis.url, {
    connectTimeout: 5_000,
    ...overrides,
    ...(tls !== undefined && { tls }),
  });
}

/**
 * True when Redis answers PING within `timeoutMs`. Used by GET /ready; never throws.
 */
export async function isRedisReady(client: Redis, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([client.ping().then((r) => r === 'PONG'), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
