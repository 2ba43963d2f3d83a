/**
 * Export storages follow every path that writes or deletes annotations, not only the single
 * annotation routes: an import with annotations (one bulk job, not one per annotation), the
 * data-manager actions (delete annotations, delete tasks, predictions → annotations), bulk
 * annotate, DELETE /api/tasks/{id} and deleting all tasks of a project. Objects are removed only
 * from storages with `can_delete_objects`. A target that cannot be written ends, after the
 * retries, with the storage `failed` and a traceback naming what was not exported. Local-files
 * storages (the cheapest target) on SQLite and PostgreSQL, and s3rver (an S3 emulator on
 * loopback) for one round trip.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer, waitFor } from '../harness.js';
import { makeTeam, type Member } from '../factories.js';
import { startS3rver, type S3rver } from './s3rver.js';

const CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>';
const choice = (v: string) => [{ id: `r${v}`, from_name: 'c', to_name: 'text', type: 'choices', value: { choices: [v] } }];
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-export-hooks-'));
let s3: S3rver;

beforeAll(async () => {
  s3 = await startS3rver();
}, 60_000);
afterAll(async () => {
  await s3?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Waits until `fn` answers `want` (and returns it). */
const until = <T>(fn: () => Promise<T> | T, want: T, ms?: number) => waitFor(async () => ((await fn()) === want ? want : undefined), ms);
const files = (dir: string) => fs.readdirSync(dir).filter((f) => !f.endsWith('~part'));

