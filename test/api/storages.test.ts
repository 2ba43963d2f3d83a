/**
 * Storages over the API, against s3rver (an S3 emulator on loopback that does not check
 * signatures: tests prove which object and TTL our server signs, not signature checking) and
 * local folders, on SQLite and PostgreSQL: connections with write-only credentials, sync of
 * 10,000 objects in media and JSON modes (a re-sync adds nothing), media serving (303 to a
 * pre-signed URL that returns the bytes, streaming with Range, refusals), export of annotations.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer, waitFor } from '../harness.js';
import { makeTeam, type Member } from '../factories.js';
import { startS3rver, type S3rver } from '../storage/s3rver.js';

const CONFIG = '<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="A"/><Choice value="B"/></Choices></View>';
const N = 10_000;
let s3: S3rver;

async function putMany(bucket: string, count: number, make: (i: number) => { key: string; body: string }) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const { key, body } = make(next++);
      await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

beforeAll(async () => {
  s3 = await startS3rver();
  for (const b of ['media', 'json', 'small', 'other', 'exports-sqlite', 'exports-postgres']) await s3.createBucket(b);
  await putMany('media', N, (i) => ({ key: `img/${String(i).padStart(5, '0')}.jpg`, body: `jpeg-${i}` }));
  await putMany('json', N, (i) => ({ key: `tasks/${String(i).padStart(5, '0')}.json`, body: JSON.stringify({ image: `s3://media/img/${String(i).padStart(5, '0')}.jpg`, n: i }) }));
  await putMany('small', 3, (i) => ({ key: `pics/${i}.jpg`, body: `small-${i}-bytes` }));
  await putMany('other', 1, () => ({ key: 'secret.jpg', body: 'other project bytes' }));
}, 300_000);
afterAll(async () => s3?.stop());

describe.each(DIALECTS)('storages on %s', (dialect) => {
  let s: TestServer;
  let manager: Member;
  let annotator: Member;
  let foreign: Member;
  let workspace: number;
  const creds = () => ({ aws_access_key_id: s3.accessKeyId, aws_secret_access_key: s3.secretAccessKey });
  const project = async (title = 'S') => (await call(s, 'POST', '/api/projects', { token: manager.token, body: { title, label_config: CONFIG, workspace } })).body.id as number;
  const s3Storage = async (projectId: number, bucket: string, extra: Record<string, unknown> = {}) => {
    const r = await call(s, 'POST', '/api/storages/s3', { token: manager.token, body: { project: projectId, bucket, s3_endpoint: s3.endpoint, ...creds(), ...extra } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };
  const syncAndWait = async (id: number, kind = '') => {
    const r = await call(s, 'POST', `/api/storages/${kind}s3/${id}/sync`, { token: manager.token });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return waitFor(async () => {
      const g = await call(s, 'GET', `/api/storages/${kind}s3/${id}`, { token: manager.token });
      return ['completed', 'failed'].includes(g.body.status) ? g.body : undefined;
    });
  };
  const taskCount = async (projectId: number) => Number((await s.deps.db.selectFrom('tasks').select((eb) => eb.fn.countAll().as('n')).where('project_id', '=', projectId).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    s = await startServer(dialect, { SSRF_PROTECTION_ENABLED: 'true', SSRF_ALLOWED_HOSTS: '127.0.0.1' });
    const team = await makeTeam(s.deps);
    manager = team.manager;
    annotator = team.annotator;
    foreign = team.other.owner;
    workspace = team.workspaceId;
  }, 60_000);
  afterAll(async () => s?.close());

  it('creates an S3 storage: credentials sealed at rest, never returned, audited as field names only', async () => {
    const p = await project();
    const made = await s3Storage(p, 'small', { title: 'Pics', prefix: 'pics/', use_blob_urls: true, aws_session_token: 'session-secret-value' });
    expect(made).toMatchObject({ type: 's3', project: p, bucket: 'small', prefix: 'pics/', presign: true, presign_ttl: 1, status: 'initialized' });
    for (const k of ['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token']) expect(made).not.toHaveProperty(k);
    const row = await s.deps.db.selectFrom('import_storages').select(['credentials', 'settings']).where('id', '=', made.id).executeTakeFirstOrThrow();
    expect(row.credentials).toMatch(/^v1\./);
    expect(`${row.credentials}${JSON.stringify(row.settings)}`).not.toContain('session-secret-value');
    expect(`${row.credentials}`).not.toContain(s3.secretAccessKey);
    for (const path of [`/api/storages/s3/${made.id}`, `/api/storages/s3?project=${p}`, `/api/storages?project=${p}`]) {
      const r = await call(s, 'GET', path, { token: manager.token });
      expect(r.status).toBe(200);
      expect(JSON.stringify(r.body)).not.toMatch(/aws_secret_access_key|session-secret-value|aws_session_token/);
    }
    const patched = await call(s, 'PATCH', `/api/storages/s3/${made.id}`, { token: manager.token, body: { aws_session_token: 'another-secret', title: 'Renamed' } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.title).toBe('Renamed');
    const events = await s.deps.db.selectFrom('audit_events').select(['action', 'changes']).where('object_type', '=', 'import_storage').where('object_id', '=', String(made.id)).orderBy('id').execute();
    expect(events.map((e) => e.action)).toEqual(['storage.create', 'storage.update']);
    const text = JSON.stringify(events);
    expect(text).not.toMatch(/session-secret-value|another-secret|S3RVER/);
    expect(JSON.parse(events[1]!.changes)).toMatchObject({ credentials: { status: 'changed', fields: ['aws_session_token'] }, title: { before: 'Pics', after: 'Renamed' } });
  });

  it('refuses bad input naming the field: missing bucket, bad regex, unreachable or missing bucket, refused endpoint', async () => {
    const p = await project();
    const post = (body: Record<string, unknown>) => call(s, 'POST', '/api/storages/s3', { token: manager.token, body: { project: p, ...creds(), ...body } });
    expect((await post({ s3_endpoint: s3.endpoint })).body.validation_errors).toHaveProperty('bucket');
    expect((await post({ bucket: 'small', s3_endpoint: s3.endpoint, regex_filter: '([' })).body.validation_errors).toHaveProperty('regex_filter');
    expect((await post({ bucket: 'nope', s3_endpoint: s3.endpoint })).body.validation_errors).toHaveProperty('bucket');
    expect((await post({ bucket: 'small', s3_endpoint: 'ftp://example.com' })).body.validation_errors).toHaveProperty('s3_endpoint');
    // Link-local / metadata addresses are refused by the SSRF rules even before any request.
    const meta = await post({ bucket: 'small', s3_endpoint: 'http://169.254.169.254' });
    expect(meta.status).toBe(400);
    expect(meta.body.validation_errors.s3_endpoint[0]).toMatch(/SSRF/);
    const v = await call(s, 'POST', '/api/storages/s3/validate', { token: manager.token, body: { project: p, bucket: 'small', s3_endpoint: s3.endpoint, ...creds() } });
    expect(v.status).toBe(200);
    expect(await s.deps.db.selectFrom('import_storages').select('id').where('project_id', '=', p).execute()).toEqual([]);
  });

  it("refuses a storage without keys of its own (400 naming the field): the server's own cloud identity is not the Managers' to use", async () => {
    const p = await project();
    const refused = async (url: string, body: Record<string, unknown>, field: string) => {
      const r = await call(s, 'POST', url, { token: manager.token, body: { project: p, ...body } });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(Object.keys(r.body.validation_errors)).toEqual([field]);
      expect(r.body.validation_errors[field][0]).toMatch(/STORAGE_SERVER_CREDENTIALS_ENABLED/);
    };
    const bucket = { bucket: 'small', s3_endpoint: s3.endpoint };
    await refused('/api/storages/s3', bucket, 'aws_access_key_id');
    await refused('/api/storages/s3/validate', bucket, 'aws_access_key_id');
    await refused('/api/storages/export/s3', bucket, 'aws_access_key_id');
    await refused('/api/storages/s3', { ...bucket, aws_access_key_id: s3.accessKeyId }, 'aws_secret_access_key');
    // Nor as the base identity that would assume a role.
    await refused('/api/storages/s3s', { ...bucket, role_arn: 'arn:aws:iam::123456789012:role/media', external_id: 'e'.repeat(32) }, 'aws_access_key_id');
    await refused('/api/storages/gcs', { bucket: 'gmedia' }, 'google_application_credentials');
    // Nor by naming Google's own endpoint (the SDK sends ADC to its default one), however it is
    // spelled: refused before the host is looked up (no network here), on every route.
    for (const gcs_endpoint of ['https://storage.googleapis.com', 'https://storage.googleapis.com/', 'https://STORAGE.GoogleAPIs.com:443/', 'https://storage.googleapis.com.', 'http://www.googleapis.com/storage/v1', 'https://private.googleapis.com', 'https://googleapis.com']) {
      await refused('/api/storages/gcs', { bucket: 'gmedia', gcs_endpoint }, 'google_application_credentials');
    }
    await refused('/api/storages/gcs/validate', { bucket: 'gmedia', gcs_endpoint: 'https://storage.googleapis.com/' }, 'google_application_credentials');
    await refused('/api/storages/export/gcs', { bucket: 'gmedia', gcs_endpoint: 'https://storage.googleapis.com:443' }, 'google_application_credentials');
    expect(await s.deps.db.selectFrom('import_storages').select('id').where('project_id', '=', p).execute()).toEqual([]);
    // A row saved without keys (before this setting, or by a server that allowed it) is not synced either.
    const now = new Date().toISOString();
    const row = await s.deps.db.insertInto('import_storages').values({ project_id: p, type: 's3', title: 'old', description: '', settings: JSON.stringify(bucket), credentials: null, meta: '{}', created_by_id: null, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
    const sync = await call(s, 'POST', `/api/storages/s3/${row.id}/sync`, { token: manager.token });
    expect(sync.status).toBe(400);
    expect(sync.body.validation_errors).toHaveProperty('aws_access_key_id');
  });

  it('refuses Annotators (403) and other organizations (404) on storage routes', async () => {
    const p = await project();
    const st = await s3Storage(p, 'small');
    expect((await call(s, 'GET', `/api/storages/s3?project=${p}`, { token: annotator.token })).status).toBe(403);
    expect((await call(s, 'GET', `/api/storages/s3/${st.id}`, { token: annotator.token })).status).toBe(403);
    expect((await call(s, 'POST', `/api/storages/s3/${st.id}/sync`, { token: annotator.token })).status).toBe(403);
    expect((await call(s, 'POST', '/api/storages/s3', { token: annotator.token, body: { project: p, bucket: 'small' } })).status).toBe(403);
    expect((await call(s, 'DELETE', `/api/storages/s3/${st.id}`, { token: annotator.token })).status).toBe(403);
    expect((await call(s, 'GET', `/api/storages/s3/${st.id}`, { token: foreign.token })).status).toBe(404);
    expect((await call(s, 'GET', `/api/storages/s3/${st.id}`)).status).toBe(401);
    expect((await call(s, 'DELETE', `/api/storages/s3/${st.id}`, { token: manager.token })).status).toBe(204);
    expect((await call(s, 'GET', `/api/storages/s3/${st.id}`, { token: manager.token })).status).toBe(404);
  });

  it(`syncs ${N} media objects into tasks referencing them; a re-sync adds nothing`, async () => {
    const p = await project('media');
    const st = await s3Storage(p, 'media', { prefix: 'img/', use_blob_urls: true, recursive_scan: true, regex_filter: '\\.jpg$' });
    const started = Date.now();
    const done = await syncAndWait(st.id);
    expect(done.status, done.traceback).toBe('completed');
    expect(done.last_sync_count).toBe(N);
    expect(done.meta).toMatchObject({ objects_listed: N, tasks_created: N });
    expect(await taskCount(p)).toBe(N);
    process.stdout.write(`media sync of ${N} objects on ${dialect}: ${Date.now() - started} ms\n`);
    const task = await s.deps.db.selectFrom('tasks').select(['data']).where('project_id', '=', p).orderBy('inner_id').limit(1).executeTakeFirstOrThrow();
    expect(typeof task.data === 'string' ? JSON.parse(task.data) : task.data).toEqual({ image: 's3://media/img/00000.jpg' });
    const again = await syncAndWait(st.id);
    expect(again.status).toBe('completed');
    expect(again.last_sync_count).toBe(0);
    expect(await taskCount(p)).toBe(N);
  }, 300_000);

  it(`syncs ${N} JSON task objects (validated like an import); a re-sync adds nothing`, async () => {
    const p = await project('json');
    const st = await s3Storage(p, 'json', { prefix: 'tasks/', use_blob_urls: false, recursive_scan: true });
    const done = await syncAndWait(st.id);
    expect(done.status, done.traceback).toBe('completed');
    expect(done.last_sync_count).toBe(N);
    expect(await taskCount(p)).toBe(N);
    const again = await syncAndWait(st.id);
    expect(again.last_sync_count).toBe(0);
    expect(await taskCount(p)).toBe(N);
  }, 300_000);

  it('a JSON object that fails validation fails the sync, names the object, and leaves no half-state', async () => {
    const p = await project('bad');
    const bucket = `bad-${dialect}`;
    await s3.createBucket(bucket);
    await putMany(bucket, 3, (i) => ({ key: `t/${i}.json`, body: i === 1 ? JSON.stringify({ text: 'no image key' }) : JSON.stringify({ image: 's3://x/y.jpg' }) }));
    const st = await s3Storage(p, bucket, { use_blob_urls: false, recursive_scan: true });
    const done = await syncAndWait(st.id);
    expect(done.status).toBe('failed');
    expect(done.traceback).toContain('t/1.json');
    expect(await taskCount(p)).toBe(0);
    expect(await s.deps.db.selectFrom('storage_links').select('id').where('storage_id', '=', st.id).execute()).toEqual([]);
  });

  it('serves media: task URIs become resolve URLs, 303 to a pre-signed URL that returns the bytes; refusals', async () => {
    const p = await project('serve');
    const st = await s3Storage(p, 'small', { prefix: 'pics/', use_blob_urls: true, presign_ttl: 7, recursive_scan: true });
    expect((await syncAndWait(st.id)).last_sync_count).toBe(3);
    const list = await call(s, 'GET', `/api/projects/${p}/tasks`, { token: manager.token });
    const task = list.body.find((t: { data: { image: string } }) => t.data.image.includes(Buffer.from('s3://small/pics/0.jpg').toString('base64url')));
    expect(task.data.image).toBe(`/tasks/${task.id}/resolve/?fileuri=${Buffer.from('s3://small/pics/0.jpg').toString('base64url')}`);
    const r = await fetch(`${s.url}${task.data.image}`, { headers: { authorization: `Token ${manager.token}` }, redirect: 'manual' });
    expect(r.status).toBe(303);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const location = r.headers.get('location')!;
    expect(location).toContain('/small/pics/0.jpg');
    expect(location).toContain('X-Amz-Expires=420');
    const bytes = await fetch(location);
    expect(await bytes.text()).toBe('small-0-bytes');
    // The older alias answers the same.
    expect((await fetch(`${s.url}/tasks/${task.id}/presign/?fileuri=${Buffer.from('s3://small/pics/0.jpg').toString('base64url')}`, { headers: { authorization: `Token ${manager.token}` }, redirect: 'manual' })).status).toBe(303);
    // A URI the task does not reference (another object of the same bucket) is refused.
    const other = Buffer.from('s3://small/pics/1.jpg').toString('base64url');
    expect((await fetch(`${s.url}/tasks/${task.id}/resolve/?fileuri=${other}`, { headers: { authorization: `Token ${manager.token}` }, redirect: 'manual' })).status).toBe(403);
    // A task referencing another project's bucket (connected to that project only) is refused.
    const p2 = await project('other');
    await s3Storage(p2, 'other', { use_blob_urls: true });
    const t = await call(s, 'POST', '/api/tasks', { token: manager.token, body: { project: p, data: { image: 's3://other/secret.jpg' } } });
    const u = Buffer.from('s3://other/secret.jpg').toString('base64url');
    expect((await fetch(`${s.url}/tasks/${t.body.id}/resolve/?fileuri=${u}`, { headers: { authorization: `Token ${manager.token}` }, redirect: 'manual' })).status).toBe(403);
    // Anonymous and other organizations: 401, 404.
    expect((await fetch(`${s.url}${task.data.image}`, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`${s.url}${task.data.image}`, { headers: { authorization: `Token ${foreign.token}` }, redirect: 'manual' })).status).toBe(404);
    expect((await fetch(`${s.url}/tasks/${task.id}/resolve/?fileuri=***`, { headers: { authorization: `Token ${manager.token}` }, redirect: 'manual' })).status).toBe(400);
    // Presign off: the bytes stream through the server, with Range.
    await call(s, 'PATCH', `/api/storages/s3/${st.id}`, { token: manager.token, body: { presign: false } });
    const whole = await fetch(`${s.url}${task.data.image}`, { headers: { authorization: `Token ${manager.token}` } });
    expect(whole.status).toBe(200);
    expect(await whole.text()).toBe('small-0-bytes');
    const part = await fetch(`${s.url}${task.data.image}`, { headers: { authorization: `Token ${manager.token}`, range: 'bytes=6-6' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 6-6/13');
    expect(await part.text()).toBe('0');
  });

  it('writes annotations to an export storage and removes them when deleted', async () => {
    const p = await project('export');
    const bucket = `exports-${dialect}`;
    const r = await call(s, 'POST', '/api/storages/export/s3', { token: manager.token, body: { project: p, bucket, prefix: 'out', s3_endpoint: s3.endpoint, can_delete_objects: true, ...creds() } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const t = await call(s, 'POST', '/api/tasks', { token: manager.token, body: { project: p, data: { image: 's3://small/pics/0.jpg' } } });
    const a = await call(s, 'POST', `/api/tasks/${t.body.id}/annotations`, { token: manager.token, body: { result: [{ id: 'r', from_name: 'c', to_name: 'image', type: 'choices', value: { choices: ['A'] } }] } });
    expect(a.status).toBe(201);
    const read = async () =>
      s3.client
        .send(new GetObjectCommand({ Bucket: bucket, Key: `out/${a.body.id}` }))
        .then(async (o) => JSON.parse(await o.Body!.transformToString()))
        .catch(() => undefined);
    const doc = await waitFor(read, 20_000);
    expect(doc).toMatchObject({ id: a.body.id, task: { id: t.body.id, data: { image: 's3://small/pics/0.jpg' } } });
    expect((await call(s, 'DELETE', `/api/annotations/${a.body.id}`, { token: manager.token })).status).toBe(204);
    await waitFor(async () => ((await read()) === undefined ? true : undefined), 20_000);
    const sync = await syncAndWait(r.body.id, 'export/');
    expect(sync.status).toBe('completed');
  });
});

describe('local files storages', () => {
  let s: TestServer;
  let manager: Member;
  let workspace: number;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-docroot-'));
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-outside-'));

  beforeAll(async () => {
    fs.mkdirSync(path.join(root, 'pics'));
    fs.writeFileSync(path.join(root, 'pics', 'a.jpg'), 'local-a');
    fs.writeFileSync(path.join(outside, 'secret.jpg'), 'outside');
    fs.symlinkSync(path.join(outside, 'secret.jpg'), path.join(root, 'pics', 'link.jpg'));
    s = await startServer('sqlite', { LOCAL_FILES_SERVING_ENABLED: 'true', LOCAL_FILES_DOCUMENT_ROOT: root });
    const team = await makeTeam(s.deps);
    manager = team.manager;
    workspace = team.workspaceId;
  });
  afterAll(async () => {
    await s?.close();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('syncs files under the document root only (a symlink out of it is skipped); paths outside are refused', async () => {
    const p = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { title: 'L', label_config: CONFIG, workspace } })).body.id;
    const bad = await call(s, 'POST', '/api/storages/localfiles', { token: manager.token, body: { project: p, path: outside } });
    expect(bad.status).toBe(400);
    expect(bad.body.validation_errors).toHaveProperty('path');
    const dotdot = await call(s, 'POST', '/api/storages/localfiles', { token: manager.token, body: { project: p, path: `${root}/pics/../..` } });
    expect(dotdot.status).toBe(400);
    const st = await call(s, 'POST', '/api/storages/localfiles', { token: manager.token, body: { project: p, path: path.join(root, 'pics'), use_blob_urls: true } });
    expect(st.status, JSON.stringify(st.body)).toBe(201);
    expect((await call(s, 'POST', `/api/storages/localfiles/${st.body.id}/sync`, { token: manager.token })).status).toBe(200);
    const done = await waitFor(async () => {
      const g = await call(s, 'GET', `/api/storages/localfiles/${st.body.id}`, { token: manager.token });
      return g.body.status === 'completed' ? g.body : undefined;
    }, 10_000);
    expect(done.last_sync_count).toBe(1);
    const tasks = await call(s, 'GET', `/api/projects/${p}/tasks`, { token: manager.token });
    expect(tasks.body.map((t: { data: { image: string } }) => t.data.image)).toEqual(['/data/local-files/?d=pics/a.jpg']);
    const get = (d: string, headers: Record<string, string> = {}) => fetch(`${s.url}/data/local-files/?d=${d}`, { headers: { authorization: `Token ${manager.token}`, ...headers } });
    const ok = await get('pics/a.jpg');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('local-a');
    const part = await get('pics/a.jpg', { range: 'bytes=1-2' });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe('oc');
    // Traversal: "..", encoded separators (double-encoded), a symlink out of the root, absolute paths.
    for (const d of ['pics/../pics/a.jpg', '..%2F' + path.basename(outside) + '%2Fsecret.jpg', 'pics%252Fa.jpg', 'pics/link.jpg', encodeURIComponent(path.join(outside, 'secret.jpg')), 'pics%5Ca.jpg']) {
      const r = await get(d);
      expect(r.status, d).toBe(404);
      expect(await r.text()).not.toContain('outside');
    }
    // Another organization's member: nothing covers the path for them.
    const other = await makeTeam(s.deps);
    expect((await fetch(`${s.url}/data/local-files/?d=pics/a.jpg`, { headers: { authorization: `Token ${other.manager.token}` } })).status).toBe(404);
  });

  it('refuses local files storages when serving is disabled (400 naming path)', async () => {
    const off = await startServer('sqlite');
    try {
      const team = await makeTeam(off.deps);
      const p = (await call(off, 'POST', '/api/projects', { token: team.manager.token, body: { title: 'L', label_config: CONFIG, workspace: team.workspaceId } })).body.id;
      const r = await call(off, 'POST', '/api/storages/localfiles', { token: team.manager.token, body: { project: p, path: root } });
      expect(r.status).toBe(400);
      expect(r.body.validation_errors.path[0]).toMatch(/disabled/);
      expect((await call(off, 'GET', '/data/local-files/?d=pics/a.jpg', { token: team.manager.token })).status).toBe(403);
    } finally {
      await off.close();
    }
  });
});

describe('STORAGE_SERVER_CREDENTIALS_ENABLED=true', () => {
  it("lets a storage without keys use the server's own AWS identity (the SDK's default chain: AWS_* variables here)", async () => {
    // The AWS SDK reads its default chain from the process environment itself; set for this test only.
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
    const s = await startServer('sqlite', { SSRF_PROTECTION_ENABLED: 'true', SSRF_ALLOWED_HOSTS: '127.0.0.1', STORAGE_SERVER_CREDENTIALS_ENABLED: 'true' });
    try {
      const team = await makeTeam(s.deps);
      const p = (await call(s, 'POST', '/api/projects', { token: team.manager.token, body: { title: 'Own identity', label_config: CONFIG, workspace: team.workspaceId } })).body.id;
      const r = await call(s, 'POST', '/api/storages/s3', { token: team.manager.token, body: { project: p, bucket: 'small', prefix: 'pics/', s3_endpoint: s3.endpoint, use_blob_urls: true } });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    } finally {
      await s.close();
      for (const [name, value] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
