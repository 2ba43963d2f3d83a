/**
 * S3 storages that assume an IAM role (`role_arn` + `external_id`, Label Studio Enterprise's
 * fields) over the API, on SQLite and PostgreSQL. STS is a loopback fake (test/storage/fake-sts.ts:
 * no emulator here offers STS) that checks the AssumeRole request and its SigV4 signature by the
 * storage's base key, and hands out temporary credentials. s3rver is the bucket. It does NOT
 * verify signatures, but it does refuse access key ids it does not know: the fake's temporary key
 * is the only one it knows (not the base key), so a working S3 request proves the server used the
 * assumed role's credentials, and a presigned URL shows their session token.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assumeRole, stsEndpointFor } from '../../src/storage/aws-sts.js';
import { call, DIALECTS, startServer, type TestServer, waitFor } from '../harness.js';
import { makeTeam, type Member } from '../factories.js';
import { startFakeSts, STS_MESSAGE_MARKER, type FakeSts } from './fake-sts.js';
import { startS3rver, type S3rver } from './s3rver.js';

const CONFIG = '<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="A"/></Choices></View>';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/labelvault-media-reader';
const EXTERNAL_ID = 'lv-ext-4f1c9e7a2b';
const BASE = { aws_access_key_id: 'AKIALABELVAULTBASE01', aws_secret_access_key: 'base-secret-9d8c7b6a5f4e3d2c1b0a' };
const SESSION_TOKEN = 'FwoGZXIvYXdzEFAKE-session-token-0123456789';
let s3: S3rver;
let sts: FakeSts;

beforeAll(async () => {
  s3 = await startS3rver();
  await s3.createBucket('roles');
  for (const i of [0, 1]) await s3.client.send(new PutObjectCommand({ Bucket: 'roles', Key: `pics/${i}.jpg`, Body: `role-bytes-${i}` }));
  sts = await startFakeSts({
    roleArn: ROLE_ARN,
    externalId: EXTERNAL_ID,
    keys: { [BASE.aws_access_key_id]: BASE.aws_secret_access_key },
    // s3rver knows only its own key id: S3 requests succeed only when signed with these.
    temporary: { accessKeyId: s3.accessKeyId, secretAccessKey: 'temporary-secret-from-sts', sessionToken: SESSION_TOKEN },
  });
}, 60_000);
afterAll(async () => {
  await sts?.stop();
  await s3?.stop();
});

describe.each(DIALECTS)('S3 storages assuming an IAM role on %s', (dialect) => {
  let s: TestServer;
  let manager: Member;
  let workspace: number;
  const project = async () => (await call(s, 'POST', '/api/projects', { token: manager.token, body: { title: 'Roles', label_config: CONFIG, workspace } })).body.id as number;
  const fields = (p: number, extra: Record<string, unknown> = {}) => ({ project: p, bucket: 'roles', prefix: 'pics/', region_name: 'eu-west-1', s3_endpoint: s3.endpoint, use_blob_urls: true, ...BASE, role_arn: ROLE_ARN, external_id: EXTERNAL_ID, ...extra });
  /** STS calls since index `from` (both dialects' servers share the fake, and their storage ids overlap). */
  const callsNamed = (session: string, from: number) => sts.calls.slice(from).filter((c) => c.params.get('RoleSessionName') === session);

  beforeAll(async () => {
    s = await startServer(dialect, { SSRF_PROTECTION_ENABLED: 'true', SSRF_ALLOWED_HOSTS: '127.0.0.1', AWS_ENDPOINT_URL_STS: sts.url });
    const team = await makeTeam(s.deps);
    manager = team.manager;
    workspace = team.workspaceId;
  }, 60_000);
  afterAll(async () => s?.close());

  it('creates, validates, syncs and serves media as the assumed role; STS is asked once per storage while its credentials last', async () => {
    const p = await project();
    const before = sts.calls.length;
    const made = await call(s, 'POST', '/api/storages/s3', { token: manager.token, body: fields(p, { title: 'With role' }) });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    // The connection check assumed the role: a signed AssumeRole with the external id, by the base key.
    const check = sts.calls.at(-1)!;
    expect(sts.calls.length).toBeGreaterThan(before);
    expect(check).toMatchObject({ accessKeyId: BASE.aws_access_key_id, region: 'eu-west-1', service: 'sts', signatureValid: true, status: 200 });
    expect(Object.fromEntries(check.params)).toMatchObject({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: ROLE_ARN, ExternalId: EXTERNAL_ID, RoleSessionName: 'labelvault-check', DurationSeconds: '3600' });

    expect((await call(s, 'POST', '/api/storages/s3/validate', { token: manager.token, body: { project: p, id: made.body.id } })).status).toBe(200);
    const exported = await call(s, 'POST', '/api/storages/export/s3', { token: manager.token, body: fields(p) });
    expect(exported.status, JSON.stringify(exported.body)).toBe(201);

    const id = made.body.id as number;
    expect((await call(s, 'POST', `/api/storages/s3/${id}/sync`, { token: manager.token })).status).toBe(200);
    const done = await waitFor(async () => {
      const g = await call(s, 'GET', `/api/storages/s3/${id}`, { token: manager.token });
      return ['completed', 'failed'].includes(g.body.status) ? g.body : undefined;
    });
    expect(done, JSON.stringify(done)).toMatchObject({ status: 'completed', last_sync_count: 2 });

    const tasks = (await call(s, 'GET', `/api/projects/${p}/tasks`, { token: manager.token })).body as { id: number; data: { image: string } }[];
    expect(tasks).toHaveLength(2);
    for (const task of tasks) {
      const r = await fetch(`${s.url}${task.data.image}`, { headers: { authorization: `Token ${manager.token}` }, redirect: 'manual' });
      expect(r.status).toBe(303);
      const location = new URL(r.headers.get('location')!);
      expect(location.searchParams.get('X-Amz-Credential')).toMatch(new RegExp(`^${s3.accessKeyId}/\\d{8}/eu-west-1/s3/aws4_request$`));
      expect(location.searchParams.get('X-Amz-Security-Token')).toBe(SESSION_TOKEN);
      expect(await (await fetch(location)).text()).toMatch(/^role-bytes-[01]$/);
    }
    // The sync and both media requests (each with its own adapter) shared one AssumeRole.
    expect(callsNamed(`labelvault-import-${id}`, before)).toHaveLength(1);
  });

  it('a wrong external id, role, base key or malformed ARN is a 400 naming the field (never a 500, never STS text)', async () => {
    const p = await project();
    const post = (extra: Record<string, unknown>) => call(s, 'POST', '/api/storages/s3', { token: manager.token, body: fields(p, extra) });

    const wrongId = await post({ external_id: 'not-the-external-id' });
    expect(wrongId.status, JSON.stringify(wrongId.body)).toBe(400);
    expect(wrongId.body.validation_errors.external_id[0]).toMatch(/AccessDenied.*external ID/);
    expect(sts.calls.at(-1)).toMatchObject({ status: 403, signatureValid: true });
    expect(sts.calls.at(-1)!.params.get('ExternalId')).toBe('not-the-external-id');

    const noId = await post({ external_id: null });
    expect(noId.status).toBe(400);
    expect(noId.body.validation_errors.role_arn[0]).toMatch(/AccessDenied/);
    expect(sts.calls.at(-1)!.params.has('ExternalId')).toBe(false);

    const otherRole = await post({ role_arn: 'arn:aws:iam::123456789012:role/someone-else' });
    expect(otherRole.body.validation_errors).toHaveProperty('external_id');

    const badSecret = await post({ aws_secret_access_key: 'not-the-secret' });
    expect(badSecret.status).toBe(400);
    expect(badSecret.body.validation_errors.aws_access_key_id[0]).toMatch(/SignatureDoesNotMatch/);

    const calls = sts.calls.length;
    const malformed = await post({ role_arn: 'my-role' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.validation_errors).toHaveProperty('role_arn');
    const badExternal = await post({ external_id: 'spaces are not allowed' });
    expect(badExternal.body.validation_errors).toHaveProperty('external_id');
    expect(sts.calls.length).toBe(calls); // refused before any request

    const validate = await call(s, 'POST', '/api/storages/s3/validate', { token: manager.token, body: fields(p, { external_id: 'not-the-external-id' }) });
    expect(validate.status).toBe(400);
    expect(validate.body.validation_errors).toHaveProperty('external_id');

    for (const r of [wrongId, noId, otherRole, badSecret, validate]) expect(JSON.stringify(r.body)).not.toContain(STS_MESSAGE_MARKER);
    expect(await s.deps.db.selectFrom('import_storages').select('id').where('project_id', '=', p).execute()).toEqual([]);

    // PATCH with a wrong external id is refused and the saved one is kept (a sync still works).
    const made = await post({});
    expect(made.status).toBe(201);
    const patched = await call(s, 'PATCH', `/api/storages/s3/${made.body.id}`, { token: manager.token, body: { external_id: 'not-the-external-id' } });
    expect(patched.status).toBe(400);
    expect(patched.body.validation_errors).toHaveProperty('external_id');
    expect((await call(s, 'POST', '/api/storages/s3/validate', { token: manager.token, body: { project: p, id: made.body.id } })).status).toBe(200);
  });

  it("serves Label Studio Enterprise's /api/storages/s3s: the same storage, role_arn required", async () => {
    const p = await project();
    const made = await call(s, 'POST', '/api/storages/s3s', { token: manager.token, body: fields(p) });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ type: 's3s', bucket: 'roles', region_name: 'eu-west-1' });
    expect(JSON.stringify(made.body)).not.toMatch(/role_arn|external_id/);
    const id = made.body.id as number;
    expect((await call(s, 'POST', `/api/storages/s3s/${id}/sync`, { token: manager.token })).status).toBe(200);
    const done = await waitFor(async () => {
      const g = await call(s, 'GET', `/api/storages/s3s/${id}`, { token: manager.token });
      return ['completed', 'failed'].includes(g.body.status) ? g.body : undefined;
    });
    expect(done).toMatchObject({ status: 'completed', last_sync_count: 2 });
    expect((await call(s, 'GET', `/api/storages/s3/${id}`, { token: manager.token })).status).toBe(404); // another type
    const { role_arn: _r, external_id: _e, ...noRole } = fields(p);
    const missing = await call(s, 'POST', '/api/storages/s3s', { token: manager.token, body: noRole });
    expect(missing.status).toBe(400);
    expect(missing.body.validation_errors.role_arn).toEqual(['This field is required.']);
  });

  it('role_arn and external_id are write-only: sealed at rest, never returned, audited as field names only', async () => {
    const p = await project();
    const made = await call(s, 'POST', '/api/storages/s3', { token: manager.token, body: fields(p) });
    expect(made.status).toBe(201);
    const id = made.body.id as number;
    await call(s, 'PATCH', `/api/storages/s3/${id}`, { token: manager.token, body: { title: 'Renamed', external_id: EXTERNAL_ID } });
    await call(s, 'POST', `/api/storages/s3/${id}/sync`, { token: manager.token });
    for (const path of [`/api/storages/s3/${id}`, `/api/storages/s3?project=${p}`, `/api/storages?project=${p}`]) {
      const r = await call(s, 'GET', path, { token: manager.token });
      expect(r.status).toBe(200);
      const text = JSON.stringify(r.body);
      expect(text).toContain('"bucket":"roles"'); // the storage is there…
      for (const secret of ['role_arn', 'external_id', ROLE_ARN, EXTERNAL_ID, 'labelvault-media-reader', BASE.aws_secret_access_key]) expect(text).not.toContain(secret);
    }
    const row = await s.deps.db.selectFrom('import_storages').select(['credentials', 'settings']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.credentials).toMatch(/^v1\./);
    expect(`${row.credentials}${row.settings}`).not.toMatch(/labelvault-media-reader|lv-ext-4f1c9e7a2b/);
    const events = await s.deps.db.selectFrom('audit_events').select(['action', 'changes']).where('object_type', '=', 'import_storage').where('object_id', '=', String(id)).orderBy('id').execute();
    expect(events.map((e) => e.action)).toEqual(['storage.create', 'storage.update', 'storage.sync']);
    expect(JSON.stringify(events)).not.toMatch(/labelvault-media-reader|lv-ext-4f1c9e7a2b|123456789012/);
    expect(JSON.parse(events[0]!.changes).credentials.fields).toEqual(['aws_access_key_id', 'aws_secret_access_key', 'external_id', 'role_arn']);
    expect(JSON.parse(events[1]!.changes).credentials).toEqual({ status: 'changed', fields: ['external_id'] });
  });
});

