/**
 * Azure Blob, GCS and Redis storages over the API, on SQLite and PostgreSQL: create / validate /
 * sync / resolve, credentials never returned, SSRF refusals naming the field, export of
 * annotations. Backends, all on loopback:
 * - Azure: Azurite (npm), which VERIFIES SAS signatures: the URL our server signs returns the
 *   bytes; a tampered, an expired, and a reused-for-another-blob SAS are refused by Azurite (403).
 * - GCS: NO emulator runs here. The real SDK talks to a small loopback DOUBLE of the GCS JSON API
 *   (test/storage/gcs-double.ts) that also verifies V4 signed URLs with the service account's
 *   public key (host signed without the port, as the SDK does): ours passes, tampered → 403,
 *   expired → 400. It proves what our server signs and asks for, not Google's behaviour.
 * - Redis: the machine's redis-server on 127.0.0.1:6379 (keys under a random prefix, removed
 *   after), and a throwaway TLS-only redis-server requiring client certificates (test/tls-fixtures.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapter } from '../../src/storage/storage-registry.js';
import { call, DIALECTS, startServer, type TestServer, freePort, waitFor } from '../harness.js';
import { makeTeam, type Member } from '../factories.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type Azurite } from '../storage/azurite.js';
import { makeServiceAccount, startGcsDouble, type GcsDouble } from '../storage/gcs-double.js';
import { makeCa, makeTempDir, removeTempDir, type IssuedCert, type TestCa } from '../tls-fixtures.js';

const CONFIG = '<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="A"/><Choice value="B"/></Choices></View>';
const RESULT = [{ id: 'r', from_name: 'c', to_name: 'image', type: 'choices', value: { choices: ['A'] } }];
const env = { localFiles: { enabled: false, documentRoot: null }, ca: null, lookup: null };
const prefix = `lv-api-${randomUUID()}`;

let azurite: Azurite;
let gcs: GcsDouble;
const account = makeServiceAccount();
const plain = new Redis('redis://127.0.0.1:6379/0');
let tmp: string;
let ca: TestCa;
let otherCa: TestCa;
let clientCert: IssuedCert;
let tlsRedis: { port: number; proc: ChildProcess };


/** A TLS-only redis-server requiring client certificates of `ca` (as test/security/redis-tls.test.ts starts it). */
async function startTlsRedis(server: IssuedCert): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn('/usr/bin/redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', server.certPath, '--tls-key-file', server.keyPath, '--tls-ca-cert-file', ca.certPath, '--tls-auth-clients', 'yes', '--requirepass', 'tls-redis-pass', '--save', '', '--appendonly', 'no', '--dir', tmp], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${log}`)), 10_000);
    proc.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${log}`)));
  });
  return { port, proc };
}

beforeAll(async () => {
  azurite = await startAzurite();
  for (const c of ['media', 'json', 'other']) await azurite.createContainer(c);
  for (let i = 0; i < 3; i++) await azurite.client.getContainerClient('media').getBlockBlobClient(`pics/${i}.jpg`).upload(`azure-${i}-bytes`, `azure-${i}-bytes`.length);
  for (let i = 0; i < 3; i++) {
    const body = JSON.stringify({ image: `azure-blob://media/pics/${i}.jpg`, n: i });
    await azurite.client.getContainerClient('json').getBlockBlobClient(`tasks/${i}.json`).upload(body, body.length);
  }
  gcs = await startGcsDouble(account);
  gcs.createBucket('gmedia');
  for (let i = 0; i < 3; i++) gcs.put('gmedia', `pics/${i}.jpg`, `gcs-${i}-bytes`, 'image/jpeg');
  tmp = await makeTempDir('lv-cloud-');
  ca = await makeCa(tmp);
  otherCa = await makeCa(tmp, 'other-ca');
  clientCert = await ca.issue('client', { client: true });
  tlsRedis = await startTlsRedis(await ca.issue('server', { dns: ['localhost'], ip: ['127.0.0.1'] }));
}, 60_000);

afterAll(async () => {
  await azurite?.stop();
  expect(gcs?.unknown ?? []).toEqual([]);
  await gcs?.stop();
  const keys = await plain.keys(`${prefix}*`);
  if (keys.length > 0) await plain.del(...keys);
  await plain.quit();
  tlsRedis?.proc.kill('SIGTERM');
  if (tmp) await removeTempDir(tmp);
});

