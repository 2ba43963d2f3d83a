/**
 * `labelvault doctor`: a hardening report of the configuration the server would run with —
 * HTTPS, cookies, SSRF protection, signup, database and Redis TLS, CA files, analytics, default
 * credentials and file permissions — each warning with its fix. `--strict` turns any warning
 * into a failing exit code, for deployers' CI pipelines. It reads; it changes nothing (no
 * migration, no key generation).
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Config } from '../config/config.js';
import { isLocalDatabaseHost } from '../config/connections.js';
import { isLoopbackHost } from '../outbound/address-policy.js';
import { openDatabase } from '../db/database.js';
import { verifyPassword } from '../security/passwords.js';

export type Level = 'ok' | 'warn' | 'info';

/** One line of the report; a warning always says how to fix it. */
export interface Finding {
  check: string;
  level: Level;
  message: string;
  fix?: string;
}

const ok = (check: string, message: string): Finding => ({ check, level: 'ok', message });
const info = (check: string, message: string): Finding => ({ check, level: 'info', message });
const warn = (check: string, message: string, fix: string): Finding => ({ check, level: 'warn', message, fix });

function modeOf(file: string): number | null {
  try {
    return fs.statSync(file).mode & 0o777;
  } catch {
    return null;
  }
}

function checkHttps(config: Readonly<Config>): Finding[] {
  const exposed = !isLoopbackHost(config.server.host);
  const out: Finding[] = [];
  if (config.tls) {
    try {
      const cert = fs.readFileSync(config.tls.certFile);
      const key = fs.readFileSync(config.tls.keyFile);
      createSecureContext({ cert, key }); // throws when the key does not belong to the certificate
      const x = new X509Certificate(cert);
      const daysLeft = Math.floor((Date.parse(x.validTo) - Date.now()) / 86_400_000);
      if (daysLeft < 0) out.push(warn('https', `the certificate ${config.tls.certFile} expired on ${x.validTo}`, 'renew the certificate and restart'));
      else if (daysLeft < 14) out.push(info('https', `served by the process with HSTS; the certificate expires soon (${x.validTo}): renew it (automate it, e.g. with an ACME client)`));
      else out.push(ok('https', `served by the process with HSTS (certificate for ${x.subject.replace(/\n/g, ', ')}, valid until ${x.validTo})`));
    } catch (err) {
      out.push(warn('https', `TLS_CERT_FILE / TLS_KEY_FILE cannot be used: ${(err as Error).message}`, 'give a readable PEM certificate chain and its matching private key'));
    }
    const keyMode = modeOf(config.tls.keyFile);
    if (keyMode !== null && (keyMode & 0o077) !== 0) {
      out.push(warn('https', `TLS_KEY_FILE ${config.tls.keyFile} is readable by other users (mode ${keyMode.toString(8)})`, `chmod 600 ${config.tls.keyFile}`));
    }
    out.push(config.tls.redirectPort ? ok('https', `plain HTTP on port ${config.tls.redirectPort} only redirects to HTTPS`) : info('https', 'no plain-HTTP redirect listener (HTTP_REDIRECT_PORT unset)'));
  } else if (config.server.trustProxy !== false) {
    out.push(info('https', `plain HTTP behind a proxy trusted by TRUST_PROXY (${String(config.server.trustProxy)}): make sure it terminates TLS and sets X-Forwarded-Proto`));
  } else if (exposed) {
    out.push(
      warn(
        'https',
        `HOST=${config.server.host} exposes plain HTTP beyond this machine: passwords, cookies and tokens travel in clear text`,
        'set TLS_CERT_FILE and TLS_KEY_FILE (and HTTP_REDIRECT_PORT), or put a TLS-terminating proxy in front and set TRUST_PROXY, or listen on 127.0.0.1',
      ),
    );
  } else out.push(ok('https', `listening on loopback (${config.server.host}) only; add TLS before exposing it`));
  if (config.server.publicUrl?.startsWith('http://') && exposed) {
    out.push(warn('https', `LABEL_STUDIO_HOST=${config.server.publicUrl} is a plain-HTTP address`, 'use the https:// address users reach the server at'));
  }
  return out;
}

