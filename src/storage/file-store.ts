/**
 * THE file store: where the server keeps files it writes itself and every node must read (export
 * snapshots, uploaded files). One interface, two implementations chosen by FILE_STORAGE: the data folder
 * (local.file-store.ts; several nodes must then share it as a volume) or one bucket of an
 * S3-compatible store (s3.file-store.ts). Unlike the per-project storages (storage-adapter.ts),
 * which read and write the customer's buckets, this is the server's own place.
 *
 * Keys are relative paths with `/` separators (`exports/12/34.json`), the same for both
 * implementations, so a key recorded in the database means the same file whichever node reads it.
 */
import type { Readable } from 'node:stream';
import type { Config } from '../config/config.js';

/** A stored file opened for reading. */
export interface StoredFile {
  /** The file's bytes, streamed (never held whole in memory). */
  body: Readable;
  /** Its size in bytes; undefined when the store did not say (send no content-length then). */
  size?: number | undefined;
}

/** What a file store does; every method streams and none buffers a whole file. */
export interface FileStore {
  readonly kind: 'local' | 's3';
  /**
   * Streams `body` into `key`. The file appears whole when the returned promise resolves, or not
   * at all: a failed or aborted write leaves nothing under the key (an earlier file there is
   * replaced only on success). An error thrown by `body` itself is rethrown unchanged.
   */
  put(key: string, body: AsyncIterable<string | Uint8Array>, opts: { contentType: string; signal?: AbortSignal }): Promise<{ size: number }>;
  /** Opens a file for reading; null when there is none under the key. */
  get(key: string): Promise<StoredFile | null>;
  /** Whether a file is stored under the key. */
  exists(key: string): Promise<boolean>;
  /** Removes a file (and any unfinished write of it); nothing to remove is not an error. */
  delete(key: string): Promise<void>;
  /** Removes every file whose key starts with `prefix` (which must end with `/`). */
  deletePrefix(prefix: string): Promise<void>;
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * Throws unless `key` is a relative path of plain segments (letters, digits, `_ . -`; no empty,
 * `.` or `..` segment, no leading dot): keys are built by the server, so a bad one is a bug.
 * With `folder`, the key must end with `/` (a prefix).
 */
export function checkKey(key: string, folder = false): void {
  const body = folder ? key.slice(0, -1) : key;
  const ok = key.length <= 512 && (!folder || key.endsWith('/')) && body.split('/').every((s) => SEGMENT.test(s));
  if (!ok) throw new Error(`Invalid file store key: ${JSON.stringify(key)}`);
}

const stores = new WeakMap<object, Promise<FileStore>>();

/**
 * The server's file store for a config, made once per config (one S3 client with its connection
 * pool per process). The S3 SDK is loaded only when FILE_STORAGE=s3. The bucket's TLS trust is
 * the S3 storages' own (AWS_CA_BUNDLE with CUSTOM_CA_CERTS, else CUSTOM_CA_CERTS with the built-in
 * roots); the endpoint is the administrator's, so the SSRF address policy does not apply to it.
 */
export function fileStoreOf(config: Readonly<Pick<Config, 'files' | 'trust'>>): Promise<FileStore> {
  let store = stores.get(config.files);
  if (store === undefined) {
    store = openFileStore(config);
    stores.set(config.files, store);
  }
  return store;
}

async function openFileStore(config: Readonly<Pick<Config, 'files' | 'trust'>>): Promise<FileStore> {
  const f = config.files;
  if (f.kind === 'local') return new (await import('./local.file-store.js')).LocalFileStore(f.root);
  const t = config.trust;
  const ca = t.awsCaBundle ? [...t.awsCaBundle.certs, ...t.customCas] : (t.ca ?? null);
  const { S3FileStore } = await import('./s3.file-store.js');
  return new S3FileStore({
    bucket: f.bucket,
    prefix: f.prefix,
    region: f.region,
    endpoint: f.endpoint,
    forcePathStyle: f.forcePathStyle,
    credentials: f.credentials && { accessKeyId: f.credentials.accessKeyId, secretAccessKey: f.credentials.secretAccessKey.reveal() },
    ca,
  });
}
