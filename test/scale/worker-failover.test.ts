/**
 * A worker killed mid-sync is finished by another: one app node (`labelvault serve`) and a worker
 * (`labelvault worker`), real child processes, on a throwaway PostgreSQL database, the local
 * Redis (a key prefix unique to the run, removed afterwards) and an s3rver bucket of a few
 * thousand media objects. The sync of an S3 import storage starts; once some tasks are committed
 * and the sync is not done, the worker gets SIGKILL (no shutdown code runs; its chunk in flight
 * rolls back with its connection). A second worker started then takes the job over once its lock
 * expires (JOBS_STALLED_INTERVAL_MS, 2 s here instead of BullMQ's 30 s) and finishes the sync:
 * one task per object, none missing, none twice, and the storage ends `completed` with the
 * totals of the whole sync.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDeps } from '../../src/app-deps.js';
import { loadConfig } from '../../src/config/config.js';
import { openDeps } from '../../src/deps.js';
import { call, createPgDatabase } from '../harness.js';
import { makeOrganization, makeWorkspace } from '../factories.js';
import { startS3rver, type S3rver } from '../storage/s3rver.js';
import { ready, REDIS_URL, removeRedisKeys, start, stop, type Node, nodeEnv } from './nodes.js';

const OBJECTS = 5000;
const CONFIG = '<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="A"/></Choices></View>';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Puts `count` tiny objects under img/. Through the API s3rver stores a few dozen objects a
 * second on a busy machine, so all but one are written straight into its folder, in the layout
 * s3rver 3.7.1 reads them from (object, metadata and MD5 files); listing and reading still go
 * through s3rver. The one PUT checks that layout: s3rver must list it like the others.
 */
async function fillBucket(s3: S3rver, bucket: string, count: number): Promise<void> {
  const key = (i: number) => `img/${String(i).padStart(5, '0')}.jpg`;
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key(0), Body: 'jpeg 0', ContentType: 'image/jpeg' }));
  const dir = path.join(s3.dir, bucket, 'img');
  for (let i = 1; i < count; i += 1) {
    const file = path.join(dir, `${path.basename(key(i))}._S3rver_`);
    const body = `jpeg ${i}`;
    fs.writeFileSync(`${file}object`, body);
    fs.writeFileSync(`${file}object.md5`, createHash('md5').update(body).digest('hex'));
    fs.writeFileSync(`${file}metadata.json`, JSON.stringify({ 'content-type': 'image/jpeg' }));
  }
}