function checkCookies(config: Readonly<Config>): Finding {
  if (config.session.cookieSecure) return ok('cookies', 'session cookies are always Secure (SESSION_COOKIE_SECURE=true), HttpOnly, SameSite=Lax');
  if (config.tls) return ok('cookies', 'session cookies are Secure over HTTPS, HttpOnly, SameSite=Lax');
  if (config.server.trustProxy !== false) return ok('cookies', 'session cookies are Secure when the trusted proxy reports HTTPS; SESSION_COOKIE_SECURE=true forces it');
  if (!isLoopbackHost(config.server.host)) {
    return warn('cookies', 'session cookies are sent without Secure over plain HTTP', 'serve HTTPS (TLS_CERT_FILE/TLS_KEY_FILE or a trusted proxy) and set SESSION_COOKIE_SECURE=true');
  }
  return info('cookies', 'session cookies are Secure only over HTTPS (loopback listener)');
}

function checkSsrf(config: Readonly<Config>): Finding {
  if (config.outbound.ssrfProtection) {
    const allowed = config.outbound.allowedHosts.length ? ` (allowed internal hosts: ${config.outbound.allowedHosts.join(', ')})` : '';
    return ok('ssrf', `SSRF protection is on: server-side fetches refuse private, loopback and metadata addresses${allowed}`);
  }
  return warn('ssrf', 'SSRF protection is off: URL imports and other server-side fetches may reach internal services', 'set SSRF_PROTECTION_ENABLED=true (allow named internal hosts with SSRF_ALLOWED_HOSTS if needed)');
}

function checkSignup(config: Readonly<Config>): Finding {
  return config.signup.requireInviteLink
    ? ok('signup', 'signup needs the organization invite link')
    : warn('signup', 'open signup: anyone who reaches the server can create an account', 'set LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true');
}

function checkDatabase(config: Readonly<Config>): Finding {
  const db = config.database;
  if (db.kind === 'sqlite') return ok('database', `SQLite file ${db.file} (local, no network)`);
  if (isLocalDatabaseHost(db.host)) return ok('database', `PostgreSQL on this machine (${db.host || 'Unix socket'}, sslmode=${db.sslMode})`);
  if (db.sslMode === 'verify-full') return ok('database', `PostgreSQL at ${db.host} over TLS with certificate and host name verified (verify-full)`);
  return warn(
    'database',
    `PostgreSQL at ${db.host} uses sslmode=${db.sslMode}, which does not verify both the certificate and the host name`,
    'use sslmode=verify-full (in DATABASE_URL or POSTGRE_SSL_MODE), with POSTGRE_SSLROOTCERT or CUSTOM_CA_CERTS for a private CA',
  );
}

function checkRedis(config: Readonly<Config>): Finding {
  const r = config.redis;
  if (r === null) return info('redis', 'no Redis configured (REDIS_URL unset)');
  if (r.tls) return ok('redis', `Redis at ${r.host} over TLS (rediss://${r.tls.certFile ? ', with a client certificate' : ''})`);
  if (isLocalDatabaseHost(r.host)) return ok('redis', `Redis on this machine (${r.host})`);
  return warn('redis', `Redis at ${r.host} without TLS`, 'use a rediss:// REDIS_URL with REDIS_TLS_CA_FILE (and REDIS_TLS_CERT_FILE / REDIS_TLS_KEY_FILE)');
}

