/**
 * The storage contract: the same behaviour asked of every adapter behind src/storage's interface
 * (list with prefix / regex / recursive, read with ranges, presign, write, delete, validate),
 * against real backends: a folder on disk for local files, s3rver (an S3 emulator on loopback,
 * which does not check signatures) for S3, Azurite (Azure's emulator, which does) for Azure Blob,
 * the machine's redis-server (127.0.0.1:6379, keys under a random prefix, removed after) for Redis.
 * GCS has no emulator here: its case runs the real SDK against a loopback DOUBLE of the JSON API
 * that verifies V4 signed URLs (test/storage/gcs-double.ts says what it can and cannot prove).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError, type StorageAdapter } from '../../src/storage/storage-adapter.js';
import { createAdapter } from '../../src/storage/storage-registry.js';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type Azurite } from './azurite.js';
import { makeServiceAccount, startGcsDouble, type GcsDouble } from './gcs-double.js';
import { startS3rver, type S3rver } from './s3rver.js';

interface Backend {
  name: string;
  /** An adapter over an empty storage area; `prefix` is where its objects live. */
  make(): Promise<{ adapter: StorageAdapter; prefix: string; presigns: boolean; missing: StorageAdapter }>;
  /** What a pre-signed URL of 60 seconds carries. */
  expires?: RegExp;
  stop(): Promise<void>;
}

let s3: S3rver | undefined;
let azurite: Azurite | undefined;
let gcs: GcsDouble | undefined;
const redisPath = `lv-contract-${randomUUID()}/`;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-contract-'));
const env = () => ({ localFiles: { enabled: true, documentRoot: root }, ca: null, lookup: null });

const BACKENDS: Backend[] = [
  {
    name: 'localfiles',
    make: async () => {
      fs.mkdirSync(path.join(root, 'area'), { recursive: true });
      return {
        adapter: createAdapter('localfiles', { path: path.join(root, 'area') }, {}, env()),
        prefix: '',
        presigns: false,
        missing: createAdapter('localfiles', { path: path.join(root, 'nowhere') }, {}, env()),
      };
    },
    stop: async () => fs.rmSync(root, { recursive: true, force: true }),
  },
  {
    name: 's3',
    make: async () => {
      s3 = await startS3rver();
      await s3.createBucket('contract');
      const creds = { aws_access_key_id: s3.accessKeyId, aws_secret_access_key: s3.secretAccessKey };
      return {
        adapter: createAdapter('s3', { bucket: 'contract', prefix: '', s3_endpoint: s3.endpoint }, creds, env()),
        prefix: '',
        presigns: true,
        missing: createAdapter('s3', { bucket: 'no-such-bucket', s3_endpoint: s3.endpoint }, creds, env()),
      };
    },
    stop: async () => s3?.stop(),
  },
  {
    name: 'azure',
    expires: /se=\d{4}-/,
    make: async () => {
      azurite = await startAzurite();
      await azurite.createContainer('contract');
      const creds = { account_key: AZURITE_KEY };
      return {
        adapter: createAdapter('azure', { container: 'contract', account_name: AZURITE_ACCOUNT, azure_blob_endpoint: azurite.endpoint }, creds, env()),
        prefix: '',
        presigns: true,
        missing: createAdapter('azure', { container: 'no-such-container', account_name: AZURITE_ACCOUNT, azure_blob_endpoint: azurite.endpoint }, creds, env()),
      };
    },
    stop: async () => azurite?.stop(),
  },
  {
    name: 'gcs',
    expires: /X-Goog-Expires=60/,
    make: async () => {
      const account = makeServiceAccount();
      gcs = await startGcsDouble(account);
      gcs.createBucket('contract');
      const creds = { google_application_credentials: account.json };
      return {
        adapter: createAdapter('gcs', { bucket: 'contract', gcs_endpoint: gcs.endpoint }, creds, env()),
        prefix: '',
        presigns: true,
        missing: createAdapter('gcs', { bucket: 'no-such-bucket', gcs_endpoint: gcs.endpoint }, creds, env()),
      };
    },
    stop: async () => {
      expect(gcs?.unknown).toEqual([]);
      await gcs?.stop();
    },
  },
  {
    name: 'redis',
    make: async () => ({
      adapter: createAdapter('redis', { host: '127.0.0.1', port: '6379', db: 0, path: redisPath }, {}, env()),
      prefix: redisPath.slice(0, -1),
      presigns: false,
      missing: createAdapter('redis', { host: '127.0.0.1', port: 6379, db: 32_000 }, {}, env()),
    }),
    stop: async () => {
      const r = new Redis('redis://127.0.0.1:6379/0');
      const keys = await r.keys(`${redisPath}*`);
      if (keys.length > 0) await r.del(...keys);
      await r.quit();
    },
  },
];

