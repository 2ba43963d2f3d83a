/**
 * Scale-out building blocks on one node: GET /health (liveness only: 200 while the database and
 * Redis are down), GET /ready (database, migrations, Redis, the data folder and the file store;
 * never a project's storage), Prometheus /metrics behind METRICS_TOKEN (with the import,
 * export and storage-sync counters), the rate limit shared through Redis between two app nodes,
 * and the start-up lock that keeps two nodes from migrating at once. Real SQLite, PostgreSQL and
 * the local Redis (127.0.0.1:6379, a unique key prefix per run).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { openDeps } from '../../src/deps.js';
import { checkRole, withStartupLock } from '../../src/processes.js';
import { call, createPgDatabase, DIALECTS, PG_ADMIN_URL, startServer, type TestServer } from '../harness.js';
import { makeOrganization, makeTeam } from '../factories.js';
import { startS3rver } from '../storage/s3rver.js';
import { configProblems } from '../config-problems.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `lvtest-probes-${randomBytes(4).toString('hex')}`;
const TOKEN = 'm'.repeat(40);
const CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>';

/** The value of one series (`name` or `name{labels}`) in Prometheus text; undefined when absent. */
function valueOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Polls until `done` is true (20 s at most). */
async function waitUntil(done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Servers started with REDIS_URL create the job queue's keys under the run's prefix: remove them.
afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe.each(DIALECTS)('readiness and metrics on %s', (dialect) => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it('GET /ready is 200 with the database migrated and Redis up, 503 naming Redis when it is down', async () => {
    const up = await startServer(dialect, { REDIS_URL, REDIS_KEY_PREFIX: PREFIX });
    servers.push(up);
    for (const path of ['/ready', '/ready/']) {
      expect(await call(up, 'GET', path)).toMatchObject({ status: 200, body: { status: 'READY', checks: { database: 'up', redis: 'up' } } });
    }
    const plain = await startServer(dialect);
    servers.push(plain);
    expect((await call(plain, 'GET', '/ready')).body).toEqual({ status: 'READY', checks: { database: 'up', redis: 'not_configured', data_dir: 'up', file_storage: 'up' } });
    // Nothing listens on port 1: Redis is down, the node is not ready (but alive).
    const down = await startServer(dialect, { REDIS_URL: 'redis://127.0.0.1:1', REDIS_KEY_PREFIX: PREFIX });
    servers.push(down);
    expect(await call(down, 'GET', '/ready')).toMatchObject({ status: 503, body: { status: 'NOT_READY', checks: { database: 'up', redis: 'down', data_dir: 'up', file_storage: 'up' } } });
    expect(await call(down, 'GET', '/health')).toEqual(expect.objectContaining({ status: 200, body: { status: 'UP' } }));
  }, 60_000);

  it('GET /ready is 503 while migrations are pending', async () => {
    const s = await startServer(dialect);
    servers.push(s);
    await s.deps.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '0010-storages' as never).execute();
    expect(await call(s, 'GET', '/ready')).toMatchObject({ status: 503, body: { checks: { database: 'migrations_pending' } } });
    expect((await call(s, 'GET', '/health')).status).toBe(200);
  });

  it('GET /metrics is 404 while metrics are off, 401 without or with a wrong bearer token, and Prometheus text with it', async () => {
    const off = await startServer(dialect);
    servers.push(off);
    expect((await call(off, 'GET', '/metrics', { bearer: TOKEN })).status).toBe(404);

    const on = await startServer(dialect, { METRICS_ENABLED: 'true', METRICS_TOKEN: TOKEN });
    servers.push(on);
    const org = await makeOrganization(on.deps);
    expect((await call(on, 'GET', '/api/projects', { token: org.owner.token })).status).toBe(200);
    const anonymous = await call(on, 'GET', '/metrics');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await call(on, 'GET', '/metrics', { bearer: 'x'.repeat(40) })).status).toBe(401);
    // A user's API token is not the metrics token.
    expect((await call(on, 'GET', '/metrics', { token: org.owner.token })).status).toBe(401);
    const res = await fetch(`${on.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/labelvault_http_request_duration_seconds_count\{method="GET",route="\/api\/projects",status_code="200"\} 1/);
    expect(text).toMatch(/labelvault_job_queue_depth\{state="waiting"\} 0/);
    expect(text).toContain('# TYPE labelvault_job_duration_seconds histogram');
    expect(text).not.toContain(String(org.owner.token));
  });

  it('counts tasks imported, exported (download and snapshot) and storage objects synced, once committed', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-probes-lf-'));
    fs.mkdirSync(path.join(root, 'tasks'));
    fs.writeFileSync(path.join(root, 'tasks', 'one.json'), JSON.stringify({ data: { text: 'from storage' } }));
    fs.writeFileSync(path.join(root, 'tasks', 'two.json'), JSON.stringify([{ text: 'a' }, { text: 'b' }]));
    const s = await startServer(dialect, { METRICS_ENABLED: 'true', METRICS_TOKEN: TOKEN, LOCAL_FILES_SERVING_ENABLED: 'true', LOCAL_FILES_DOCUMENT_ROOT: root });
    servers.push(s);
    const scrape = async () => (await call(s, 'GET', '/metrics', { bearer: TOKEN })).body as string;
    const { manager, workspaceId } = await makeTeam(s.deps);
    const project = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { title: 'Metrics', label_config: CONFIG, workspace: workspaceId } })).body.id as number;
    let text = await scrape();
    expect(valueOf(text, 'labelvault_tasks_imported_total')).toBe(0);
    expect(valueOf(text, 'labelvault_tasks_exported_total{via="download"}')).toBe(0);
    expect(valueOf(text, 'labelvault_tasks_exported_total{via="snapshot"}')).toBe(0);

    const tasks = [{ text: 'x' }, { text: 'y' }, { text: 'z' }];
    expect((await call(s, 'POST', `/api/projects/${project}/import`, { token: manager.token, body: tasks })).status).toBe(201);
    // A refused import commits nothing and counts nothing.
    expect((await call(s, 'POST', `/api/projects/${project}/import`, { token: manager.token, body: [{ text: 'ok' }, { data: 'not an object' }] })).status).toBe(400);
    expect(valueOf(await scrape(), 'labelvault_tasks_imported_total')).toBe(3);

    const download = await fetch(`${s.url}/api/projects/${project}/export?exportType=JSON&download_all_tasks=true`, { headers: { authorization: `Token ${manager.token}` } });
    expect(((await download.json()) as unknown[]).length).toBe(3);
    const snapshot = await call(s, 'POST', `/api/projects/${project}/exports/`, { token: manager.token, body: {} });
    expect(snapshot.status).toBe(201);
    await waitUntil(async () => (await call(s, 'GET', `/api/projects/${project}/exports/${snapshot.body.id}`, { token: manager.token })).body.status === 'completed');
    text = await scrape();
    expect(valueOf(text, 'labelvault_tasks_exported_total{via="download"}')).toBe(3);
    expect(valueOf(text, 'labelvault_tasks_exported_total{via="snapshot"}')).toBe(3);

    const storage = await call(s, 'POST', '/api/storages/localfiles', { token: manager.token, body: { project, path: path.join(root, 'tasks'), use_blob_urls: false } });
    expect(storage.status, JSON.stringify(storage.body)).toBe(201);
    expect((await call(s, 'POST', `/api/storages/localfiles/${storage.body.id}/sync`, { token: manager.token })).status).toBe(200);
    await waitUntil(async () => (await call(s, 'GET', `/api/storages/localfiles/${storage.body.id}`, { token: manager.token })).body.status === 'completed');
    text = await scrape();
    expect(valueOf(text, 'labelvault_storage_objects_synced_total{kind="localfiles"}')).toBe(2);
    expect(valueOf(text, 'labelvault_tasks_imported_total')).toBe(6);
    fs.rmSync(root, { recursive: true, force: true });
  }, 60_000);
});

describe('liveness during a database outage', () => {
  it('GET /health stays 200 UP while PostgreSQL refuses connections (no restart would cure that); /ready is 503 naming the database', async () => {
    const s = await startServer('postgres');
    const name = new URL(s.env.DATABASE_URL!).pathname.slice(1);
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      expect(await call(s, 'GET', '/ready')).toMatchObject({ status: 200, body: { checks: { database: 'up' } } });
      // The outage: no new connection is accepted and the pool's open ones are cut.
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      expect(await call(s, 'GET', '/ready')).toMatchObject({ status: 503, body: { status: 'NOT_READY', checks: { database: 'down' } } });
      expect(await call(s, 'GET', '/health')).toEqual(expect.objectContaining({ status: 200, body: { status: 'UP' } }));
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await waitUntil(async () => (await call(s, 'GET', '/ready')).status === 200);
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await admin.end();
      await s.close();
    }
  }, 60_000);
});

describe('readiness of the server’s own storage', () => {
  it('is 503 naming data_dir while LABELVAULT_DATA_DIR refuses writes, and ignores a project storage that is gone', async () => {
    // PostgreSQL, so the database does not live in the data folder this test takes away.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-probes-ready-'));
    fs.mkdirSync(path.join(root, 'images'));
    const s = await startServer('postgres', { LOCAL_FILES_SERVING_ENABLED: 'true', LOCAL_FILES_DOCUMENT_ROOT: root });
    try {
      const ready = () => call(s, 'GET', '/ready');
      expect(await ready()).toMatchObject({ status: 200, body: { checks: { database: 'up', redis: 'not_configured', data_dir: 'up', file_storage: 'up' } } });
      // A customer's storage going away never takes the node out of rotation.
      const { manager, workspaceId } = await makeTeam(s.deps);
      const project = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { title: 'Ready', label_config: CONFIG, workspace: workspaceId } })).body.id as number;
      const storage = await call(s, 'POST', '/api/storages/localfiles', { token: manager.token, body: { project, path: path.join(root, 'images') } });
      expect(storage.status, JSON.stringify(storage.body)).toBe(201);
      fs.rmSync(root, { recursive: true, force: true });
      expect((await ready()).status).toBe(200);
      // The data folder's volume is gone (a file in its place: root bypasses permission bits).
      const kept = `${s.dataDir}.kept`;
      fs.renameSync(s.dataDir, kept);
      fs.writeFileSync(s.dataDir, 'not a folder');
      // FILE_STORAGE=local: the export file store is that folder too.
      expect(await ready()).toMatchObject({ status: 503, body: { status: 'NOT_READY', checks: { database: 'up', data_dir: 'down', file_storage: 'down' } } });
      expect((await call(s, 'GET', '/health')).status).toBe(200);
      fs.rmSync(s.dataDir);
      fs.renameSync(kept, s.dataDir);
      expect(await ready()).toMatchObject({ status: 200, body: { status: 'READY', checks: { data_dir: 'up', file_storage: 'up' } } });
      // The probe leaves no file behind.
      expect(fs.readdirSync(s.dataDir).filter((f) => f.startsWith('.ready-'))).toEqual([]);
    } finally {
      await s.close();
    }
  }, 60_000);

  it('with FILE_STORAGE=s3, is 503 naming file_storage while the bucket is missing or unreachable', async () => {
    const s3 = await startS3rver();
    await s3.createBucket('lv-ready');
    const bucketEnv = (bucket: string) => ({
      FILE_STORAGE: 's3',
      FILE_STORAGE_S3_BUCKET: bucket,
      FILE_STORAGE_S3_PREFIX: 'lv/',
      FILE_STORAGE_S3_ENDPOINT: s3.endpoint,
      FILE_STORAGE_S3_ACCESS_KEY_ID: s3.accessKeyId,
      FILE_STORAGE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    });
    const s = await startServer('sqlite', bucketEnv('lv-ready'));
    const missing = await startServer('sqlite', bucketEnv('lv-not-there'));
    let stopped = false;
    try {
      // The first probe may outlast its 2 s while the S3 SDK loads (it goes on and the next one
      // finds it done): a node can answer 503 for a moment after start, never 200 too early.
      await waitUntil(async () => (await call(s, 'GET', '/ready')).status === 200);
      expect(await call(s, 'GET', '/ready')).toMatchObject({ status: 200, body: { checks: { data_dir: 'up', file_storage: 'up' } } });
      // The probe object is removed again.
      expect((await s3.client.send(new ListObjectsV2Command({ Bucket: 'lv-ready' }))).KeyCount ?? 0).toBe(0);
      expect(await call(missing, 'GET', '/ready')).toMatchObject({ status: 503, body: { checks: { data_dir: 'up', file_storage: 'down' } } });
      await s3.stop();
      stopped = true;
      expect(await call(s, 'GET', '/ready')).toMatchObject({ status: 503, body: { status: 'NOT_READY', checks: { database: 'up', data_dir: 'up', file_storage: 'down' } } });
    } finally {
      await s.close();
      await missing.close();
      if (!stopped) await s3.stop(); // once: a second stop() would wait for an exit already past
    }
  }, 60_000);
});

describe('metrics and role settings', () => {
  const problemsOf = (env: Record<string, string>): string[] => configProblems({ NODE_ENV: 'test', ...env });

  it('refuses metrics without a token or with a short one, and serve/worker without Redis or a shared secret key', () => {
    expect(problemsOf({ METRICS_ENABLED: 'true' })).toEqual([expect.stringMatching(/^METRICS_TOKEN: required/)]);
    expect(problemsOf({ METRICS_ENABLED: 'true', METRICS_TOKEN: 'short' })).toEqual([expect.stringMatching(/^METRICS_TOKEN: must be at least 32/)]);
    expect(problemsOf({ METRICS_ENABLED: 'true', METRICS_TOKEN: TOKEN })).toEqual([]);
    expect(problemsOf({ REDIS_KEY_PREFIX: 'a b' })).toEqual([expect.stringMatching(/^REDIS_KEY_PREFIX:/)]);
    expect(problemsOf({ WORKER_CONCURRENCY: '0' })).toEqual([expect.stringMatching(/^WORKER_CONCURRENCY:/)]);
    const roleProblems = (env: Record<string, string>, role: 'http' | 'worker') => {
      try {
        checkRole(loadConfig({ NODE_ENV: 'test', ...env }), role);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(roleProblems({}, 'http')).toEqual([expect.stringMatching(/^REDIS_URL: required by labelvault serve/), expect.stringMatching(/^SECRET_KEY: required/)]);
    expect(roleProblems({ REDIS_URL }, 'worker')).toEqual([expect.stringMatching(/^SECRET_KEY: required by labelvault worker/)]);
    expect(roleProblems({ REDIS_URL, SECRET_KEY: 's'.repeat(40) }, 'worker')).toEqual([]);
    expect(() => checkRole(loadConfig({ NODE_ENV: 'test' }), 'all')).not.toThrow();
  });
});

describe('shared state between app nodes', () => {
  it('counts the API rate limit in Redis across two nodes (and per node without Redis)', async () => {
    const prefix = `${PREFIX}-rl`;
    const env = { REDIS_URL, REDIS_KEY_PREFIX: prefix, API_RATE_LIMIT_PER_MINUTE: '5' };
    const a = await startServer('sqlite', env);
    const b = await startServer('sqlite', env);
    const lone = await startServer('sqlite', { API_RATE_LIMIT_PER_MINUTE: '5' });
    try {
      // Start well inside a one-minute window, so the count is not reset half-way.
      const toBoundary = 60_000 - (Date.now() % 60_000);
      if (toBoundary < 4_000) await new Promise((resolve) => setTimeout(resolve, toBoundary + 100));
      const statuses: number[] = [];
      for (const s of [a, b, a, b, a, b]) statuses.push((await call(s, 'GET', '/api/version')).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      const limited = await call(a, 'GET', '/api/version');
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // Probes are never counted.
      expect((await call(a, 'GET', '/ready')).status).toBe(200);
      // Without Redis each process counts alone.
      const loneStatuses: number[] = [];
      for (let i = 0; i < 6; i += 1) loneStatuses.push((await call(lone, 'GET', '/api/version')).status);
      expect(loneStatuses).toEqual([200, 200, 200, 200, 200, 429]);
    } finally {
      const keys = await a.deps.redis!.keys(`${prefix}:*`);
      if (keys.length > 0) await a.deps.redis!.del(...keys);
      for (const s of [a, b, lone]) await s.close();
    }
  });

  it('runs start-up work (migrations, bootstrap) under a PostgreSQL advisory lock: two nodes never overlap', async () => {
    const pg = await createPgDatabase();
    const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: pg.url, LABELVAULT_DATA_DIR: `/tmp/lv-lock-${PREFIX}`, SECRET_KEY: 's'.repeat(40) };
    const one = await openDeps(loadConfig(env), { migrate: false });
    const two = await openDeps(loadConfig(env), { migrate: false });
    try {
      const spans: { node: number; start: number; end: number }[] = [];
      const work = (node: number) => async () => {
        const start = performance.now();
        await new Promise((resolve) => setTimeout(resolve, 150));
        spans.push({ node, start, end: performance.now() });
      };
      await Promise.all([withStartupLock(one, work(1)), withStartupLock(two, work(2))]);
      spans.sort((x, y) => x.start - y.start);
      expect(spans).toHaveLength(2);
      expect(spans[1]!.start).toBeGreaterThanOrEqual(spans[0]!.end);
    } finally {
      await one.close();
      await two.close();
      await pg.drop();
    }
  });
});