describe('signatures the emulators check (adapters)', () => {
  it('Azure: Azurite accepts our SAS URL and refuses a tampered, an expired and a reused one (403)', async () => {
    const a = createAdapter('azure', { container: 'media', account_name: AZURITE_ACCOUNT, azure_blob_endpoint: azurite.endpoint }, { account_key: AZURITE_KEY }, env);
    const url = (await a.presign('pics/0.jpg', 60))!;
    expect(url).toMatch(/sp=r/);
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('azure-0-bytes');
    const u = new URL(url);
    const sig = u.searchParams.get('sig')!;
    u.searchParams.set('sig', `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`);
    expect((await fetch(u)).status).toBe(403);
    expect((await fetch(url.replace('pics/0.jpg', 'pics/1.jpg'))).status).toBe(403);
    const longer = new URL(url);
    longer.searchParams.set('se', '2099-01-01T00:00:00Z');
    expect((await fetch(longer)).status).toBe(403);
    expect((await fetch((await a.presign('pics/0.jpg', -120))!)).status).toBe(403);
    // Only a SAS token: listing and reading work, and the token is never handed out as a URL.
    const sas = (await azurite.client.getContainerClient('media').generateSasUrl({ permissions: (await import('@azure/storage-blob')).ContainerSASPermissions.parse('rl'), expiresOn: new Date(Date.now() + 600_000) })).split('?')[1]!;
    const b = createAdapter('azure', { container: 'media', account_name: AZURITE_ACCOUNT, azure_blob_endpoint: azurite.endpoint }, { sas_token: sas }, env);
    await b.validate();
    expect(await b.presign('pics/0.jpg', 60)).toBeNull();
  });

  it('Azure: connections resolve through the address policy given to the adapter', async () => {
    const refuse = ((_h: string, _o: unknown, cb: (e: Error) => void) => cb(Object.assign(new Error('Refused to connect'), { code: 'EREFUSED' }))) as never;
    const a = createAdapter('azure', { container: 'media', account_name: AZURITE_ACCOUNT, azure_blob_endpoint: azurite.endpoint.replace('127.0.0.1', 'localhost') }, { account_key: AZURITE_KEY }, { ...env, lookup: refuse });
    await expect(a.validate()).rejects.toMatchObject({ code: 'unreachable' });
  });

  it('GCS (loopback double): our V4 signed URL passes, a tampered one is 403, an expired one 400', async () => {
    const a = createAdapter('gcs', { bucket: 'gmedia', gcs_endpoint: gcs.endpoint }, { google_application_credentials: account.json }, env);
    const url = (await a.presign('pics/1.jpg', 1))!;
    expect(url).toMatch(/X-Goog-Expires=1&/);
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('gcs-1-bytes');
    expect((await fetch(url.replace('pics/1.jpg', 'pics/2.jpg'))).status).toBe(403);
    expect((await fetch(url.replace('X-Goog-Expires=1&', 'X-Goog-Expires=9999&'))).status).toBe(403);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await fetch(url)).status).toBe(400);
    // Without a key (Application Default Credentials) nothing is signed: media stream instead.
    expect(await createAdapter('gcs', { bucket: 'gmedia', gcs_endpoint: gcs.endpoint }, {}, env).presign('pics/1.jpg', 60)).toBeNull();
  });
});

