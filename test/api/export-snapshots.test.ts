/**
 * Export snapshots over HTTP on SQLite and PostgreSQL: create → poll → download (JSON as stored,
 * other formats converted from the stored file), list, retrieve, convert, delete, failure and
 * start-up recovery — refused cases beside allowed ones.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoverInterruptedJobs } from '../../src/jobs/job-definitions.js';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { makeTeam, type Member } from '../factories.js';

const SENTIMENT = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`;
const choice = (c: string) => ({ id: 'c1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: [c] } });

interface Snapshot {
  id: number;
  status: string;
  md5: string;
  counters: Record<string, number>;
  finished_at: string | null;
  converted_formats: unknown[];
}

describe.each(DIALECTS)('export snapshots on %s', (dialect) => {
  let s: TestServer;
  let manager: Member;
  let workspaceId: number;
  let annotator: Member;
  let other: { id: number; owner: Member };
  beforeAll(async () => {
    s = await startServer(dialect);
    ({ manager, annotator, other, workspaceId } = await makeTeam(s.deps));
  });
  afterAll(async () => s?.close());

  /** A sentiment project: task 1 annotated (with a prediction), task 2 skipped, task 3 bare. */
  const newProject = async () => {
    const p = await call(s, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, title: 'P', label_config: SENTIMENT } });
    expect(p.status).toBe(201);
    const tasks = [
      { data: { text: 'great', source: 'a' }, annotations: [{ result: [choice('Positive')] }], predictions: [{ result: [choice('Positive')], score: 0.9, model_version: 'v1' }] },
      { data: { text: 'meh' }, annotations: [{ result: [], was_cancelled: true }] },
      { data: { text: 'plain' } },
    ];
    const imported = await call(s, 'POST', `/api/projects/${p.body.id}/import`, { token: manager.token, body: tasks });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    return p.body.id as number;
  };
  const create = (projectId: number, body: unknown = {}, token = manager.token) => call(s, 'POST', `/api/projects/${projectId}/exports/`, { token, body });
  const settle = async (projectId: number, id: number): Promise<Snapshot> => {
    for (let i = 0; i < 200; i += 1) {
      const r = await call<Snapshot>(s, 'GET', `/api/projects/${projectId}/exports/${id}`, { token: manager.token });
      expect(r.status).toBe(200);
      if (r.body.status === 'completed' || r.body.status === 'failed') return r.body;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`snapshot ${id} did not finish`);
  };
  const snapshotOf = async (projectId: number, body: unknown = {}) => {
    const r = await create(projectId, body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return settle(projectId, r.body.id);
  };
  const get = async (url: string, token = manager.token) => {
    const res = await fetch(`${s.url}${url}`, { headers: { authorization: `Token ${token}` } });
    const headers = { type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), length: res.headers.get('content-length') };
    return { status: res.status, ...headers, text: await res.text() };
  };
  const download = (projectId: number, id: number, type = 'JSON') => get(`/api/projects/${projectId}/exports/${id}/download?exportType=${type}`);

  it('creates a snapshot, completes it in the background and downloads the same JSON as the direct export', async () => {
    const projectId = await newProject();
    const created = await create(projectId, { title: 'Nightly' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      title: 'Nightly',
      status: 'created',
      md5: '',
      finished_at: null,
      counters: { task_number: 0 },
      converted_formats: [],
      created_by: { id: manager.id, email: manager.email, first_name: '', last_name: '', avatar: null },
      task_filter_options: {},
      annotation_filter_options: {},
      serialization_options: {},
    });
    const done = await settle(projectId, created.body.id);
    expect(done).toMatchObject({ status: 'completed', counters: { task_number: 3, annotation_number: 2, prediction_number: 1 } });
    expect(done.finished_at).toEqual(expect.any(String));

    const json = await download(projectId, done.id);
    expect(json.status).toBe(200);
    expect(json.type).toMatch(/application\/json/);
    expect(json.disposition).toMatch(/^attachment; filename="project-\d+-at-\d{8}T\d{6}\.json"$/);
    expect(Number(json.length)).toBe(Buffer.byteLength(json.text));
    expect(json.text).toBe((await get(`/api/projects/${projectId}/export?exportType=JSON&download_all_tasks=true`)).text);
    expect(createHash('md5').update(json.text).digest('hex')).toBe(done.md5);

    const file = path.join(s.dataDir, 'exports', String(projectId), `${done.id}.json`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(`${file}~part`)).toBe(false);

    const annotatedOnly = await snapshotOf(projectId, { task_filter_options: { only_with_annotations: true } });
    expect((await download(projectId, annotatedOnly.id)).text).toBe((await get(`/api/projects/${projectId}/export?exportType=JSON`)).text);
  });

  it('converts the stored snapshot while downloading: JSON_MIN, CSV and TSV match the direct export', async () => {
    const projectId = await newProject();
    const snap = await snapshotOf(projectId);
    for (const type of ['JSON_MIN', 'CSV', 'TSV']) {
      const got = await download(projectId, snap.id, type.toLowerCase());
      expect(got.status, type).toBe(200);
      expect(got.text, type).toBe((await get(`/api/projects/${projectId}/export?exportType=${type}&download_all_tasks=true`)).text);
    }
    const csv = await download(projectId, snap.id, 'CSV');
    expect(csv.type).toMatch(/text\/csv/);
    expect(csv.disposition).toMatch(/\.csv"$/);
    expect(csv.text.split('\r\n')[0]).toBe('"annotation_id","annotator","created_at","id","lead_time","sentiment","source","text","updated_at"');
  });

  it('applies task and annotation filters and expands annotators when asked', async () => {
    const projectId = await newProject();
    const tasksOf = async (body: unknown) => JSON.parse((await download(projectId, (await snapshotOf(projectId, body)).id)).text) as { data: { text: string }; annotations: { completed_by: unknown; was_cancelled: boolean }[] }[];
    expect((await tasksOf({ task_filter_options: { annotated: 'only' } })).map((t) => t.data.text)).toEqual(['great']);
    expect((await tasksOf({ task_filter_options: { skipped: 'exclude' } })).map((t) => t.data.text)).toEqual(['great', 'plain']);
    const unskipped = await tasksOf({ annotation_filter_options: { usual: true, ground_truth: null, skipped: false } });
    expect(unskipped.map((t) => t.annotations.length)).toEqual([1, 0, 0]);
    const expanded = await tasksOf({ serialization_options: { annotations__completed_by: { only_id: false } } });
    expect(expanded[0]!.annotations[0]!.completed_by).toEqual({ id: manager.id, email: manager.email, first_name: '', last_name: '' });
    const min = JSON.parse((await download(projectId, (await snapshotOf(projectId, { serialization_options: { annotations__completed_by: { only_id: false } } })).id, 'JSON_MIN')).text);
    expect(min[0]).toMatchObject({ annotator: manager.email, sentiment: 'Positive' });
  });

  it("accepts the Python SDK's create request as it sends it", async () => {
    const projectId = await newProject();
    const r = await call(s, 'POST', `/api/projects/${projectId}/exports?interpolate_key_frames=False`, {
      token: manager.token,
      body: {
        title: 'SDK',
        serialization_options: { drafts: { only_id: true }, predictions: { only_id: true }, annotations__completed_by: { only_id: true }, interpolate_key_frames: false },
        task_filter_options: {},
        annotation_filter_options: { usual: true, ground_truth: true, skipped: true },
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.annotation_filter_options).toEqual({ usual: true, ground_truth: true, skipped: true });
    expect((await settle(projectId, r.body.id)).counters.task_number).toBe(3);
  });

  const bigProject = async (n: number) => {
    const p = await call(s, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, title: 'Big', label_config: SENTIMENT } });
    const tasks = Array.from({ length: n }, (_, i) => ({ data: { text: `t${i}` }, annotations: i % 3 === 0 ? [{ result: [choice('Negative')] }] : [] }));
    expect((await call(s, 'POST', `/api/projects/${p.body.id}/import`, { token: manager.token, body: tasks })).status).toBe(201);
    return p.body.id as number;
  };

  it('writes a project of several batches, updating counters as it goes', async () => {
    const projectId = await bigProject(1201);
    const snap = await snapshotOf(projectId);
    expect(snap).toMatchObject({ status: 'completed', counters: { task_number: 1201, annotation_number: 401, prediction_number: 0 } });
    const json = await download(projectId, snap.id);
    expect(JSON.parse(json.text)).toHaveLength(1201);
    expect(json.text).toBe((await get(`/api/projects/${projectId}/export?exportType=JSON&download_all_tasks=true`)).text);
    expect((await download(projectId, snap.id, 'TSV')).text.split('\r\n')).toHaveLength(1 + 1201 + 1);
  });

  it('deleting an unfinished snapshot cancels its job and leaves no file behind', async () => {
    const projectId = await bigProject(3000);
    const created = await create(projectId);
    expect((await call(s, 'DELETE', `/api/projects/${projectId}/exports/${created.body.id}`, { token: manager.token })).status).toBe(204);
    const jobId = `export-snapshot-${created.body.id}`;
    for (let i = 0; i < 400 && ['waiting', 'delayed', 'active'].includes((await s.deps.jobs.status(jobId))?.state ?? ''); i += 1) await new Promise((r) => setTimeout(r, 25));
    expect(['cancelled', 'completed']).toContain((await s.deps.jobs.status(jobId))?.state);
    const dir = path.join(s.dataDir, 'exports', String(projectId));
    expect(fs.existsSync(dir) ? fs.readdirSync(dir) : []).toEqual([]);
    expect(await s.deps.db.selectFrom('export_snapshots').select('id').where('project_id', '=', projectId).execute()).toEqual([]);
  });

  it('lists, retrieves and deletes snapshots; a deleted one is gone with its file', async () => {
    const projectId = await newProject();
    const first = await snapshotOf(projectId, { title: 'one' });
    const second = await snapshotOf(projectId, { title: 'two' });
    const list = await call(s, 'GET', `/api/projects/${projectId}/exports`, { token: manager.token });
    expect(list.status).toBe(200);
    expect(list.body.map((e: { title: string }) => e.title)).toEqual(['two', 'one']);
    expect(list.body[0]).not.toHaveProperty('task_filter_options');
    const byId = await call(s, 'GET', `/api/projects/${projectId}/exports?ordering=id`, { token: manager.token });
    expect(byId.body.map((e: { id: number }) => e.id)).toEqual([first.id, second.id]);
    expect((await call(s, 'GET', `/api/projects/${projectId}/exports?ordering=size`, { token: manager.token })).body.validation_errors).toHaveProperty('ordering');

    const file = path.join(s.dataDir, 'exports', String(projectId), `${first.id}.json`);
    expect(fs.existsSync(file)).toBe(true);
    expect((await call(s, 'DELETE', `/api/projects/${projectId}/exports/${first.id}`, { token: manager.token })).status).toBe(204);
    expect(fs.existsSync(file)).toBe(false);
    expect((await call(s, 'GET', `/api/projects/${projectId}/exports/${first.id}`, { token: manager.token })).status).toBe(404);
    const gone = await download(projectId, first.id);
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.text).detail).toMatch(/snapshot not found/i);
    expect((await call(s, 'DELETE', `/api/projects/${projectId}/exports/${first.id}`, { token: manager.token })).status).toBe(404);
    expect((await call(s, 'GET', `/api/projects/${projectId}/exports`, { token: manager.token })).body).toHaveLength(1);
  });

  it('records a convert in converted_formats and refuses unknown formats', async () => {
    const projectId = await newProject();
    const snap = await snapshotOf(projectId);
    const url = `/api/projects/${projectId}/exports/${snap.id}/convert`;
    const converted = await call(s, 'POST', url, { token: manager.token, body: { export_type: 'CSV' } });
    expect(converted.status).toBe(200);
    expect(converted.body).toEqual({ export_type: 'CSV', converted_format: 1 });
    expect((await call(s, 'POST', url, { token: manager.token, body: { export_type: 'csv' } })).body.converted_format).toBe(1);
    expect((await call(s, 'POST', url, { token: manager.token, body: { export_type: 'TSV' } })).body.converted_format).toBe(2);
    const after = await call(s, 'GET', `/api/projects/${projectId}/exports/${snap.id}`, { token: manager.token });
    expect(after.body.converted_formats).toEqual([
      { id: 1, export_type: 'CSV', status: 'completed', traceback: null },
      { id: 2, export_type: 'TSV', status: 'completed', traceback: null },
    ]);
    const yolo = await call(s, 'POST', url, { token: manager.token, body: { export_type: 'YOLO' } });
    expect(yolo.status).toBe(400);
    expect(yolo.body.validation_errors.export_type[0]).toMatch(/JSON, JSON_MIN, CSV, TSV/);
    expect((await call(s, 'POST', url, { token: manager.token, body: {} })).body.validation_errors).toHaveProperty('export_type');
  });

  it('refuses callers without credentials, bad input, other organizations and annotators', async () => {
    const projectId = await newProject();
    const snap = await snapshotOf(projectId);
    const base = `/api/projects/${projectId}/exports`;
    const endpoints: [string, string, unknown?][] = [
      ['GET', base],
      ['POST', base, {}],
      ['GET', `${base}/${snap.id}`],
      ['GET', `${base}/${snap.id}/download?exportType=JSON`],
      ['POST', `${base}/${snap.id}/convert`, { export_type: 'CSV' }],
      ['DELETE', `${base}/${snap.id}`],
    ];
    for (const [method, url, body] of endpoints) {
      expect((await call(s, method, url, { body })).status, `${method} ${url} anonymous`).toBe(401);
      expect((await call(s, method, url, { token: other.owner.token, body })).status, `${method} ${url} other org`).toBe(404);
      expect((await call(s, method, url, { token: annotator.token, body })).status, `${method} ${url} annotator`).toBe(403);
    }
    const unknown = await create(projectId, { title: 'x', format: 'CSV' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.validation_errors).toHaveProperty('format');
    const nested = await create(projectId, { task_filter_options: { finished: 'only', colour: 'red' } });
    expect(nested.body.validation_errors).toHaveProperty(['task_filter_options.colour']);
    const readOnly = await create(projectId, { status: 'completed' });
    expect(readOnly.body.validation_errors).toHaveProperty('status');
    const view = await create(projectId, { task_filter_options: { view: 3 } });
    expect(view.status).toBe(400);
    expect(view.body.validation_errors['task_filter_options.view'][0]).toMatch(/views are not supported/);
    expect((await call(s, 'POST', `${base}?interpolate_key_frames=True`, { token: manager.token, body: {} })).body.validation_errors).toHaveProperty(['serialization_options.interpolate_key_frames']);
    const xml = await download(projectId, snap.id, 'XML');
    expect(xml.status).toBe(400);
    expect(JSON.parse(xml.text).validation_errors.exportType[0]).toMatch(/One of JSON/);
    const otherProject = await newProject();
    expect((await call(s, 'GET', `/api/projects/${otherProject}/exports/${snap.id}`, { token: manager.token })).status).toBe(404);
    expect((await call(s, 'GET', `${base}/0`, { token: manager.token })).status).toBe(400);
  });

  it('records create, download, convert and delete as audit events', async () => {
    const projectId = await newProject();
    const snap = await snapshotOf(projectId);
    await download(projectId, snap.id, 'CSV');
    await call(s, 'POST', `/api/projects/${projectId}/exports/${snap.id}/convert`, { token: manager.token, body: { export_type: 'TSV' } });
    await call(s, 'DELETE', `/api/projects/${projectId}/exports/${snap.id}`, { token: manager.token });
    const events = await s.deps.db.selectFrom('audit_events').select(['action', 'object_type', 'object_id', 'actor_user_id', 'changes']).where('project_id', '=', projectId).where('action', 'like', 'export.%').orderBy('id').execute();
    expect(events.map((e) => [e.action, e.object_type, e.object_id, e.actor_user_id])).toEqual([
      ['export.create', 'export_snapshot', String(snap.id), manager.id],
      ['export.download', 'export_snapshot', String(snap.id), manager.id],
      ['export.create', 'export_conversion', String(snap.id), manager.id],
      ['export.delete', 'export_snapshot', String(snap.id), manager.id],
    ]);
    expect(JSON.parse(events[1]!.changes)).toEqual({ format: 'CSV' });
  });

  it('marks a snapshot failed when its file cannot be written; download and convert answer 409', async () => {
    const projectId = await newProject();
    fs.mkdirSync(path.join(s.dataDir, 'exports'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(s.dataDir, 'exports', String(projectId)), 'not a folder');
    const failed = await snapshotOf(projectId);
    expect(failed.status).toBe('failed');
    expect(failed.finished_at).toEqual(expect.any(String));
    const row = await s.deps.db.selectFrom('export_snapshots').select('error').where('id', '=', failed.id).executeTakeFirstOrThrow();
    expect(row.error).toMatch(/EEXIST|ENOTDIR/);
    const got = await download(projectId, failed.id);
    expect(got.status).toBe(409);
    expect(JSON.parse(got.text).detail).toMatch(/failed; create a new snapshot/);
    expect((await call(s, 'POST', `/api/projects/${projectId}/exports/${failed.id}/convert`, { token: manager.token, body: { export_type: 'CSV' } })).status).toBe(409);
    fs.rmSync(path.join(s.dataDir, 'exports', String(projectId)));
  });

  it('answers 409 for an unfinished snapshot, and start-up recovery fails what a stopped process left', async () => {
    const projectId = await newProject();
    const row = await s.deps.db
      .insertInto('export_snapshots')
      .values({ project_id: projectId, created_by_id: manager.id, status: 'in_progress', title: 'orphan', counters: JSON.stringify({ task_number: 1 }), options: JSON.stringify({ task_filter_options: {}, annotation_filter_options: {}, serialization_options: {}, converted_formats: [] }), created_at: new Date().toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const busy = await download(projectId, row.id);
    expect(busy.status).toBe(409);
    expect(JSON.parse(busy.text).detail).toMatch(/not ready \(status in_progress\)/);
    expect(await recoverInterruptedJobs(s.deps)).toBe(1);
    const after = await call(s, 'GET', `/api/projects/${projectId}/exports/${row.id}`, { token: manager.token });
    expect(after.body).toMatchObject({ status: 'failed' });
    expect(after.body.finished_at).toEqual(expect.any(String));
  });
});
