/**
 * Redis over TLS with client certificates, against a real throwaway redis-server (TLS port
 * only, --tls-auth-clients yes; certificates from test/tls-fixtures.ts). Clients come from the
 * one factory, openRedis(config.redis), with config built by loadConfig from REDIS_* settings.
 * A server started on that Redis runs a real job (an export snapshot) through BullMQ there; the
 * same server without its client certificate refuses the export rather than running it in-process.
 * Nothing is skipped: without redis-server the tests fail, saying so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { BullMqJobRunner } from '../../src/jobs/bullmq-runner.js';
import { snapshotJobId } from '../../src/modules/exports/snapshot.job.js';
import { isRedisReady, openRedis, type Redis } from '../../src/redis/redis.js';
import { makeTeam } from '../factories.js';
import { call, startServer, freePort, waitFor } from '../harness.js';
import { makeCa, makeTempDir, removeTempDir, type IssuedCert, type TestCa } from '../tls-fixtures.js';
import { configProblems } from '../config-problems.js';


function redisServerBinary(): string {
  const found = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => fs.existsSync(p));
  if (!found) throw new Error('redis-server not found: install the redis-server package; these TLS tests need a throwaway Redis');
  return found;
}

/** Starts redis-server on a TLS port only, requiring client certificates from `ca`. */
async function startRedis(dir: string, server: IssuedCert, ca: TestCa): Promise<RedisServer> {
  const port = await freePort();
  const proc = spawn(
    redisServerBinary(),
    [
      '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
      '--tls-cert-file', server.certPath, '--tls-key-file', server.keyPath, '--tls-ca-cert-file', ca.certPath,
      '--tls-auth-clients', 'yes', '--save', '', '--appendonly', 'no', '--dir', dir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  proc.stdout!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${log}`)), 10_000);
    proc.stdout!.on('data', () => {
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${log}`)));
  });
  return { port, proc, log: () => log };
}

interface RedisServer {
  port: number;
  proc: ChildProcess;
  /** What redis-server printed so far (it logs why it dropped a TLS client). */
  log: () => string;
}

let tmp: string;
let ca: TestCa;
let otherCa: TestCa;
let client: IssuedCert;
let foreignClient: IssuedCert;
let redis: RedisServer;
let wrongHost: RedisServer;
const opened: Redis[] = [];

beforeAll(async () => {
  tmp = await makeTempDir('lv-redis-tls-');
  ca = await makeCa(tmp);
  otherCa = await makeCa(tmp, 'other-ca');
  client = await ca.issue('client', { client: true });
  foreignClient = await otherCa.issue('foreign-client', { client: true });
  const server = await ca.issue('server', { dns: ['localhost'], ip: ['127.0.0.1'] });
  const wrongName = await ca.issue('wrong-name', { dns: ['not-this-host'] });
  fs.mkdirSync(path.join(tmp, 'r1'));
  fs.mkdirSync(path.join(tmp, 'r2'));
  [redis, wrongHost] = await Promise.all([startRedis(path.join(tmp, 'r1'), server, ca), startRedis(path.join(tmp, 'r2'), wrongName, ca)]);
});

afterAll(async () => {
  for (const c of opened) c.disconnect();
  redis?.proc.kill();
  wrongHost?.proc.kill();
  if (tmp) await removeTempDir(tmp);
});

