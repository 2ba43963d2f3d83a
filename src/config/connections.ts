/**
 * PostgreSQL and Redis connection settings, part of THE config module (config.ts calls these;
 * nothing here reads `process.env`). They turn DATABASE_URL + POSTGRE_SSL* and REDIS_URL +
 * REDIS_TLS_* into one unambiguous TLS decision each, and list every contradiction as a problem.
 *
 * PostgreSQL rules (docs/security.md, "Database and Redis TLS"):
 * - `sslmode`, `sslrootcert`, `sslcert`, `sslkey` may come from DATABASE_URL's query or from
 *   POSTGRE_SSL_MODE / POSTGRE_SSLROOTCERT / POSTGRE_SSLCERT / POSTGRE_SSLKEY. Both may be given
 *   when they agree; different values are a config error. They are taken out of the URL handed
 *   to `pg`, which then only gets our `ssl` object (pg lets a URL sslmode override it otherwise).
 * - Modes follow libpq: disable, require (TLS, no verification — or verify-ca when a root
 *   certificate is given), verify-ca (chain), verify-full (chain and host name). `allow` and
 *   `prefer` are refused: the Node driver cannot fall back between TLS and plain text.
 * - Unset: `disable` for a loopback host or a Unix socket, `verify-full` for any other host.
 * - NODE_ENV=production with a non-loopback host requires verify-full, unless
 *   POSTGRE_ALLOW_INSECURE_TRANSPORT=true says the network is trusted.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { readCertificates } from './pem.js';

/** The PostgreSQL TLS modes Labelvault can honour (libpq names). */
export type PgSslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

/** Every libpq sslmode name; `allow` and `prefer` are recognised only to be refused clearly. */
export const PG_SSL_MODE_NAMES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/** The PostgreSQL database of record, with its resolved TLS settings. */
export interface PostgresConfig {
  kind: 'postgres';
  /** DATABASE_URL without its TLS parameters (those are below). */
  url: string;
  /** Host name or address the connection goes to ('' or a path for a Unix socket). */
  host: string;
  sslMode: PgSslMode;
  /** Resolved POSTGRE_SSLROOTCERT path, or 'system'; undefined: system roots + CUSTOM_CA_CERTS. */
  sslRootCert: string | undefined;
  /** Certificates to trust (one PEM each); undefined: Node's built-in roots. */
  ca: readonly string[] | undefined;
  /** Client certificate and key files (resolved), both or neither. */
  sslCert: string | undefined;
  sslKey: string | undefined;
}

/** Redis (REDIS_URL) with its TLS settings; TLS is on exactly when the URL is rediss://. */
export interface RedisConfig {
  url: string;
  host: string;
  tls: {
    /** Certificates to trust; undefined: Node's built-in roots. */
    ca: readonly string[] | undefined;
    certFile: string | undefined;
    keyFile: string | undefined;
    /** Name sent as SNI and checked against the certificate (default: the URL's host name). */
    servername: string | undefined;
  } | null;
}

/** The environment values these functions read (already validated by the zod schema). */
export interface ConnectionEnv {
  NODE_ENV: 'production' | 'development' | 'test';
  POSTGRE_SSL_MODE?: (typeof PG_SSL_MODE_NAMES)[number] | undefined;
  POSTGRE_SSLROOTCERT?: string | undefined;
  POSTGRE_SSLCERT?: string | undefined;
  POSTGRE_SSLKEY?: string | undefined;
  POSTGRE_ALLOW_INSECURE_TRANSPORT: boolean;
  REDIS_URL?: string | undefined;
  REDIS_TLS_CA_FILE?: string | undefined;
  REDIS_TLS_CERT_FILE?: string | undefined;
  REDIS_TLS_KEY_FILE?: string | undefined;
  REDIS_TLS_SERVERNAME?: string | undefined;
}

