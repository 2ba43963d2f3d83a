/**
 * Export snapshots and uploaded files in object storage (FILE_STORAGE=s3) on SQLite and
 * PostgreSQL: two app instances that share only the database and a bucket on s3rver (each has its
 * own data folder). A snapshot built by one is downloaded, converted and deleted through the
 * other; a file uploaded to one is imported, served and deleted through the other; the files live
 * in the bucket only. s3rver does not check signatures; nothing here relies on it.
 *
 * On SQLite the two instances are two writers on one file in one process, which Labelvault never
 * does outside this test (SQLite is the single-node setup): an instance's batched background
 * writes (the request log) committing inside the other's open transaction would fail that one
 * with SQLITE_BUSY_SNAPSHOT. So the test writes the batches out (`quiet`) before it switches
 * instances, and usage counting (another batch writer) is off.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeProjectSnapshotFiles } from '../../src/modules/exports/snapshot.job.js';
import { call, DIALECTS, freePort, startServer, type TestServer } from '../harness.js';
import { makeTeam, type Member } from '../factories.js';
import { startS3rver, type S3rver } from '../storage/s3rver.js';

const SENTIMENT = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`;
const choice = (c: string) => ({ id: 'c1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: [c] } });
const BUCKET = 'lv-exports';
const IMAGES = `<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="a"/></Choices></View>`;
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

describe.each(DIALECTS)('export snapshots and uploads in a bucket shared by two instances on %s', (dialect) => {
  let s3: S3rver;
  let one: TestServer;
  let two: TestServer;
  let manager: Member;
  let annotator: Member;
  let workspaceId: number;
  let stranger: { owner: Member };
  const bucketEnv = () => ({
    SECRET_KEY: 'the-same-secret-key-on-every-node-0123456789',
    COLLECT_ANALYTICS: 'false',
    FILE_STORAGE: 's3',
    FILE_STORAGE_S3_BUCKET: BUCKET,
    FILE_STORAGE_S3_PREFIX: `${dialect}/`,
    FILE_STORAGE_S3_ENDPOINT: s3.endpoint,
    FILE_STORAGE_S3_ACCESS_KEY_ID: s3.accessKeyId,
    FILE_STORAGE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  });
  /** The database of instance one, as a second instance is told it. */
  const sharedDatabase = () => (dialect === 'postgres' ? one.env.DATABASE_URL! : `sqlite:${path.join(one.dataDir, 'labelvault.sqlite3')}`);

  beforeAll(async () => {
    s3 = await startS3rver();
    await s3.createBucket(BUCKET);
    one = await startServer(dialect, bucketEnv());
    two = await startServer(dialect, { ...bucketEnv(), DATABASE_URL: sharedDatabase() });
    ({ manager, annotator, workspaceId, other: stranger } = await makeTeam(one.deps));
  });
  afterAll(async () => {
    await two?.close();
    await one?.close();
    await s3?.stop();
  });

  /** Writes out both instances' batched request logs (see the file comment). */
  const quiet = async (...servers: TestServer[]) => {
    for (const server of [one, two, ...servers]) await server.app.requestLog.flush();
  };
  const objectKey = (projectId: number, id: number) => `${dialect}/exports/${projectId}/${id}.json`;
  const inBucket = async (projectId: number, id: number) =>
    s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: objectKey(projectId, id) })).then(
      () => true,
      () => false,
    );
  const get = async (server: TestServer, url: string, token = manager.token) => {
    const res = await fetch(`${server.url}${url}`, { headers: { authorization: `Token ${token}` } });
    return { status: res.status, length: res.headers.get('content-length'), text: await res.text() };
  };
  const newProject = async () => {
    await quiet();
    const p = await call(one, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, title: 'Shared', label_config: SENTIMENT } });
    expect(p.status).toBe(201);
    const tasks = [{ data: { text: 'great' }, annotations: [{ result: [choice('Positive')] }] }, { data: { text: 'plain' } }];
    expect((await call(one, 'POST', `/api/projects/${p.body.id}/import`, { token: manager.token, body: tasks })).status).toBe(201);
    return p.body.id as number;
  };
  /** Creates a snapshot on `server` and waits (asking the other instance) until it is finished. */
  const snapshotOn = async (server: TestServer, watcher: TestServer, projectId: number) => {
    await quiet(server, watcher);
    const created = await call(server, 'POST', `/api/projects/${projectId}/exports/`, { token: manager.token, body: {} });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    for (let i = 0; i < 400; i += 1) {
      const r = await call(watcher, 'GET', `/api/projects/${projectId}/exports/${created.body.id}`, { token: manager.token });
      if (['completed', 'failed'].includes(r.body.status)) {
        await quiet(server, watcher);
        return r.body as { id: number; status: string; md5: string };
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('the snapshot did not finish');
  };
  const localExports = (server: TestServer) => fs.existsSync(path.join(server.dataDir, 'exports'));

  /** The keys of the bucket's objects under a project's uploads. */
  const uploadObjects = async (projectId: number) => {
    const page = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${dialect}/media/upload/${projectId}/` }));
    return (page.Contents ?? []).map((o) => o.Key!.split('/').pop()!);
  };
  const localUploads = (server: TestServer) => fs.existsSync(path.join(server.dataDir, 'media'));
  /** Posts files (name, content, type) as multipart to `server`'s import of a project; expects `status` (201). */
  const importFiles = async (server: TestServer, projectId: number, query: string, files: [string, string | Buffer, string][], status = 201) => {
    await quiet();
    const form = new FormData();
    for (const [name, content, type] of files) form.append(name, new Blob([content], { type }), name);
    const res = await fetch(`${server.url}/api/projects/${projectId}/import${query}`, { method: 'POST', headers: { authorization: `Token ${manager.token}` }, body: form });
    const body = (await res.json()) as { task_count: number; file_upload_ids: number[]; task_ids?: number[]; code?: string };
    expect(res.status, JSON.stringify(body)).toBe(status);
    await quiet();
    return body;
  };
  const imageProject = async () => {
    await quiet();
    const p = await call(one, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, title: 'Uploads', label_config: IMAGES } });
    expect(p.status).toBe(201);
    return p.body.id as number;
  };
  /** The `/data/upload/…` URL of a task's image. */
  const imageOf = async (server: TestServer, taskId: number) => (await call(server, 'GET', `/api/tasks/${taskId}`, { token: manager.token })).body.data.image as string;

  it('builds a snapshot on one instance and serves it, as stored and converted, from the other', async () => {
    const projectId = await newProject();
    const snap = await snapshotOn(one, two, projectId);
    expect(snap.status).toBe('completed');
    expect(await inBucket(projectId, snap.id)).toBe(true);
    expect(localExports(one) || localExports(two)).toBe(false);

    const direct: Record<string, string> = {};
    for (const type of ['JSON', 'CSV', 'JSON_MIN']) direct[type] = (await get(one, `/api/projects/${projectId}/export?exportType=${type}&download_all_tasks=true`)).text;
    await quiet();
    const json = await get(two, `/api/projects/${projectId}/exports/${snap.id}/download?exportType=JSON`);
    expect(json.status).toBe(200);
    expect(Number(json.length)).toBe(Buffer.byteLength(json.text));
    expect(createHash('md5').update(json.text).digest('hex')).toBe(snap.md5);
    expect(json.text).toBe(direct.JSON);
    for (const type of ['CSV', 'JSON_MIN']) {
      const converted = await get(two, `/api/projects/${projectId}/exports/${snap.id}/download?exportType=${type}`);
      expect(converted.status, type).toBe(200);
      expect(converted.text, type).toBe(direct[type]);
    }
    expect((await get(two, `/api/projects/${projectId}/exports/${snap.id}/download?exportType=JSON`, stranger.owner.token)).status).toBe(404);
  });

  it('deleting through the other instance removes the object from the bucket', async () => {
    const projectId = await newProject();
    const snap = await snapshotOn(one, two, projectId);
    expect(await inBucket(projectId, snap.id)).toBe(true);
    await quiet();
    expect((await call(two, 'DELETE', `/api/projects/${projectId}/exports/${snap.id}`, { token: manager.token })).status).toBe(204);
    expect(await inBucket(projectId, snap.id)).toBe(false);
    expect((await get(one, `/api/projects/${projectId}/exports/${snap.id}/download?exportType=JSON`)).status).toBe(404);
  });

  it('answers 404 when the object is gone from the bucket, and removes a project’s files by prefix', async () => {
    const projectId = await newProject();
    const first = await snapshotOn(two, one, projectId);
    const second = await snapshotOn(one, two, projectId);
    await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: objectKey(projectId, first.id) }));
    const gone = await get(two, `/api/projects/${projectId}/exports/${first.id}/download?exportType=JSON`);
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.text).detail).toMatch(/export file is missing/);
    await removeProjectSnapshotFiles(two.deps, projectId);
    expect(await inBucket(projectId, second.id)).toBe(false);
  });

  it('fails the snapshot when the bucket cannot be reached, and a download from there answers 503', async () => {
    const projectId = await newProject();
    const built = await snapshotOn(one, one, projectId);
    const pictures = await imageProject();
    const picture = await importFiles(one, pictures, '?return_task_ids=true', [['cat.png', PNG, 'image/png']]);
    const pictureUrl = await imageOf(one, picture.task_ids![0]!);
    const unreachable = await startServer(dialect, { ...bucketEnv(), DATABASE_URL: sharedDatabase(), FILE_STORAGE_S3_ENDPOINT: `http://127.0.0.1:${await freePort()}` });
    try {
      const down = await get(unreachable, `/api/projects/${projectId}/exports/${built.id}/download?exportType=JSON`);
      expect(down.status).toBe(503);
      expect(JSON.parse(down.text)).toMatchObject({ code: 'FILE_STORE_UNAVAILABLE' });
      expect(down.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
      const media = await get(unreachable, pictureUrl);
      expect(media.status).toBe(503);
      expect(JSON.parse(media.text)).toMatchObject({ code: 'FILE_STORE_UNAVAILABLE' });
      expect(await importFiles(unreachable, pictures, '', [['dog.png', PNG, 'image/png']], 503)).toMatchObject({ code: 'FILE_STORE_UNAVAILABLE' });
      expect((await call(one, 'GET', `/api/projects/${pictures}/file-uploads`, { token: manager.token })).body).toHaveLength(1);
      const failed = await snapshotOn(unreachable, one, projectId);
      expect(failed.status).toBe('failed');
    } finally {
      await unreachable.close();
    }
  }, 60_000);

  it('keeps a file uploaded to one instance in the bucket, and imports it again through the other', async () => {
    const projectId = await imageProject();
    const kept = await importFiles(one, projectId, '?commit_to_project=false', [
      ['cat.png', PNG, 'image/png'],
      ['rows.json', JSON.stringify([{ image: 'https://example.test/a.png' }, { image: 'https://example.test/b.png' }]), 'application/json'],
    ]);
    expect(kept.task_count).toBe(3); // found in the files (the JSON one read back from the bucket), not created
    expect((await call(two, 'GET', `/api/projects/${projectId}`, { token: manager.token })).body.task_number).toBe(0);
    expect(await uploadObjects(projectId)).toHaveLength(2);
    expect(localUploads(one) || localUploads(two)).toBe(false);
    const reimported = await call(two, 'POST', `/api/projects/${projectId}/reimport`, { token: manager.token, body: { file_upload_ids: kept.file_upload_ids } });
    expect(reimported.status, JSON.stringify(reimported.body)).toBe(201);
    expect(reimported.body.task_count).toBe(3); // the image, and the two rows of the JSON file read back from the bucket
    await quiet();
    // A file gone from the bucket: refused by name, not a 500.
    await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${dialect}/media/upload/${projectId}/${(await uploadObjects(projectId)).find((k) => k.endsWith('rows.json'))}` }));
    const gone = await call(one, 'POST', `/api/projects/${projectId}/reimport`, { token: manager.token, body: { file_upload_ids: kept.file_upload_ids } });
    expect(gone.status).toBe(400);
    expect(Object.keys(gone.body.validation_errors)).toEqual(['file_upload_ids']);
  });

  it('serves a file uploaded to one instance from the other, to those who may see it, with the user-content headers', async () => {
    const projectId = await imageProject();
    const made = await importFiles(one, projectId, '?return_task_ids=true', [['cat.png', PNG, 'image/png']]);
    const url = await imageOf(two, made.task_ids![0]!);
    expect(url).toMatch(new RegExp(`^/data/upload/${projectId}/[0-9a-f]{12}-cat\\.png$`));
    const res = await fetch(`${two.url}${url}`, { headers: { authorization: `Token ${manager.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-length')).toBe(String(PNG.length));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toMatch(/sandbox/);
    expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);
    expect((await fetch(`${two.url}${url}`)).status).toBe(401);
    expect((await fetch(`${two.url}${url}`, { headers: { authorization: `Token ${stranger.owner.token}` } })).status).toBe(404);
    expect((await fetch(`${two.url}${url}`, { headers: { authorization: `Token ${annotator.token}` } })).status).toBe(404); // no task of theirs uses it
    const svg = await importFiles(two, projectId, '?return_task_ids=true', [['evil.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/svg+xml']]);
    const active = await fetch(`${one.url}${await imageOf(one, svg.task_ids![0]!)}`, { headers: { authorization: `Token ${manager.token}` } });
    expect(active.status).toBe(200);
    expect(active.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(active.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
  });

  it('deletes unused uploads and a deleted project’s uploads from the bucket through the other instance', async () => {
    const projectId = await imageProject();
    const used = await importFiles(one, projectId, '?return_task_ids=true', [['used.png', PNG, 'image/png']]);
    await importFiles(one, projectId, '?commit_to_project=false', [['unused.png', PNG, 'image/png']]);
    expect(await uploadObjects(projectId)).toHaveLength(2);
    expect((await call(two, 'DELETE', `/api/projects/${projectId}/file-uploads`, { token: annotator.token })).status).toBe(403);
    expect(await uploadObjects(projectId)).toHaveLength(2);
    expect((await call(two, 'DELETE', `/api/projects/${projectId}/file-uploads`, { token: manager.token })).status).toBe(204);
    expect(await uploadObjects(projectId)).toEqual([expect.stringMatching(/-used\.png$/)]);
    const url = await imageOf(one, used.task_ids![0]!);
    await quiet();
    expect((await call(two, 'DELETE', `/api/projects/${projectId}`, { token: manager.token })).status).toBe(204);
    expect(await uploadObjects(projectId)).toEqual([]);
    expect((await fetch(`${one.url}${url}`, { headers: { authorization: `Token ${manager.token}` } })).status).toBe(404);
  });
});