describe('assumeRole on its own (no server)', () => {
  const options = { roleArn: ROLE_ARN, externalId: EXTERNAL_ID, sessionName: 'labelvault-check', region: 'eu-west-1', endpoint: null, base: { accessKeyId: BASE.aws_access_key_id, secretAccessKey: BASE.aws_secret_access_key } };

  it('goes to the region\'s STS endpoint unless one is configured', async () => {
    expect(stsEndpointFor('cn-north-1', null)).toBe('https://sts.cn-north-1.amazonaws.com.cn');
    expect(stsEndpointFor('eu-west-1', 'http://127.0.0.1:1')).toBe('http://127.0.0.1:1');
    const urls: string[] = [];
    await assumeRole({ ...options, transport: async (url) => (urls.push(url), { status: 403, body: '<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>' }) }).catch(() => {});
    expect(urls).toEqual(['https://sts.eu-west-1.amazonaws.com/']);
  });

  it('an STS that cannot be reached or answers without credentials is a StorageError naming role_arn', async () => {
    const unreachable = assumeRole({ ...options, transport: async () => Promise.reject(new Error('connect ECONNREFUSED internal detail')) });
    await expect(unreachable).rejects.toMatchObject({ name: 'StorageError', code: 'unreachable', field: 'role_arn' });
    await expect(unreachable).rejects.not.toHaveProperty('message', expect.stringContaining('internal detail'));
    await expect(assumeRole({ ...options, transport: async () => ({ status: 200, body: '<html>a proxy page</html>' }) })).rejects.toMatchObject({ code: 'invalid', field: 'role_arn' });
  });
});
