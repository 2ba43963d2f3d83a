/**
 * The file store contract (src/storage/file-store.ts), run against both implementations: the
 * data folder and an S3 bucket on s3rver (an emulator: it does not check signatures, which
 * nothing here relies on). Writes stream (a multipart upload past one part), appear whole or not
 * at all, and read, exist, delete and delete-by-prefix behave the same on both.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { fileStoreOf, type FileStore } from '../../src/storage/file-store.js';
import { LocalFileStore } from '../../src/storage/local.file-store.js';
import { S3FileStore } from '../../src/storage/s3.file-store.js';
import { startS3rver, type S3rver } from './s3rver.js';

const BUCKET = 'lv-file-store';
let s3: S3rver;
let root: string;

beforeAll(async () => {
  s3 = await startS3rver();
  await s3.createBucket(BUCKET);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-file-store-'));
});
afterAll(async () => {
  await s3?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function text(store: FileStore, key: string): Promise<string | null> {
  const file = await store.get(key);
  if (file === null) return null;
  const parts: Buffer[] = [];
  for await (const chunk of file.body) parts.push(chunk as Buffer);
  const body = Buffer.concat(parts);
  expect(body.length).toBe(file.size);
  return body.toString('utf8');
}

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<string | Uint8Array> {
  for (const p of parts) yield p;
}

/** Megabytes of deterministic bytes, in 1 MiB chunks. */
async function* megabytes(n: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < n; i += 1) yield Buffer.alloc(1024 * 1024, i % 251);
}

const s3Store = () => new S3FileStore({ bucket: BUCKET, prefix: 'contract/', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, ca: null });

describe.each([
  ['local', () => new LocalFileStore(root)],
  ['s3', s3Store],
] as const)('file store: %s', (kind, make) => {
  let store: FileStore;
  beforeAll(() => {
    store = make();
  });

  it('writes a streamed file and reads it back whole; exists and delete follow it', async () => {
    const { size } = await store.put('exports/1/1.json', chunks('[', '{"a":1}', new TextEncoder().encode(',{"b":"é"}'), ']'), { contentType: 'application/json' });
    expect(size).toBe(Buffer.byteLength('[{"a":1},{"b":"é"}]'));
    expect(await text(store, 'exports/1/1.json')).toBe('[{"a":1},{"b":"é"}]');
    expect(await store.exists('exports/1/1.json')).toBe(true);
    await store.put('exports/1/1.json', chunks('[]'), { contentType: 'application/json' });
    expect(await text(store, 'exports/1/1.json')).toBe('[]');
    await store.delete('exports/1/1.json');
    expect(await store.exists('exports/1/1.json')).toBe(false);
    expect(await store.get('exports/1/1.json')).toBeNull();
    await store.delete('exports/1/1.json');
  });

  it('streams a file larger than one upload part (multipart on S3) without changing a byte', async () => {
    const expected = createHash('md5');
    for await (const c of megabytes(19)) expected.update(c);
    const { size } = await store.put('exports/2/big.json', megabytes(19), { contentType: 'application/json' });
    expect(size).toBe(19 * 1024 * 1024);
    const file = (await store.get('exports/2/big.json'))!;
    expect(file.size).toBe(size);
    const got = createHash('md5');
    for await (const c of file.body) got.update(c as Buffer);
    expect(got.digest('hex')).toBe(expected.digest('hex'));
  });

  it('leaves nothing behind when the body fails, keeps an earlier file, and rethrows the body’s own error', async () => {
    class BodyError extends Error {}
    async function* failing(afterMb: number): AsyncGenerator<Uint8Array> {
      yield* megabytes(afterMb);
      throw new BodyError('stop');
    }
    await expect(store.put('exports/3/a.json', failing(1), { contentType: 'application/json' })).rejects.toBeInstanceOf(BodyError);
    await expect(store.put('exports/3/b.json', failing(10), { contentType: 'application/json' })).rejects.toBeInstanceOf(BodyError);
    expect(await store.exists('exports/3/a.json')).toBe(false);
    expect(await store.exists('exports/3/b.json')).toBe(false);
    await store.put('exports/3/c.json', chunks('kept'), { contentType: 'application/json' });
    await expect(store.put('exports/3/c.json', failing(1), { contentType: 'application/json' })).rejects.toBeInstanceOf(BodyError);
    expect(await text(store, 'exports/3/c.json')).toBe('kept');
    // s3rver cannot list multipart uploads, so that the failed one was aborted is not checked on S3.
    if (kind === 'local') expect(fs.readdirSync(path.join(root, 'exports/3'))).toEqual(['c.json']);
  });

  it('stops a write when its signal aborts', async () => {
    const ac = new AbortController();
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield* megabytes(2);
      ac.abort();
      yield* megabytes(2);
    }
    await expect(store.put('exports/4/a.json', slow(), { contentType: 'application/json', signal: ac.signal })).rejects.toThrow();
    expect(await store.exists('exports/4/a.json')).toBe(false);
  });

  it('deletes every file under a prefix and nothing else', async () => {
    for (const key of ['exports/5/1.json', 'exports/5/2.json', 'exports/50/1.json']) await store.put(key, chunks('x'), { contentType: 'application/json' });
    await store.deletePrefix('exports/5/');
    expect(await store.exists('exports/5/1.json')).toBe(false);
    expect(await store.exists('exports/5/2.json')).toBe(false);
    expect(await store.exists('exports/50/1.json')).toBe(true);
    await store.deletePrefix('exports/404/');
  });

  it('refuses keys that could leave their place', async () => {
    for (const key of ['../x.json', 'exports/../../x', '/etc/passwd', 'exports//x', 'exports/.hidden', '']) {
      await expect(store.put(key, chunks('x'), { contentType: 'text/plain' }), key).rejects.toThrow(/Invalid file store key/);
      await expect(store.get(key), key).rejects.toThrow(/Invalid file store key/);
    }
    await expect(store.deletePrefix('exports')).rejects.toThrow(/Invalid file store key/);
  });
});

