/**
 * THE storage interface: every kind of external storage (local files, S3 and S3-compatible
 * stores; GCS, Azure Blob and Redis are added the same way) is an adapter behind it, and one
 * contract test (test/storage/contract.test.ts) runs against each. Services never import an SDK:
 * they get an adapter from `storage-registry.ts` and call these methods.
 *
 * Keys are object names inside the storage's bucket (or folder), never URLs; `uriOf` turns a key
 * into the URI tasks reference (`s3://bucket/key`), `keyOf` reverses it for this storage only.
 * Errors are `StorageError`s with a message safe to show (no SDK text, no credentials).
 */
import type { Readable } from 'node:stream';

/** One object found by a listing. */
export interface StorageObject {
  key: string;
  size: number | null;
}

/** What to list: keys under `prefix` (recursive, or only its first level), matching `regex` (on the whole key). */
export interface ListOptions {
  prefix: string;
  regex: RegExp | null;
  recursive: boolean;
  signal?: AbortSignal;
}

/** A byte range, inclusive at both ends as in HTTP; `end` absent means to the last byte. */
export interface ByteRange {
  start: number;
  end?: number;
}

/** An object's bytes as a stream, with what an HTTP answer needs. */
export interface ObjectStream {
  body: Readable;
  /** Bytes in `body`. */
  length: number | null;
  /** The object's full size (for Content-Range). */
  totalSize: number | null;
  contentType: string | null;
  /** True when `body` holds only the requested range. */
  partial: boolean;
}

/** One adapter instance serves one storage connection (bucket, folder) with its credentials. */
export interface StorageAdapter {
  /** The storage type (`s3`, `localfiles`, …). */
  readonly type: string;
  /** The URI tasks use for an object of this storage. */
  uriOf(key: string): string;
  /** The key of a URI when it names an object of this storage (bucket and prefix), else null. */
  keyOf(uri: string): string | null;
  /** Lists objects page by page (each page non-empty), in key order where the backend keeps one. */
  list(opts: ListOptions): AsyncIterable<StorageObject[]>;
  /** Opens an object (or a range of it) for reading; StorageError `not_found` when absent. */
  read(key: string, range?: ByteRange): Promise<ObjectStream>;
  /** A URL that GETs the object without credentials for `ttlSeconds`, or null when the backend cannot presign. */
  presign(key: string, ttlSeconds: number): Promise<string | null>;
  /** Creates or replaces an object. */
  write(key: string, body: Buffer | string, contentType: string): Promise<void>;
  /** Deletes an object; deleting an absent object is not an error. */
  delete(key: string): Promise<void>;
  /** Checks the connection: reachable, credentials accepted, bucket (folder) present and listable. */
  validate(): Promise<void>;
  /** Releases connections (optional). */
  close?(): void;
}

/** Why a storage operation failed, in terms a client can act on. */
export type StorageErrorCode = 'not_found' | 'access_denied' | 'unreachable' | 'invalid' | 'refused';

/** A storage failure with a message safe to show (never SDK text or credentials). */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    /** The settings field at fault, when one is (`bucket`, `path`, `s3_endpoint`, …). */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}

/** Whether a key passes a listing's filters (prefix handled by the backend; regex here). */
export function keyMatches(key: string, regex: RegExp | null): boolean {
  return regex === null || regex.test(key);
}

/**
 * Joins a storage prefix and a relative name with exactly one `/` (Label Studio's export layout
 * `prefix/<annotation id>`); an empty prefix gives the name alone.
 */
export function joinKey(prefix: string, name: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  return p === '' ? name : `${p}/${name}`;
}