describe('a worker killed during a storage sync', () => {
  const prefix = `lvtest-failover-${randomBytes(4).toString('hex')}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-failover-'));
  let pg: { url: string; drop: () => Promise<void> };
  let s3: S3rver;
  let env: Record<string, string>;
  let app: Node;
  let worker1: Node;
  let worker2: Node | undefined;
  let deps: AppDeps & { close: () => Promise<void> };
  let token: string;
  let projectId: number;

  beforeAll(async () => {
    [pg, s3] = await Promise.all([createPgDatabase(), startS3rver()]);
    await s3.createBucket('media');
    await fillBucket(s3, 'media', OBJECTS);
    env = nodeEnv(dataDir, {
      DATABASE_URL: pg.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      SECRET_KEY: randomBytes(32).toString('base64url'),
      JOBS_STALLED_INTERVAL_MS: '2000',
      WORKER_CONCURRENCY: '1',
    });
    // The worker waits for the app node to migrate the empty database.
    [app, worker1] = await Promise.all([start('app node', 'serve', env), start('worker 1', 'worker', env)]);
    await Promise.all([ready(app), ready(worker1)]);
    deps = await openDeps(loadConfig({ ...env, PORT: '0', LOG_LEVEL: 'silent' }), { migrate: false, role: 'http' });
    const org = await makeOrganization(deps);
    token = org.owner.token;
    const workspace = await makeWorkspace(deps, org.id, [org.owner]);
    const made = await call(app, 'POST', '/api/projects', { token, body: { title: 'Failover', label_config: CONFIG, workspace } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    projectId = made.body.id;
  }, 240_000);

  afterAll(async () => {
    await deps?.close();
    for (const n of [app, worker1, worker2]) if (n) await stop(n);
    await removeRedisKeys(prefix);
    await s3?.stop();
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  const taskCount = async () => Number((await deps.db.selectFrom('tasks').select((eb) => eb.fn.countAll().as('n')).where('project_id', '=', projectId).executeTakeFirstOrThrow()).n);

  it('is finished by a second worker: one task per object, none missing, none twice', async () => {
    const storage = await call(app, 'POST', '/api/storages/s3', {
      token,
      body: { project: projectId, bucket: 'media', prefix: 'img/', use_blob_urls: true, s3_endpoint: s3.endpoint, aws_access_key_id: s3.accessKeyId, aws_secret_access_key: s3.secretAccessKey },
    });
    expect(storage.status, JSON.stringify(storage.body)).toBe(201);
    const id = storage.body.id as number;
    expect((await call(app, 'POST', `/api/storages/s3/${id}/sync`, { token })).status).toBe(200);

    // Kill worker 1 as soon as its first chunk is committed.
    const deadline = Date.now() + 60_000;
    while ((await taskCount()) === 0 && Date.now() < deadline) await sleep(10);
    expect(await stop(worker1, 'SIGKILL')).toBeNull();
    const atKill = await taskCount();
    expect(atKill).toBeGreaterThan(0);
    expect(atKill, 'the sync was interrupted before it finished').toBeLessThan(OBJECTS);
    expect((await call(app, 'GET', `/api/storages/s3/${id}`, { token })).body.status).toBe('in_progress');
    // Nothing moves while no worker runs.
    await sleep(2_500);
    expect(await taskCount()).toBe(atKill);

    worker2 = await start('worker 2', 'worker', env);
    let row = (await call(app, 'GET', `/api/storages/s3/${id}`, { token })).body;
    const until = Date.now() + 90_000;
    while (row.status !== 'completed' && row.status !== 'failed' && Date.now() < until) {
      await sleep(200);
      row = (await call(app, 'GET', `/api/storages/s3/${id}`, { token })).body;
    }
    expect(row, worker2.output.join('')).toMatchObject({ status: 'completed', traceback: null, last_sync_count: OBJECTS });
    expect(row.meta).toMatchObject({ objects_listed: OBJECTS, objects_synced: OBJECTS, tasks_created: OBJECTS });

    // One task per object; every key linked once, to a task whose data names that key.
    expect(await taskCount()).toBe(OBJECTS);
    const tasks = await deps.db.selectFrom('tasks').select(['id', 'inner_id', 'data']).where('project_id', '=', projectId).execute();
    const images = tasks.map((t) => (typeof t.data === 'string' ? JSON.parse(t.data) : t.data).image as string);
    expect(new Set(images).size).toBe(OBJECTS);
    expect(images.every((u) => /^s3:\/\/media\/img\/\d{5}\.jpg$/.test(u))).toBe(true);
    expect(new Set(tasks.map((t) => Number(t.inner_id))).size).toBe(OBJECTS);
    const links = await deps.db
      .selectFrom('storage_links')
      .innerJoin('tasks', 'tasks.id', 'storage_links.task_id')
      .select(['storage_links.key', 'tasks.data'])
      .where('storage_links.storage_id', '=', id)
      .execute();
    expect(links).toHaveLength(OBJECTS);
    expect(new Set(links.map((l) => l.key)).size).toBe(OBJECTS);
    for (const l of links) expect((typeof l.data === 'string' ? JSON.parse(l.data) : l.data).image).toBe(`s3://media/${l.key}`);
    expect((await call(app, 'GET', `/api/projects/${projectId}`, { token })).body.task_number).toBe(OBJECTS);

    // A re-sync of the unchanged bucket adds nothing.
    expect((await call(app, 'POST', `/api/storages/s3/${id}/sync`, { token })).status).toBe(200);
    const again = Date.now() + 60_000;
    do {
      await sleep(200);
      row = (await call(app, 'GET', `/api/storages/s3/${id}`, { token })).body;
    } while (row.status !== 'completed' && row.status !== 'failed' && Date.now() < again);
    expect(row).toMatchObject({ status: 'completed', last_sync_count: 0 });
    expect(await taskCount()).toBe(OBJECTS);
  }, 240_000);

  it('the survivors stop on SIGTERM with exit code 0', async () => {
    expect(await stop(worker2!)).toBe(0);
    expect(await stop(app)).toBe(0);
  }, 60_000);
});
