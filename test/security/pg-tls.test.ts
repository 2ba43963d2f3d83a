/**
 * PostgreSQL over verified TLS, against real throwaway PostgreSQL clusters (initdb + pg_ctl on
 * 127.0.0.1 and a free port; certificates from a throwaway CA, test/tls-fixtures.ts). The
 * clusters accept TLS only (pg_hba: hostssl; plain connections are rejected), so a connection
 * that works is a TLS connection. Nothing is skipped: without initdb the tests fail, saying so.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { openDatabase } from '../../src/db/database.js';
import { call, startServer, freePort } from '../harness.js';
import { makeCa, makeTempDir, removeTempDir, type IssuedCert, type TestCa } from '../tls-fixtures.js';
import { configProblems } from '../config-problems.js';

const run = promisify(execFile);

/** The newest PostgreSQL server binaries on this machine, or a clear failure. */
function pgBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) {
    throw new Error('PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb): install the postgresql package; these TLS tests need a throwaway cluster');
  }
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}


/** Runs a PostgreSQL binary as the postgres user (initdb refuses root). */
async function asPostgres(bin: string, args: string[]): Promise<void> {
  const cmd = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] as const : [bin, args] as const;
  try {
    await run(cmd[0], [...cmd[1]]);
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${path.basename(bin)} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

interface Cluster {
  port: number;
  stop: () => Promise<void>;
}

/**
 * Starts a TLS-only cluster in `<base>/<name>` serving `serverCert`, trusting `clientCa` for
 * client certificates; user `certuser` must present one (clientcert=verify-full).
 */
async function startCluster(base: string, name: string, serverCert: IssuedCert, clientCa: TestCa): Promise<Cluster> {
  const bin = pgBinDir();
  const dir = path.join(base, name);
  const data = path.join(dir, 'data');
  fs.mkdirSync(dir, { mode: 0o700 });
  for (const [from, to] of [[serverCert.certPath, 'server.crt'], [serverCert.keyPath, 'server.key'], [clientCa.certPath, 'client-ca.crt']] as const) {
    fs.copyFileSync(from, path.join(dir, to));
  }
  fs.chmodSync(path.join(dir, 'server.key'), 0o600);
  await run('chown', ['-R', 'postgres:postgres', dir]).catch(() => undefined);
  await asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  fs.writeFileSync(
    path.join(data, 'pg_hba.conf'),
    [
      'local all all trust',
      'hostssl all certuser 127.0.0.1/32 trust clientcert=verify-full',
      'hostssl all all 127.0.0.1/32 trust',
      'hostnossl all all 127.0.0.1/32 reject',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const opts = [
    `-c ssl=on`, `-c ssl_cert_file=${dir}/server.crt`, `-c ssl_key_file=${dir}/server.key`, `-c ssl_ca_file=${dir}/client-ca.crt`,
    `-c listen_addresses=127.0.0.1`, `-c port=${port}`, `-c unix_socket_directories=${dir}`, `-c fsync=off`,
  ].join(' ');
  await asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-o', opts, '-l', path.join(dir, 'log'), '-w', 'start']);
  await asPostgres(path.join(bin, 'psql'), ['-h', dir, '-p', String(port), '-U', 'postgres', '-c', 'CREATE ROLE certuser LOGIN SUPERUSER']);
  return { port, stop: () => asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']) };
}

/** Opens the configured database and reports whether the session is encrypted. */
async function connectWith(env: Record<string, string>): Promise<{ ssl: boolean; user: string }> {
  const config = loadConfig({ NODE_ENV: 'test', LABELVAULT_DATA_DIR: tmp, ...env });
  const { db } = openDatabase(config.database);
  try {
    const { rows } = await sql<{ ssl: boolean; user: string }>`select s.ssl, current_user as user from pg_stat_ssl s where s.pid = pg_backend_pid()`.execute(db);
    return rows[0]!;
  } finally {
    await db.destroy();
  }
}

let tmp: string;
let ca: TestCa;
let otherCa: TestCa;
let client: IssuedCert;
let good: Cluster;
let wrongHost: Cluster;

beforeAll(async () => {
  tmp = await makeTempDir('lv-pg-tls-');
  fs.chmodSync(tmp, 0o755);
  ca = await makeCa(tmp);
  otherCa = await makeCa(tmp, 'other-ca');
  client = await ca.issue('certuser', { client: true });
  const server = await ca.issue('server', { dns: ['localhost'], ip: ['127.0.0.1'] });
  const wrongName = await ca.issue('wrong-name', { dns: ['not-this-host'] });
  [good, wrongHost] = await Promise.all([startCluster(tmp, 'pg-good', server, ca), startCluster(tmp, 'pg-wrong-host', wrongName, ca)]);
});

afterAll(async () => {
  await Promise.allSettled([good?.stop(), wrongHost?.stop()]);
  if (tmp) await removeTempDir(tmp);
});

const url = (host: string, port: number, user = 'postgres', query = '') => `postgres://${user}@${host}:${port}/postgres${query}`;

describe('PostgreSQL TLS connections', () => {
  it('verify-full with the right CA connects over TLS, by IP address and by name (both in the SAN)', async () => {
    expect(await connectWith({ DATABASE_URL: url('127.0.0.1', good.port), POSTGRE_SSL_MODE: 'verify-full', POSTGRE_SSLROOTCERT: ca.certPath })).toEqual({ ssl: true, user: 'postgres' });
    expect(await connectWith({ DATABASE_URL: url('localhost', good.port, 'postgres', `?sslmode=verify-full&sslrootcert=${ca.certPath}`) })).toEqual({ ssl: true, user: 'postgres' });
  });

  it('CUSTOM_CA_CERTS is trusted beside the built-in roots; without it the private CA is refused', async () => {
    expect(await connectWith({ DATABASE_URL: url('127.0.0.1', good.port), POSTGRE_SSL_MODE: 'verify-full', CUSTOM_CA_CERTS: ca.certPath })).toMatchObject({ ssl: true });
    await expect(connectWith({ DATABASE_URL: url('127.0.0.1', good.port), POSTGRE_SSL_MODE: 'verify-full' })).rejects.toThrow(/self.signed|unable to get local issuer/i);
  });

  it('a wrong CA is refused (verify-full and verify-ca), while require (no verification) still connects', async () => {
    const env = { DATABASE_URL: url('127.0.0.1', good.port), POSTGRE_SSLROOTCERT: otherCa.certPath };
    await expect(connectWith({ ...env, POSTGRE_SSL_MODE: 'verify-full' })).rejects.toThrow(/self.signed|unable to get local issuer|unable to verify/i);
    await expect(connectWith({ ...env, POSTGRE_SSL_MODE: 'verify-ca' })).rejects.toThrow(/self.signed|unable to get local issuer|unable to verify/i);
    // Custom CAs for other services must not widen an explicit POSTGRE_SSLROOTCERT.
    await expect(connectWith({ ...env, POSTGRE_SSL_MODE: 'verify-full', CUSTOM_CA_CERTS: ca.certPath })).rejects.toThrow(/self.signed|unable to get local issuer|unable to verify/i);
    expect(await connectWith({ DATABASE_URL: url('127.0.0.1', good.port), POSTGRE_SSL_MODE: 'require' })).toMatchObject({ ssl: true });
  });

  it('a certificate for another host name is refused by verify-full but accepted by verify-ca (chain only)', async () => {
    const env = { DATABASE_URL: url('127.0.0.1', wrongHost.port), POSTGRE_SSLROOTCERT: ca.certPath };
    await expect(connectWith({ ...env, POSTGRE_SSL_MODE: 'verify-full' })).rejects.toThrow(/not in the cert's altnames|does not match/i);
    await expect(connectWith({ ...env, DATABASE_URL: url('localhost', wrongHost.port), POSTGRE_SSL_MODE: 'verify-full' })).rejects.toThrow(/not in the cert's altnames|does not match/i);
    expect(await connectWith({ ...env, POSTGRE_SSL_MODE: 'verify-ca' })).toMatchObject({ ssl: true });
  });

  it('plain connections are refused by this TLS-only cluster (sslmode=disable fails)', async () => {
    await expect(connectWith({ DATABASE_URL: url('127.0.0.1', good.port, 'postgres', '?sslmode=disable') })).rejects.toThrow(/no encryption|pg_hba/i);
  });

  it('a client certificate (POSTGRE_SSLCERT/KEY) authenticates a user that requires one; without it the user is refused', async () => {
    const env = { DATABASE_URL: url('127.0.0.1', good.port, 'certuser'), POSTGRE_SSL_MODE: 'verify-full', POSTGRE_SSLROOTCERT: ca.certPath };
    expect(await connectWith({ ...env, POSTGRE_SSLCERT: client.certPath, POSTGRE_SSLKEY: client.keyPath })).toEqual({ ssl: true, user: 'certuser' });
    await expect(connectWith(env)).rejects.toThrow(/certificate/i);
  });

  it('the server runs its migrations over verified TLS and serves /health', async () => {
    const server = await startServer('sqlite', { DATABASE_URL: url('localhost', good.port), POSTGRE_SSL_MODE: 'verify-full', CUSTOM_CA_CERTS: ca.certPath });
    try {
      expect(server.deps.dialect).toBe('postgres');
      const { rows } = await sql<{ ssl: boolean }>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`.execute(server.deps.db);
      expect(rows[0]?.ssl).toBe(true);
      const applied = await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(server.deps.db);
      expect(applied.rows[0]!.n).toBeGreaterThan(0);
      expect((await call(server, 'GET', '/health')).body).toEqual({ status: 'UP' });
    } finally {
      await server.close();
    }
  });
});

describe('PostgreSQL TLS settings (config cross-checks)', () => {
  const problemsOf = (env: Record<string, string>): string[] => configProblems({ NODE_ENV: 'test', LABELVAULT_DATA_DIR: tmp, ...env });

  it('takes TLS parameters out of the URL and resolves the mode once', () => {
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: `postgres://u:p@db.example:5432/lv?sslmode=verify-ca&sslrootcert=${ca.certPath}&application_name=lv` });
    expect(config.database).toMatchObject({ kind: 'postgres', sslMode: 'verify-ca', sslRootCert: ca.certPath, host: 'db.example' });
    if (config.database.kind !== 'postgres') throw new Error('expected postgres');
    expect(config.database.url).toBe('postgres://u:p@db.example:5432/lv?application_name=lv');
    expect(config.database.ca).toEqual([ca.cert.trim() + '\n']);
  });

  it('defaults to disable on loopback and verify-full elsewhere', () => {
    expect(loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://u@127.0.0.1/lv' }).database).toMatchObject({ sslMode: 'disable' });
    expect(loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://u@db.example/lv' }).database).toMatchObject({ sslMode: 'verify-full' });
  });

  it('refuses contradictions between DATABASE_URL and POSTGRE_SSL*, and unsupported modes', () => {
    expect(problemsOf({ DATABASE_URL: 'postgres://u@db.example/lv?sslmode=disable', POSTGRE_SSL_MODE: 'verify-full' })).toEqual([
      expect.stringMatching(/^POSTGRE_SSL_MODE: "verify-full" contradicts sslmode=disable in DATABASE_URL/),
    ]);
    expect(problemsOf({ DATABASE_URL: 'postgres://u@db.example/lv?sslmode=verify-full', POSTGRE_SSL_MODE: 'verify-full' })).toEqual([]);
    expect(problemsOf({ DATABASE_URL: `postgres://u@db.example/lv?sslrootcert=${ca.certPath}`, POSTGRE_SSLROOTCERT: otherCa.certPath })).toEqual([
      expect.stringMatching(/^POSTGRE_SSLROOTCERT: .* contradicts sslrootcert=/),
    ]);
    expect(problemsOf({ DATABASE_URL: 'postgres://u@db.example/lv', POSTGRE_SSL_MODE: 'prefer' })[0]).toMatch(/^POSTGRE_SSL_MODE: sslmode=prefer is not supported/);
    expect(problemsOf({ DATABASE_URL: 'postgres://u@db.example/lv?sslmode=bogus' })[0]).toMatch(/^DATABASE_URL: sslmode=bogus/);
    expect(problemsOf({ DATABASE_URL: 'postgres://u@db.example/lv?ssl=true' })[0]).toMatch(/^DATABASE_URL: use sslmode/);
    expect(problemsOf({ DATABASE_URL: 'postgres://u@db.example/lv', POSTGRE_SSL_MODE: 'disable', POSTGRE_SSLROOTCERT: ca.certPath })[0]).toMatch(/^POSTGRE_SSL_MODE: is disable, yet/);
    expect(problemsOf({ DATABASE_URL: 'postgres://u@db.example/lv', POSTGRE_SSLCERT: client.certPath })).toContain('POSTGRE_SSLKEY: required when POSTGRE_SSLCERT is set');
    expect(problemsOf({ DATABASE_URL: 'postgres://u@db.example/lv', POSTGRE_SSLROOTCERT: '/nonexistent/ca.pem' })[0]).toMatch(/^POSTGRE_SSLROOTCERT: cannot read/);
  });

  it('production refuses a non-loopback PostgreSQL without verify-full unless POSTGRE_ALLOW_INSECURE_TRANSPORT=true', () => {
    const prod = { NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(40) };
    for (const mode of ['disable', 'require', 'verify-ca']) {
      expect(problemsOf({ ...prod, DATABASE_URL: `postgres://u@db.example/lv?sslmode=${mode}` }).join('\n')).toMatch(/POSTGRE_SSL_MODE: production with PostgreSQL at db\.example needs verify-full/);
      expect(problemsOf({ ...prod, DATABASE_URL: `postgres://u@db.example/lv?sslmode=${mode}`, POSTGRE_ALLOW_INSECURE_TRANSPORT: 'true' }).join('\n')).not.toMatch(/POSTGRE_SSL_MODE/);
    }
    expect(problemsOf({ ...prod, DATABASE_URL: 'postgres://u@db.example/lv?sslmode=verify-full' }).join('\n')).not.toMatch(/POSTGRE_SSL_MODE/);
    expect(problemsOf({ ...prod, DATABASE_URL: 'postgres://u@127.0.0.1/lv?sslmode=disable' }).join('\n')).not.toMatch(/POSTGRE_SSL_MODE/);
  });
});