/** A client from the factory for these settings, with retries off so a refusal is final. */
function clientFor(env: Record<string, string>): Redis {
  const config = loadConfig({ NODE_ENV: 'test', ...env });
  if (!config.redis) throw new Error('REDIS_URL missing');
  const c = openRedis(config.redis, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  opened.push(c);
  return c;
}

/** PINGs and returns the reply, or the reason ioredis reported on its `error` event. */
async function ping(c: Redis): Promise<{ reply?: string; error?: string }> {
  let reason: string | undefined;
  c.on('error', (err: Error) => {
    reason ??= `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`;
  });
  try {
    await c.connect();
    const reply = await c.ping();
    return { reply };
  } catch (err) {
    await new Promise((r) => setTimeout(r, 50));
    return { error: reason ?? (err as Error).message };
  }
}

describe('Redis over TLS', () => {
  it('with the right CA and a client certificate, PING works (by IP address and by name)', async () => {
    const tlsEnv = { REDIS_TLS_CA_FILE: ca.certPath, REDIS_TLS_CERT_FILE: client.certPath, REDIS_TLS_KEY_FILE: client.keyPath };
    expect(await ping(clientFor({ REDIS_URL: `rediss://127.0.0.1:${redis.port}`, ...tlsEnv }))).toEqual({ reply: 'PONG' });
    expect(await ping(clientFor({ REDIS_URL: `rediss://localhost:${redis.port}`, ...tlsEnv }))).toEqual({ reply: 'PONG' });
  });

  it('CUSTOM_CA_CERTS serves as the trust list when REDIS_TLS_CA_FILE is unset', async () => {
    const env = { REDIS_URL: `rediss://127.0.0.1:${redis.port}`, REDIS_TLS_CERT_FILE: client.certPath, REDIS_TLS_KEY_FILE: client.keyPath };
    expect(await ping(clientFor({ ...env, CUSTOM_CA_CERTS: ca.certPath }))).toEqual({ reply: 'PONG' });
    expect((await ping(clientFor(env))).error).toMatch(/SELF_SIGNED|self.signed|unable to get local issuer/i);
  });

  it('without a client certificate the server refuses the connection (reason on the error event)', async () => {
    const before = redis.log().length;
    const result = await ping(clientFor({ REDIS_URL: `rediss://127.0.0.1:${redis.port}`, REDIS_TLS_CA_FILE: ca.certPath }));
    expect(result.reply).toBeUndefined();
    // TLS 1.3: the server drops the client after the handshake, so the client only sees a reset;
    // the server's log says why.
    expect(result.error).toMatch(/certificate required|ECONNRESET/i);
    await new Promise((r) => setTimeout(r, 100));
    expect(redis.log().slice(before)).toMatch(/peer did not return a certificate/);
  });

  it('a client certificate from another CA is refused', async () => {
    const before = redis.log().length;
    const result = await ping(clientFor({ REDIS_URL: `rediss://127.0.0.1:${redis.port}`, REDIS_TLS_CA_FILE: ca.certPath, REDIS_TLS_CERT_FILE: foreignClient.certPath, REDIS_TLS_KEY_FILE: foreignClient.keyPath }));
    expect(result.reply).toBeUndefined();
    // The client sees the server's "unknown CA" alert or, when the reset wins the race, a reset.
    expect(result.error).toMatch(/ALERT_UNKNOWN_CA|ECONNRESET/i);
    await new Promise((r) => setTimeout(r, 100));
    expect(redis.log().slice(before)).toMatch(/certificate verify failed/);
  });

  it('a wrong CA is refused by the client', async () => {
    const result = await ping(clientFor({ REDIS_URL: `rediss://127.0.0.1:${redis.port}`, REDIS_TLS_CA_FILE: otherCa.certPath, REDIS_TLS_CERT_FILE: client.certPath, REDIS_TLS_KEY_FILE: client.keyPath }));
    expect(result.error).toMatch(/SELF_SIGNED|self.signed|unable to get local issuer|unable to verify/i);
  });

  it('a certificate for another host name is refused; REDIS_TLS_SERVERNAME names the expected host', async () => {
    const env = { REDIS_TLS_CA_FILE: ca.certPath, REDIS_TLS_CERT_FILE: client.certPath, REDIS_TLS_KEY_FILE: client.keyPath };
    expect((await ping(clientFor({ REDIS_URL: `rediss://127.0.0.1:${wrongHost.port}`, ...env }))).error).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID|altnames/i);
    expect((await ping(clientFor({ REDIS_URL: `rediss://localhost:${wrongHost.port}`, ...env }))).error).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID|altnames/i);
    expect(await ping(clientFor({ REDIS_URL: `rediss://127.0.0.1:${wrongHost.port}`, ...env, REDIS_TLS_SERVERNAME: 'not-this-host' }))).toEqual({ reply: 'PONG' });
  });

  it('a plain redis:// client cannot talk to the TLS port', async () => {
    const result = await ping(clientFor({ REDIS_URL: `redis://127.0.0.1:${redis.port}` }));
    expect(result.reply).toBeUndefined();
    expect(result.error).toMatch(/ECONNRESET|Connection is closed/i);
  });

  it('GET /ready checks Redis when REDIS_URL is set: up over verified TLS, down when refused (GET /health stays UP: liveness only)', async () => {
    const good = await startServer('sqlite', { REDIS_URL: `rediss://localhost:${redis.port}`, REDIS_TLS_CA_FILE: ca.certPath, REDIS_TLS_CERT_FILE: client.certPath, REDIS_TLS_KEY_FILE: client.keyPath });
    const bad = await startServer('sqlite', { REDIS_URL: `rediss://localhost:${redis.port}`, REDIS_TLS_CA_FILE: ca.certPath });
    try {
      expect(await isRedisReady(good.deps.redis!)).toBe(true);
      expect(await call(good, 'GET', '/ready')).toMatchObject({ status: 200, body: { checks: { redis: 'up' } } });
      expect(await call(bad, 'GET', '/ready')).toMatchObject({ status: 503, body: { status: 'NOT_READY', checks: { redis: 'down' } } });
      for (const s of [good, bad]) expect(await call(s, 'GET', '/health')).toMatchObject({ status: 200, body: { status: 'UP' } });
    } finally {
      await good.close();
      await bad.close();
    }
  });
});