function checkCaFiles(config: Readonly<Config>): Finding {
  const list = config.trust.customCaFiles;
  if (list.length === 0) return info('ca-certificates', 'no custom CA certificates (CUSTOM_CA_CERTS unset): the system trust store is used');
  const unreadable = list.filter((f) => {
    try {
      fs.accessSync(f, fs.constants.R_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (unreadable.length > 0) return warn('ca-certificates', `cannot read ${unreadable.join(', ')}`, 'fix the paths in CUSTOM_CA_CERTS or their permissions');
  return ok('ca-certificates', `custom CA files readable: ${list.join(', ')}`);
}

function checkAnalytics(config: Readonly<Config>): Finding {
  return info('analytics', config.usage.collect ? 'usage is counted locally only, never sent (COLLECT_ANALYTICS=false records nothing)' : 'usage statistics are off');
}

function checkLimitsAndCors(config: Readonly<Config>): Finding[] {
  const out: Finding[] = [];
  out.push(
    config.limits.ratePerMinute > 0
      ? ok('rate-limit', `${config.limits.ratePerMinute} requests per minute per client IP`)
      : warn('rate-limit', 'no API rate limit', 'set API_RATE_LIMIT_PER_MINUTE (e.g. 1200)'),
  );
  const plain = config.cors.allowedOrigins.filter((o) => o.startsWith('http://') && !isLoopbackHost(new URL(o).hostname));
  if (plain.length > 0) out.push(warn('cors', `plain-HTTP origins may call the API with credentials: ${plain.join(', ')}`, 'list only https:// origins in CORS_ALLOWED_ORIGINS'));
  else out.push(ok('cors', config.cors.allowedOrigins.length ? `cross-origin access for ${config.cors.allowedOrigins.join(', ')} only` : 'no cross-origin access'));
  return out;
}

function checkFiles(config: Readonly<Config>): Finding[] {
  const out: Finding[] = [];
  const dirMode = modeOf(config.dataDir);
  if (dirMode === null) out.push(info('files', `data folder ${config.dataDir} does not exist yet (it is created 0700 at first start)`));
  else if ((dirMode & 0o077) !== 0) out.push(warn('files', `data folder ${config.dataDir} is accessible to other users (mode ${dirMode.toString(8)})`, `chmod 700 ${config.dataDir}`));
  else out.push(ok('files', `data folder ${config.dataDir} is owner-only (${dirMode.toString(8)})`));
  if (config.secretKey !== undefined) {
    out.push(ok('secret-key', 'SECRET_KEY comes from the environment'));
    return out;
  }
  const keyFile = path.join(config.dataDir, 'secret_key');
  const keyMode = modeOf(keyFile);
  if (keyMode === null) out.push(info('secret-key', `${keyFile} will be generated (0600) at first start`));
  else if ((keyMode & 0o077) !== 0) out.push(warn('secret-key', `${keyFile} is readable by other users (mode ${keyMode.toString(8)}); the server refuses to start`, `chmod 600 ${keyFile}`));
  else out.push(ok('secret-key', `${keyFile} is owner-only (${keyMode.toString(8)})`));
  return out;
}

/** Whether LABEL_STUDIO_PASSWORD still logs in as LABEL_STUDIO_USERNAME (a default credential left in place). */
async function checkDefaultCredentials(config: Readonly<Config>): Promise<Finding> {
  const { username, password } = config.bootstrap;
  if (!username || !password) return ok('credentials', 'no bootstrap password in the environment');
  if (config.database.kind === 'sqlite' && !fs.existsSync(config.database.file)) {
    return warn('credentials', `LABEL_STUDIO_PASSWORD will create ${username} with a password kept in the environment`, 'after the first start, change that password and remove LABEL_STUDIO_PASSWORD');
  }
  const { db } = openDatabase(config.database);
  try {
    const row = await db.selectFrom('users').select(['password_hash']).where('email', '=', username.toLowerCase()).executeTakeFirst();
    if (!row?.password_hash) return info('credentials', `LABEL_STUDIO_USERNAME ${username} does not exist yet`);
    const { ok: same } = await verifyPassword(password, row.password_hash, config.passwords.scryptLogN);
    return same
      ? warn('credentials', `LABEL_STUDIO_PASSWORD still logs in as ${username}`, "change that user's password and remove LABEL_STUDIO_PASSWORD from the environment")
      : ok('credentials', `${username} no longer uses LABEL_STUDIO_PASSWORD (remove it from the environment)`);
  } catch (err) {
    return warn('credentials', `could not check the bootstrap account: ${(err as Error).message}`, 'check DATABASE_URL and run labelvault migrate');
  } finally {
    await db.destroy();
  }
}

/** Runs every check against a loaded configuration; reads files and the database, changes nothing. */
export async function runDoctor(config: Readonly<Config>): Promise<Finding[]> {
  return [
    ...checkHttps(config),
    checkCookies(config),
    checkSsrf(config),
    checkSignup(config),
    checkDatabase(config),
    checkRedis(config),
    checkCaFiles(config),
    ...checkLimitsAndCors(config),
    checkAnalytics(config),
    await checkDefaultCredentials(config),
    ...checkFiles(config),
  ];
}

/** The report as printed: one line per finding, its fix under each warning, a summary last. */
export function formatReport(config: Readonly<Config>, findings: readonly Finding[]): string {
  const label: Record<Level, string> = { ok: 'ok  ', warn: 'WARN', info: 'info' };
  const lines = [`Labelvault hardening report (NODE_ENV=${config.env}, HOST=${config.server.host}, PORT=${config.server.port}, ${config.database.kind})`, ''];
  for (const f of findings) {
    lines.push(`  ${label[f.level]}  ${f.check.padEnd(16)} ${f.message}`);
    if (f.fix) lines.push(`        ${''.padEnd(16)} fix: ${f.fix}`);
  }
  const warnings = findings.filter((f) => f.level === 'warn').length;
  lines.push('', warnings === 0 ? 'No warnings.' : `${warnings} warning${warnings === 1 ? '' : 's'}.`);
  return `${lines.join('\n')}\n`;
}