/** True for a host only this machine can reach: localhost, 127/8, ::1, or a Unix socket. */
export function isLocalDatabaseHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === '' || h.startsWith('/')) return true;
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1' || h === '::ffff:127.0.0.1') return true;
  return net.isIPv4(h) && h.startsWith('127.');
}

function readable(variable: string, file: string, problems: string[]): string {
  const resolved = path.resolve(file);
  try {
    fs.accessSync(resolved, fs.constants.R_OK);
  } catch {
    problems.push(`${variable}: cannot read ${resolved}`);
  }
  return resolved;
}

/** One TLS parameter from the URL and its environment twin: equal or only one of them, else a problem. */
function pick(urlName: string, urlValue: string | null, envName: string, envValue: string | undefined, problems: string[]): string | undefined {
  const fromUrl = urlValue === null || urlValue.trim() === '' ? undefined : urlValue.trim();
  const fromEnv = envValue?.trim() || undefined;
  if (fromUrl !== undefined && fromEnv !== undefined && fromUrl !== fromEnv) {
    problems.push(`${envName}: "${fromEnv}" contradicts ${urlName}=${fromUrl} in DATABASE_URL (set one of them, or both the same)`);
  }
  return fromUrl ?? fromEnv;
}

/**
 * Resolves the PostgreSQL connection: TLS parameters from DATABASE_URL and POSTGRE_SSL*, the
 * default mode, file checks, the trust list (`trustCa` is config.trust.ca: the built-in roots
 * plus CUSTOM_CA_CERTS, used unless a root certificate file is given) and the production cross-check.
 */
export function postgresFrom(rawUrl: string, e: ConnectionEnv, trustCa: readonly string[] | undefined, problems: string[]): PostgresConfig | undefined {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    problems.push('DATABASE_URL: cannot be parsed as postgres://user:password@host:port/database (percent-encode special characters)');
    return undefined;
  }
  const q = url.searchParams;
  if (q.has('ssl')) problems.push('DATABASE_URL: use sslmode=… (or POSTGRE_SSL_MODE), not ssl=…');
  const modeName = pick('sslmode', q.get('sslmode'), 'POSTGRE_SSL_MODE', e.POSTGRE_SSL_MODE, problems);
  const rootCert = pick('sslrootcert', q.get('sslrootcert'), 'POSTGRE_SSLROOTCERT', e.POSTGRE_SSLROOTCERT, problems);
  const certFile = pick('sslcert', q.get('sslcert'), 'POSTGRE_SSLCERT', e.POSTGRE_SSLCERT, problems);
  const keyFile = pick('sslkey', q.get('sslkey'), 'POSTGRE_SSLKEY', e.POSTGRE_SSLKEY, problems);
  for (const name of ['ssl', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'uselibpqcompat', 'sslcompat']) q.delete(name);

  const host = decodeURIComponent(url.hostname || q.get('host') || '').replace(/^\[|\]$/g, '');
  const local = isLocalDatabaseHost(host);
  let sslMode: PgSslMode = local ? 'disable' : 'verify-full';
  if (modeName !== undefined) {
    if (modeName === 'allow' || modeName === 'prefer') {
      problems.push(`POSTGRE_SSL_MODE: sslmode=${modeName} is not supported (the Node driver cannot fall back between TLS and plain text): use disable, require, verify-ca or verify-full`);
    } else if ((PG_SSL_MODE_NAMES as readonly string[]).includes(modeName)) {
      sslMode = modeName as PgSslMode;
    } else {
      problems.push(`DATABASE_URL: sslmode=${modeName} is not one of disable, require, verify-ca, verify-full`);
    }
  }
  if (sslMode === 'disable' && (rootCert ?? certFile ?? keyFile) !== undefined) {
    problems.push('POSTGRE_SSL_MODE: is disable, yet a TLS certificate (sslrootcert/sslcert/sslkey) is configured — choose one');
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    problems.push(certFile === undefined ? 'POSTGRE_SSLCERT: required when POSTGRE_SSLKEY is set' : 'POSTGRE_SSLKEY: required when POSTGRE_SSLCERT is set');
  }
  let ca = trustCa;
  let sslRootCert: string | undefined;
  if (rootCert === 'system') sslRootCert = 'system';
  else if (rootCert !== undefined) {
    sslRootCert = path.resolve(rootCert);
    ca = readCertificates('POSTGRE_SSLROOTCERT', sslRootCert, problems);
  }
  if (e.NODE_ENV === 'production' && !local && sslMode !== 'verify-full' && !e.POSTGRE_ALLOW_INSECURE_TRANSPORT) {
    problems.push(
      `POSTGRE_SSL_MODE: production with PostgreSQL at ${host} needs verify-full (TLS with the certificate and host name checked); sslmode is ${sslMode}. Set POSTGRE_SSL_MODE=verify-full, or POSTGRE_ALLOW_INSECURE_TRANSPORT=true if the network to the database is trusted`,
    );
  }
  return {
    kind: 'postgres',
    url: url.toString(),
    host,
    sslMode,
    sslRootCert,
    ca,
    sslCert: certFile === undefined ? undefined : readable('POSTGRE_SSLCERT', certFile, problems),
    sslKey: keyFile === undefined ? undefined : readable('POSTGRE_SSLKEY', keyFile, problems),
  };
}