describe('Jobs through BullMQ on TLS Redis with client certificates', () => {
  const CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>';
  const tlsEnv = (withClientCert = true) => ({
    REDIS_URL: `rediss://localhost:${redis.port}`,
    REDIS_TLS_CA_FILE: ca.certPath,
    ...(withClientCert && { REDIS_TLS_CERT_FILE: client.certPath, REDIS_TLS_KEY_FILE: client.keyPath }),
  });

  it('an export snapshot is queued, run and recorded on that Redis, and its file downloads', async () => {
    const s = await startServer('sqlite', { ...tlsEnv(), REDIS_KEY_PREFIX: 'lv-tls-ok' });
    try {
      expect(s.deps.jobs).toBeInstanceOf(BullMqJobRunner);
      const { manager, workspaceId } = await makeTeam(s.deps);
      const project = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { title: 'Over TLS', label_config: CONFIG, workspace: workspaceId } })).body.id as number;
      expect((await call(s, 'POST', `/api/projects/${project}/import`, { token: manager.token, body: [{ text: 'a' }, { text: 'b' }] })).status).toBe(201);
      const created = await call(s, 'POST', `/api/projects/${project}/exports/`, { token: manager.token, body: {} });
      expect(created.status).toBe(201);
      const id = created.body.id as number;
      await waitFor(async () => ((await call(s, 'GET', `/api/projects/${project}/exports/${id}`, { token: manager.token })).body.status === 'completed' ? true : undefined), 20_000);
      const file = await fetch(`${s.url}/api/projects/${project}/exports/${id}/download?exportType=JSON`, { headers: { authorization: `Token ${manager.token}` } });
      expect(((await file.json()) as { data: { text: string } }[]).map((t) => t.data.text).sort()).toEqual(['a', 'b']);
      // The job itself lives on the TLS Redis: its hash and its place in the completed set.
      const reader = clientFor(tlsEnv());
      expect(await ping(reader)).toEqual({ reply: 'PONG' });
      const jobKey = `lv-tls-ok:jobs:${snapshotJobId(id)}`;
      expect(await reader.hget(jobKey, 'name')).toBe('export.snapshot');
      expect(JSON.parse((await reader.hget(jobKey, 'data'))!)).toEqual({ snapshotId: id });
      expect(Number(await reader.hget(jobKey, 'finishedOn'))).toBeGreaterThan(0);
      expect(await reader.zscore('lv-tls-ok:jobs:completed', snapshotJobId(id))).not.toBeNull();
    } finally {
      await s.close();
    }
  });

  it('without its client certificate the server still uses Redis: the export is refused (503) and marked failed, nothing runs in-process', async () => {
    // The job runner reports connection errors as process warnings (src/jobs/bullmq-runner.ts).
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.message);
    process.on('warning', onWarning);
    const s = await startServer('sqlite', { ...tlsEnv(false), REDIS_KEY_PREFIX: 'lv-tls-refused' });
    try {
      expect(s.deps.jobs).toBeInstanceOf(BullMqJobRunner);
      const { manager, workspaceId } = await makeTeam(s.deps);
      const project = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { title: 'Refused', label_config: CONFIG, workspace: workspaceId } })).body.id as number;
      const before = redis.log().length;
      const created = await call(s, 'POST', `/api/projects/${project}/exports/`, { token: manager.token, body: {} });
      expect(created).toMatchObject({ status: 503, body: { code: 'JOBS_UNAVAILABLE' } });
      const [snapshot] = (await call(s, 'GET', `/api/projects/${project}/exports/`, { token: manager.token })).body as { id: number; status: string }[];
      expect(snapshot).toMatchObject({ status: 'failed' });
      expect(redis.log().slice(before)).toMatch(/peer did not return a certificate/);
      const reader = clientFor(tlsEnv());
      expect(await ping(reader)).toEqual({ reply: 'PONG' });
      expect(await reader.keys('lv-tls-refused:*')).toEqual([]);
      expect(warnings.some((m) => /^job queue: .*(certificate required|ECONNRESET)/.test(m))).toBe(true);
    } finally {
      process.off('warning', onWarning);
      await s.close();
    }
  });
});

describe('Redis settings (config cross-checks)', () => {
  const problemsOf = (env: Record<string, string>): string[] => configProblems({ NODE_ENV: 'test', ...env });

  it('refuses TLS settings with a plain URL, half a client certificate, other schemes and unreadable files', () => {
    expect(problemsOf({ REDIS_URL: 'redis://r.example:6379', REDIS_TLS_CA_FILE: ca.certPath })[0]).toMatch(/^REDIS_URL: REDIS_TLS_\* settings are given but the URL is redis:\/\//);
    expect(problemsOf({ REDIS_TLS_CA_FILE: ca.certPath })).toEqual(['REDIS_URL: required when REDIS_TLS_* settings are given']);
    expect(problemsOf({ REDIS_URL: 'rediss://r.example:6379', REDIS_TLS_CERT_FILE: client.certPath })).toContain('REDIS_TLS_KEY_FILE: required when REDIS_TLS_CERT_FILE is set');
    expect(problemsOf({ REDIS_URL: 'http://r.example:6379' })).toEqual(['REDIS_URL: must start with redis:// or rediss:// (TLS)']);
    expect(problemsOf({ REDIS_URL: 'rediss://r.example:6379', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' })[0]).toMatch(/^REDIS_TLS_CA_FILE: cannot read/);
    expect(problemsOf({ REDIS_URL: 'rediss://r.example:6379', REDIS_TLS_CA_FILE: ca.certPath })).toEqual([]);
  });
});