describe.each(DIALECTS)('export storages follow annotation changes on %s', (dialect) => {
  let s: TestServer;
  let manager: Member;
  let workspace: number;
  let enqueued: string[] = [];
  const base = path.join(root, dialect);

  beforeAll(async () => {
    fs.mkdirSync(base);
    s = await startServer(dialect, { LOCAL_FILES_SERVING_ENABLED: 'true', LOCAL_FILES_DOCUMENT_ROOT: base, SSRF_PROTECTION_ENABLED: 'true', SSRF_ALLOWED_HOSTS: '127.0.0.1' });
    const team = await makeTeam(s.deps);
    manager = team.manager;
    workspace = team.workspaceId;
    // Counts the jobs queued, to prove a bulk change queues a few jobs, not one per annotation.
    const runner = s.deps.jobs;
    const enqueue = runner.enqueue.bind(runner);
    runner.enqueue = (name, payload, opts) => {
      enqueued.push(name);
      return enqueue(name, payload, opts);
    };
  }, 60_000);
  afterAll(async () => s?.close());

  const project = async () => (await call(s, 'POST', '/api/projects', { token: manager.token, body: { title: 'Export', label_config: CONFIG, workspace } })).body.id as number;
  /** A local-files export storage writing to a new folder; answers the storage and its folder. */
  const localTarget = async (p: number, name: string, canDelete: boolean) => {
    const dir = path.join(base, name);
    fs.mkdirSync(dir);
    const r = await call(s, 'POST', '/api/storages/export/localfiles', { token: manager.token, body: { project: p, path: dir, can_delete_objects: canDelete } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return { id: r.body.id as number, dir };
  };
  const importTasks = async (p: number, tasks: unknown[]) => {
    const r = await call(s, 'POST', `/api/projects/${p}/import`, { token: manager.token, body: tasks });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };
  const taskIds = async (p: number) => (await s.deps.db.selectFrom('tasks').select('id').where('project_id', '=', p).orderBy('id').execute()).map((t) => t.id);
  const annotationIds = async (p: number) => (await s.deps.db.selectFrom('annotations').select('id').where('project_id', '=', p).orderBy('id').execute()).map((a) => String(a.id));
  const action = async (p: number, id: string, included: number[]) => {
    const r = await call(s, 'POST', `/api/dm/actions?id=${id}&project=${p}`, { token: manager.token, body: { selectedItems: { all: false, included } } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  };
  const exportJobs = () => enqueued.filter((n) => n.startsWith('storage.export'));

  it('an import with annotations writes one object per annotation through one job; deleting annotations removes them where allowed', async () => {
    const p = await project();
    const keeps = await localTarget(p, 'keeps', false);
    const deletes = await localTarget(p, 'deletes', true);
    enqueued = [];
    const tasks = Array.from({ length: 1200 }, (_, i) => ({ data: { text: `t${i}` }, annotations: i % 600 === 0 ? [{ result: choice('A') }, { result: choice('B') }] : [{ result: choice('A') }] }));
    expect((await importTasks(p, [...tasks, { data: { text: 'bare' } }])).annotation_count).toBe(1202);
    expect(exportJobs()).toEqual(['storage.export_annotations']);
    const ids = await annotationIds(p);
    await until(() => files(deletes.dir).length, 1202);
    await until(() => files(keeps.dir).length, 1202);
    expect(files(deletes.dir).sort()).toEqual([...ids].sort());
    const doc = JSON.parse(fs.readFileSync(path.join(deletes.dir, ids[0]!), 'utf8'));
    const first = (await taskIds(p))[0]!;
    expect(doc).toMatchObject({ id: Number(ids[0]), result: choice('A'), task: { id: first, project: p, data: { text: 't0' } } });

    enqueued = [];
    await action(p, 'delete_tasks_annotations', (await taskIds(p)).slice(0, 10));
    expect(exportJobs()).toEqual(['storage.export_annotations']);
    await until(() => files(deletes.dir).length, 1191);
    expect(files(deletes.dir)).not.toContain(ids[0]);
    expect(files(keeps.dir).length).toBe(1202); // without can_delete_objects nothing is removed
    const all = await s.deps.db.selectFrom('export_storages').select(['status', 'traceback']).where('project_id', '=', p).execute();
    expect(all.every((r) => r.status !== 'failed')).toBe(true);
  });

  it('deleting tasks (one, a data-manager selection, all of the project) removes their annotations\u2019 objects', async () => {
    const p = await project();
    const target = await localTarget(p, 'tasks-gone', true);
    await importTasks(p, Array.from({ length: 30 }, (_, i) => ({ data: { text: `t${i}` }, annotations: [{ result: choice('A') }] })));
    await until(() => files(target.dir).length, 30);
    const tasks = await taskIds(p);
    expect((await call(s, 'DELETE', `/api/tasks/${tasks[0]}`, { token: manager.token })).status).toBe(204);
    await until(() => files(target.dir).length, 29);
    await action(p, 'delete_tasks', tasks.slice(1, 11));
    await until(() => files(target.dir).length, 19);
    expect((await call(s, 'DELETE', `/api/projects/${p}/tasks`, { token: manager.token })).status).toBe(204);
    await until(() => files(target.dir).length, 0);
  });

  it('predictions turned into annotations and bulk annotations are written', async () => {
    const p = await project();
    const target = await localTarget(p, 'created', true);
    await importTasks(p, Array.from({ length: 5 }, (_, i) => ({ data: { text: `t${i}` }, predictions: [{ result: choice('B'), model_version: 'm1' }] })));
    const tasks = await taskIds(p);
    await action(p, 'predictions_to_annotations', tasks);
    await until(() => files(target.dir).length, 5);
    const bulk = await call(s, 'POST', '/api/annotations/bulk', { token: manager.token, body: { project: p, tasks: tasks.slice(0, 3), result: choice('A') } });
    expect(bulk.status, JSON.stringify(bulk.body)).toBe(201);
    await until(() => files(target.dir).length, 8);
    expect(files(target.dir).sort()).toEqual((await annotationIds(p)).sort());
  });

  it('single annotation routes write, rewrite and remove; a manual sync writes every annotation', async () => {
    const p = await project();
    const target = await localTarget(p, 'single', true);
    await importTasks(p, [{ data: { text: 'one' } }, { data: { text: 'two' }, annotations: [{ result: choice('B') }] }]);
    await until(() => files(target.dir).length, 1);
    const [task] = await taskIds(p);
    const a = await call(s, 'POST', `/api/tasks/${task}/annotations`, { token: manager.token, body: { result: choice('A') } });
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    const read = () => (fs.existsSync(path.join(target.dir, String(a.body.id))) ? JSON.parse(fs.readFileSync(path.join(target.dir, String(a.body.id)), 'utf8')) : null);
    expect((await waitFor(() => read() ?? undefined)).result).toEqual(choice('A'));
    expect((await call(s, 'PATCH', `/api/annotations/${a.body.id}`, { token: manager.token, body: { result: choice('B') } })).status).toBe(200);
    await until(() => read()?.result[0].value.choices[0], 'B'); // (PostgreSQL's jsonb reorders keys: compare the value)
    // Changes in quick succession (their jobs overlap): the object ends as the last change.
    for (const v of ['A', 'B', 'A', 'B', 'A']) expect((await call(s, 'PATCH', `/api/annotations/${a.body.id}`, { token: manager.token, body: { result: choice(v) } })).status).toBe(200);
    await until(async () => ((await s.deps.jobs.counts()).waiting + (await s.deps.jobs.counts()).active + (await s.deps.jobs.counts()).delayed === 0 ? 'idle' : 'busy'), 'idle');
    expect(read()?.result[0].value.choices[0]).toBe('A');
    expect((await call(s, 'DELETE', `/api/annotations/${a.body.id}`, { token: manager.token })).status).toBe(204);
    await until(read, null);
    for (const f of files(target.dir)) fs.rmSync(path.join(target.dir, f));
    expect((await call(s, 'POST', `/api/storages/export/localfiles/${target.id}/sync`, { token: manager.token })).status).toBe(200);
    const done = await waitFor(async () => {
      const g = await call(s, 'GET', `/api/storages/export/localfiles/${target.id}`, { token: manager.token });
      return ['completed', 'failed'].includes(g.body.status) ? g.body : undefined;
    });
    expect(done).toMatchObject({ status: 'completed', last_sync_count: 1, traceback: null });
    expect(files(target.dir)).toEqual(await annotationIds(p));
  });

  it('a target that cannot be written is retried, then the storage shows failed with a traceback', async () => {
    const p = await project();
    const target = await localTarget(p, 'broken', true);
    const healthy = await localTarget(p, 'healthy', true);
    // The folder becomes a link out of the document root: every write is refused.
    fs.rmSync(target.dir, { recursive: true });
    fs.symlinkSync(os.tmpdir(), target.dir);
    await importTasks(p, [{ data: { text: 'x' }, annotations: [{ result: choice('A') }] }]);
    await until(() => files(healthy.dir).length, 1);
    const failed = await waitFor(async () => {
      const g = await call(s, 'GET', `/api/storages/export/localfiles/${target.id}`, { token: manager.token });
      return g.body.status === 'failed' ? g.body : undefined;
    }, 40_000);
    expect(failed.traceback).toMatch(/annotations of tasks .* not exported: storage \d+: .*outside/);
    const ok = await call(s, 'GET', `/api/storages/export/localfiles/${healthy.id}`, { token: manager.token });
    expect(ok.body.status).not.toBe('failed');
  }, 60_000);

  it('S3: imported annotations appear as objects; deleting them in the data manager removes the objects', async () => {
    const bucket = `hooks-${dialect}`;
    await s3.createBucket(bucket);
    const p = await project();
    const r = await call(s, 'POST', '/api/storages/export/s3', { token: manager.token, body: { project: p, bucket, prefix: 'out', s3_endpoint: s3.endpoint, can_delete_objects: true, aws_access_key_id: s3.accessKeyId, aws_secret_access_key: s3.secretAccessKey } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    await importTasks(p, Array.from({ length: 40 }, (_, i) => ({ data: { text: `t${i}` }, annotations: [{ result: choice('A') }] })));
    const keys = async () => ((await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'out/' }))).Contents ?? []).map((o) => o.Key!).sort();
    await until(async () => (await keys()).length, 40);
    expect(await keys()).toEqual((await annotationIds(p)).map((id) => `out/${id}`).sort());
    await action(p, 'delete_tasks_annotations', await taskIds(p));
    await until(async () => (await keys()).length, 0);
  });
});