/**
 * Resolves REDIS_URL and REDIS_TLS_*: TLS settings need a rediss:// URL, the client certificate
 * and key go together, REDIS_TLS_CA_FILE replaces the trust list (else `trustCa`: the built-in
 * roots plus CUSTOM_CA_CERTS). Returns null without REDIS_URL.
 */
export function redisFrom(e: ConnectionEnv, trustCa: readonly string[] | undefined, problems: string[]): RedisConfig | null {
  const tlsSettings = [e.REDIS_TLS_CA_FILE, e.REDIS_TLS_CERT_FILE, e.REDIS_TLS_KEY_FILE, e.REDIS_TLS_SERVERNAME];
  if (e.REDIS_URL === undefined) {
    if (tlsSettings.some((v) => v !== undefined)) problems.push('REDIS_URL: required when REDIS_TLS_* settings are given');
    return null;
  }
  let url: URL;
  try {
    url = new URL(e.REDIS_URL.trim());
  } catch {
    problems.push('REDIS_URL: cannot be parsed as redis://[user:password@]host:port[/db] or rediss://…');
    return null;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    problems.push('REDIS_URL: must start with redis:// or rediss:// (TLS)');
    return null;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol === 'redis:') {
    if (tlsSettings.some((v) => v !== undefined)) problems.push('REDIS_URL: REDIS_TLS_* settings are given but the URL is redis:// (plain); use rediss://');
    return { url: url.toString(), host, tls: null };
  }
  if ((e.REDIS_TLS_CERT_FILE === undefined) !== (e.REDIS_TLS_KEY_FILE === undefined)) {
    problems.push(e.REDIS_TLS_CERT_FILE === undefined ? 'REDIS_TLS_CERT_FILE: required when REDIS_TLS_KEY_FILE is set' : 'REDIS_TLS_KEY_FILE: required when REDIS_TLS_CERT_FILE is set');
  }
  const caFile = e.REDIS_TLS_CA_FILE === undefined ? undefined : path.resolve(e.REDIS_TLS_CA_FILE.trim());
  return {
    url: url.toString(),
    host,
    tls: {
      ca: caFile !== undefined ? readCertificates('REDIS_TLS_CA_FILE', caFile, problems) : trustCa,
      certFile: e.REDIS_TLS_CERT_FILE === undefined ? undefined : readable('REDIS_TLS_CERT_FILE', e.REDIS_TLS_CERT_FILE.trim(), problems),
      keyFile: e.REDIS_TLS_KEY_FILE === undefined ? undefined : readable('REDIS_TLS_KEY_FILE', e.REDIS_TLS_KEY_FILE.trim(), problems),
      servername: e.REDIS_TLS_SERVERNAME?.trim() || undefined,
    },
  };
}