describe('file store: s3 without a length in the response', () => {
  it('reports the size as unknown (undefined), never 0, and still streams the whole body', async () => {
    const store = s3Store();
    await store.put('exports/6/1.json', chunks('[1,2,3]'), { contentType: 'application/json' });
    // As a store answering with chunked encoding would: the SDK's output then has no ContentLength.
    const client = (store as unknown as { client: S3Client }).client;
    client.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        delete (out.output as { ContentLength?: number }).ContentLength;
        return out;
      },
      { step: 'initialize', name: 'dropContentLength' },
    );
    const file = (await store.get('exports/6/1.json'))!;
    expect(file.size).toBeUndefined();
    const parts: Buffer[] = [];
    for await (const c of file.body) parts.push(c as Buffer);
    expect(Buffer.concat(parts).toString('utf8')).toBe('[1,2,3]');
  });
});

describe('file store from the configuration', () => {
  const env = () => ({
    FILE_STORAGE: 's3',
    FILE_STORAGE_S3_BUCKET: BUCKET,
    FILE_STORAGE_S3_PREFIX: 'from-config',
    FILE_STORAGE_S3_ENDPOINT: s3.endpoint,
    FILE_STORAGE_S3_ACCESS_KEY_ID: s3.accessKeyId,
    FILE_STORAGE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  });

  it('opens the bucket named by FILE_STORAGE_S3_*, under the prefix, once per configuration', async () => {
    const config = loadConfig(env());
    const store = await fileStoreOf(config);
    expect(store.kind).toBe('s3');
    expect(await fileStoreOf(config)).toBe(store);
    await store.put('exports/9/1.json', chunks('[]'), { contentType: 'application/json' });
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'from-config/exports/9/1.json' }));
    expect(head.ContentLength).toBe(2);
    expect(head.ContentType).toBe('application/json');
    expect((await fileStoreOf(loadConfig({}))).kind).toBe('local');
  });

  it('never prints the secret access key', () => {
    const secret = 'a-secret-access-key-for-the-test';
    const config = loadConfig({ ...env(), FILE_STORAGE_S3_SECRET_ACCESS_KEY: secret });
    const shown = [JSON.stringify(config), util.inspect(config, { depth: 10 }), String(config.files.kind === 's3' && config.files.credentials?.secretAccessKey)];
    for (const s of shown) expect(s).not.toContain(secret);
    expect(JSON.stringify(config.files)).toContain('[redacted]');
  });
});