async function collect(adapter: StorageAdapter, opts: { prefix?: string; regex?: RegExp; recursive?: boolean }): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of adapter.list({ prefix: opts.prefix ?? '', regex: opts.regex ?? null, recursive: opts.recursive ?? true })) {
    expect(page.length).toBeGreaterThan(0);
    keys.push(...page.map((o) => o.key));
  }
  return keys.sort();
}

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

describe.each(BACKENDS)('storage contract: $name', (backend) => {
  let a: StorageAdapter;
  let missing: StorageAdapter;
  let presigns: boolean;
  let base: string;
  const k = (name: string) => (base === '' ? name : `${base}/${name}`);

  beforeAll(async () => {
    const made = await backend.make();
    a = made.adapter;
    missing = made.missing;
    presigns = made.presigns;
    // Local-files keys are relative to the document root: the storage's folder is their first segment.
    base = backend.name === 'localfiles' ? 'area' : made.prefix;
    await a.write(k('images/1.jpg'), Buffer.from('one'), 'image/jpeg');
    await a.write(k('images/2.png'), Buffer.from('two!'), 'image/png');
    await a.write(k('images/deep/3.jpg'), Buffer.from('three'), 'image/jpeg');
    await a.write(k('tasks.json'), '[{"text":"a"}]', 'application/json');
  }, 30_000);
  afterAll(async () => {
    a?.close?.();
    missing?.close?.();
    await backend.stop();
  });

  it('validates a reachable storage and refuses a missing one', async () => {
    await expect(a.validate()).resolves.toBeUndefined();
    const err = await missing.validate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('not_found');
  });

  it('lists recursively, by prefix, by regex, and only the first level when not recursive', async () => {
    expect(await collect(a, {})).toEqual([k('images/1.jpg'), k('images/2.png'), k('images/deep/3.jpg'), k('tasks.json')]);
    const pre = backend.name === 'localfiles' ? 'images/' : k('images/');
    expect(await collect(a, { prefix: pre })).toEqual([k('images/1.jpg'), k('images/2.png'), k('images/deep/3.jpg')]);
    expect(await collect(a, { regex: /\.jpg$/ })).toEqual([k('images/1.jpg'), k('images/deep/3.jpg')]);
    expect(await collect(a, { recursive: false })).toEqual([k('tasks.json')]);
  });

  it('reads whole objects and byte ranges; a missing object is not_found', async () => {
    const whole = await a.read(k('images/2.png'));
    expect(await text(whole.body)).toBe('two!');
    expect(whole.totalSize).toBe(4);
    const part = await a.read(k('images/2.png'), { start: 1, end: 2 });
    expect(await text(part.body)).toBe('wo');
    expect(part.partial).toBe(true);
    expect(part.totalSize).toBe(4);
    const err = await a.read(k('images/none.jpg')).catch((e: unknown) => e);
    expect((err as StorageError).code).toBe('not_found');
  });

  it('maps keys to URIs and back, refusing URIs of other storages', () => {
    const uri = a.uriOf(k('images/1.jpg'));
    expect(a.keyOf(uri)).toBe(k('images/1.jpg'));
    expect(a.keyOf('s3://another-bucket/images/1.jpg')).toBeNull();
    expect(a.keyOf('/data/local-files/?d=elsewhere/1.jpg')).toBeNull();
  });

  it('presigns a GET that returns the bytes (or says it cannot)', async () => {
    const url = await a.presign(k('images/1.jpg'), 60);
    if (!presigns) {
      expect(url).toBeNull();
      return;
    }
    expect(url).toMatch(backend.expires ?? /X-Amz-Expires=60/);
    const res = await fetch(url!);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('one');
  });

  it('overwrites and deletes; deleting twice is fine', async () => {
    await a.write(k('tmp/x.json'), '{"v":1}', 'application/json');
    await a.write(k('tmp/x.json'), '{"v":2}', 'application/json');
    expect(await text((await a.read(k('tmp/x.json'))).body)).toBe('{"v":2}');
    await a.delete(k('tmp/x.json'));
    await a.delete(k('tmp/x.json'));
    expect(((await a.read(k('tmp/x.json')).catch((e: unknown) => e)) as StorageError).code).toBe('not_found');
  });
});