describe.each(DIALECTS)('cloud storages on %s', (dialect) => {
  let s: TestServer;
  let manager: Member;
  let annotator: Member;
  let foreign: Member;
  let workspace: number;
  const project = async (title = 'C') => (await call(s, 'POST', '/api/projects', { token: manager.token, body: { title, label_config: CONFIG, workspace } })).body.id as number;
  const create = async (path: string, body: Record<string, unknown>) => {
    const r = await call(s, 'POST', path, { token: manager.token, body });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };
  const syncAndWait = async (base: string, id: number) => {
    expect((await call(s, 'POST', `${base}/${id}/sync`, { token: manager.token })).status).toBe(200);
    return waitFor(async () => {
      const g = await call(s, 'GET', `${base}/${id}`, { token: manager.token });
      return ['completed', 'failed'].includes(g.body.status) ? g.body : undefined;
    });
  };
  const tasksOf = async (p: number) => (await call(s, 'GET', `/api/projects/${p}/tasks`, { token: manager.token })).body as { id: number; data: Record<string, string> }[];
  const noSecrets = async (paths: string[], secrets: string[]) => {
    for (const path of paths) {
      const r = await call(s, 'GET', path, { token: manager.token });
      expect(r.status).toBe(200);
      for (const secret of secrets) expect(JSON.stringify(r.body)).not.toContain(secret);
    }
  };

  beforeAll(async () => {
    s = await startServer(dialect, { SSRF_PROTECTION_ENABLED: 'true', SSRF_ALLOWED_HOSTS: '127.0.0.1' });
    const team = await makeTeam(s.deps);
    manager = team.manager;
    annotator = team.annotator;
    foreign = team.other.owner;
    workspace = team.workspaceId;
  }, 60_000);
  afterAll(async () => s?.close());

  it('Azure: create (key write-only), refusals naming the field, media sync, 303 to a SAS URL Azurite serves', async () => {
    const p = await project('azure');
    const base = { project: p, account_name: AZURITE_ACCOUNT, azure_blob_endpoint: azurite.endpoint };
    const post = (body: Record<string, unknown>) => call(s, 'POST', '/api/storages/azure', { token: manager.token, body: { ...base, account_key: AZURITE_KEY, ...body } });
    expect((await post({ container: 'nope' })).body.validation_errors).toHaveProperty('container');
    expect((await post({ container: 'media', account_key: 'AAAA' })).body.validation_errors).toHaveProperty('account_key');
    const meta = await post({ container: 'media', azure_blob_endpoint: 'http://169.254.169.254/acct' });
    expect(meta.status).toBe(400);
    expect(meta.body.validation_errors.azure_blob_endpoint[0]).toMatch(/SSRF/);
    expect((await call(s, 'POST', '/api/storages/azure/validate', { token: manager.token, body: { ...base, container: 'media', account_key: AZURITE_KEY } })).status).toBe(200);
    expect((await call(s, 'POST', '/api/storages/azure', { token: annotator.token, body: { ...base, container: 'media' } })).status).toBe(403);
    const st = await create('/api/storages/azure', { ...base, container: 'media', prefix: 'pics/', use_blob_urls: true, recursive_scan: true, presign_ttl: 3, account_key: AZURITE_KEY });
    expect(st).toMatchObject({ type: 'azure', container: 'media', account_name: AZURITE_ACCOUNT, presign: true, presign_ttl: 3 });
    expect(st).not.toHaveProperty('account_key');
    await noSecrets([`/api/storages/azure/${st.id}`, `/api/storages/azure?project=${p}`, `/api/storages?project=${p}`], [AZURITE_KEY]);
    expect((await call(s, 'GET', `/api/storages/azure/${st.id}`, { token: foreign.token })).status).toBe(404);
    const done = await syncAndWait('/api/storages/azure', st.id);
    expect(done.status, done.traceback).toBe('completed');
    expect(done.last_sync_count).toBe(3);
    expect((await syncAndWait('/api/storages/azure', st.id)).last_sync_count).toBe(0);
    const task = (await tasksOf(p)).find((t) => t.data.image!.endsWith(Buffer.from('azure-blob://media/pics/0.jpg').toString('base64url')))!;
    const r = await fetch(`${s.url}${task.data.image}`, { headers: { authorization: `Token ${manager.token}` }, redirect: 'manual' });
    expect(r.status).toBe(303);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const location = r.headers.get('location')!;
    expect(location.startsWith(`${azurite.endpoint}/media/pics/0.jpg?`)).toBe(true);
    const ttl = new Date(new URL(location).searchParams.get('se')!).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(170_000);
    expect(ttl).toBeLessThanOrEqual(181_000);
    expect(await (await fetch(location)).text()).toBe('azure-0-bytes');
    expect((await fetch(location.replace(/sig=[^&]+/, 'sig=AAAA'))).status).toBe(403);
    const audit = await s.deps.db.selectFrom('audit_events').select('changes').where('object_type', '=', 'import_storage').where('object_id', '=', String(st.id)).execute();
    expect(JSON.stringify(audit)).not.toContain(AZURITE_KEY);
  });

  it('Azure: JSON task files sync; annotations are exported and removed', async () => {
    const p = await project('azure-json');
    const st = await create('/api/storages/azure', { project: p, container: 'json', prefix: 'tasks/', recursive_scan: true, account_name: AZURITE_ACCOUNT, azure_blob_endpoint: azurite.endpoint, account_key: AZURITE_KEY });
    expect((await syncAndWait('/api/storages/azure', st.id)).last_sync_count).toBe(3);
    const out = await create('/api/storages/export/azure', { project: p, container: 'other', prefix: `out-${dialect}`, can_delete_objects: true, account_name: AZURITE_ACCOUNT, azure_blob_endpoint: azurite.endpoint, account_key: AZURITE_KEY });
    expect(out).not.toHaveProperty('account_key');
    const task = (await tasksOf(p))[0]!;
    const a = await call(s, 'POST', `/api/tasks/${task.id}/annotations`, { token: manager.token, body: { result: RESULT } });
    expect(a.status).toBe(201);
    const blob = azurite.client.getContainerClient('other').getBlobClient(`out-${dialect}/${a.body.id}`);
    const doc = await waitFor(async () => ((await blob.exists()) ? JSON.parse((await blob.downloadToBuffer()).toString()) : undefined));
    expect(doc).toMatchObject({ id: a.body.id, task: { id: task.id } });
    expect((await call(s, 'DELETE', `/api/annotations/${a.body.id}`, { token: manager.token })).status).toBe(204);
    await waitFor(async () => ((await blob.exists()) ? undefined : true));
  });

  it('GCS (loopback double): key write-only, SSRF refusal, media sync, 303 to a V4 signed URL the double verifies', async () => {
    const p = await project('gcs');
    const base = { project: p, gcs_endpoint: gcs.endpoint };
    const post = (body: Record<string, unknown>) => call(s, 'POST', '/api/storages/gcs', { token: manager.token, body: { ...base, google_application_credentials: account.json, ...body } });
    expect((await post({ bucket: 'nope' })).body.validation_errors).toHaveProperty('bucket');
    expect((await post({ bucket: 'gmedia', google_application_credentials: '{not json' })).body.validation_errors).toHaveProperty('google_application_credentials');
    expect((await post({ bucket: 'gmedia', gcs_endpoint: 'http://10.0.0.1:4443' })).body.validation_errors.gcs_endpoint[0]).toMatch(/SSRF/);
    const st = await create('/api/storages/gcs', { ...base, bucket: 'gmedia', prefix: 'pics/', use_blob_urls: true, recursive_scan: true, google_application_credentials: account.json });
    expect(st).toMatchObject({ type: 'gcs', bucket: 'gmedia', presign_ttl: 1 });
    await noSecrets([`/api/storages/gcs/${st.id}`, `/api/storages?project=${p}`], ['private_key', 'BEGIN PRIVATE KEY']);
    expect((await syncAndWait('/api/storages/gcs', st.id)).last_sync_count).toBe(3);
    const task = (await tasksOf(p)).find((t) => t.data.image!.endsWith(Buffer.from('gs://gmedia/pics/2.jpg').toString('base64url')))!;
    const r = await fetch(`${s.url}${task.data.image}`, { headers: { authorization: `Token ${manager.token}` }, redirect: 'manual' });
    expect(r.status).toBe(303);
    const location = r.headers.get('location')!;
    expect(location).toContain('X-Goog-Expires=60&'); // the short default: one minute
    expect(await (await fetch(location)).text()).toBe('gcs-2-bytes');
    // Presign off: the bytes stream through the server, with Range.
    expect((await call(s, 'PATCH', `/api/storages/gcs/${st.id}`, { token: manager.token, body: { presign: false } })).status).toBe(200);
    const part = await fetch(`${s.url}${task.data.image}`, { headers: { authorization: `Token ${manager.token}`, range: 'bytes=4-4' } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe('2');
  });

  it('Redis: JSON tasks from keys under a prefix, export to <path>:<annotation id>, SSRF and bad fields refused', async () => {
    const p = await project('redis');
    const path = `${prefix}-${dialect}:tasks:`;
    for (let i = 0; i < 3; i++) await plain.set(`${path}${i}`, JSON.stringify({ image: `s3://x/${i}.jpg` }));
    await plain.set(`${prefix}-${dialect}:other`, JSON.stringify({ image: 'not synced' }));
    const post = (body: Record<string, unknown>) => call(s, 'POST', '/api/storages/redis', { token: manager.token, body: { project: p, ...body } });
    expect((await post({ host: '169.254.169.254' })).body.validation_errors.host[0]).toMatch(/SSRF/);
    expect((await post({ host: 'http://127.0.0.1' })).body.validation_errors).toHaveProperty('host');
    expect((await post({ host: '127.0.0.1', port: 'x' })).body.validation_errors).toHaveProperty('port');
    expect((await post({ host: '127.0.0.1', port: '6379', db: 32_000 })).body.validation_errors).toHaveProperty('db');
    const st = await create('/api/storages/redis', { project: p, host: '127.0.0.1', port: '6379', db: 0, path });
    expect(st).toMatchObject({ type: 'redis', host: '127.0.0.1', port: '6379', db: 0, path });
    expect((await syncAndWait('/api/storages/redis', st.id)).last_sync_count).toBe(3);
    expect((await syncAndWait('/api/storages/redis', st.id)).last_sync_count).toBe(0);
    const out = await create('/api/storages/export/redis', { project: p, host: '127.0.0.1', port: 6379, path: `${prefix}-${dialect}:out`, can_delete_objects: true });
    const task = (await tasksOf(p))[0]!;
    const a = await call(s, 'POST', `/api/tasks/${task.id}/annotations`, { token: manager.token, body: { result: RESULT } });
    const key = `${prefix}-${dialect}:out:${a.body.id}`;
    const doc = await waitFor(async () => {
      const v = await plain.get(key);
      return v === null ? undefined : JSON.parse(v);
    });
    expect(doc).toMatchObject({ id: a.body.id, task: { id: task.id } });
    expect(doc.task.data.image).toMatch(/^s3:\/\/x\/\d\.jpg$/); // the stored URI, not the app's resolve URL
    expect((await call(s, 'DELETE', `/api/annotations/${a.body.id}`, { token: manager.token })).status).toBe(204);
    await waitFor(async () => ((await plain.get(key)) === null ? true : undefined));
    expect((await syncAndWait('/api/storages/export/redis', out.id)).status).toBe('completed');
  });

  it('Redis over TLS: CA and client certificate work; a wrong CA or a missing client certificate is refused naming the field', async () => {
    const p = await project('redis-tls');
    const tlsBase = { project: p, host: '127.0.0.1', port: String(tlsRedis.port), use_tls: true, tls_ca_certs: ca.cert, password: 'tls-redis-pass' };
    const v = (body: Record<string, unknown>) => call(s, 'POST', '/api/storages/redis/validate', { token: manager.token, body: { ...tlsBase, ...body } });
    expect((await v({ tls_client_cert: clientCert.cert, tls_client_key: clientCert.key })).status).toBe(200);
    expect((await v({ tls_ca_certs: otherCa.cert, tls_client_cert: clientCert.cert, tls_client_key: clientCert.key })).body.validation_errors).toHaveProperty('tls_ca_certs');
    expect((await v({})).body.validation_errors).toHaveProperty('tls_client_cert');
    expect((await v({ tls_client_cert: clientCert.cert })).body.validation_errors).toHaveProperty('tls_client_key');
    expect((await v({ tls_client_cert: clientCert.cert, tls_client_key: clientCert.key, password: 'nope' })).body.validation_errors).toHaveProperty('password');
    const st = await create('/api/storages/redis', { ...tlsBase, tls_client_cert: clientCert.cert, tls_client_key: clientCert.key, path: 'x' });
    expect(st).not.toHaveProperty('tls_client_key');
    expect(st).not.toHaveProperty('password');
    await noSecrets([`/api/storages/redis/${st.id}`, `/api/storages?project=${p}`], ['PRIVATE KEY', 'tls-redis-pass']);
    expect((await syncAndWait('/api/storages/redis', st.id)).status).toBe('completed');
  });
});
