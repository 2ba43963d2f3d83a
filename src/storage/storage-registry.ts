/**
 * Which adapter serves which storage type. A storage row's settings (Label Studio's field names:
 * `bucket`, `prefix`, `region_name`, `s3_endpoint`, `path`, …) and its opened credentials go in,
 * an adapter comes out. Adding a type (gcs, azure, redis) is one factory here plus its
 * description in modules/storages/storage-types.ts; nothing else changes.
 */
import type net from 'node:net';
import { LocalFilesAdapter } from './local-files.adapter.js';
import { S3Adapter } from './s3.adapter.js';
import { StorageError, type StorageAdapter } from './storage-adapter.js';

/** Server-wide facts adapters need (from config). */
export interface AdapterEnv {
  localFiles: { enabled: boolean; documentRoot: string | null };
  /** CA certificates (PEM) trusted for storage endpoints' TLS, or null for Node's defaults. */
  ca: readonly string[] | null;
  /** Host resolution with the outbound address policy applied (SSRF), or null for the system's. */
  lookup: net.LookupFunction | null;
}

/** Builds an adapter from a storage's settings and opened credentials. */
export type AdapterFactory = (settings: Record<string, unknown>, credentials: Record<string, string>, env: AdapterEnv) => StorageAdapter;

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

const FACTORIES: Record<string, AdapterFactory> = {
  s3: (s, c, env) =>
    new S3Adapter({
      bucket: text(s.bucket) ?? '',
      prefix: text(s.prefix) ?? '',
      region: text(s.region_name),
      endpoint: text(s.s3_endpoint),
      accessKeyId: text(c.aws_access_key_id),
      secretAccessKey: text(c.aws_secret_access_key),
      sessionToken: text(c.aws_session_token),
      sseKmsKeyId: text(s.aws_sse_kms_key_id),
      ca: env.ca,
      lookup: env.lookup,
    }),
  localfiles: (s, _c, env) => new LocalFilesAdapter({ ...env.localFiles, folder: text(s.path) ?? '' }),
};

/** The storage types that have an adapter. */
export const ADAPTER_TYPES = Object.keys(FACTORIES);

/** An adapter for a storage; StorageError `invalid` for a type without one. */
export function createAdapter(type: string, settings: Record<string, unknown>, credentials: Record<string, string>, env: AdapterEnv): StorageAdapter {
  const factory = FACTORIES[type];
  if (!factory) throw new StorageError('invalid', `Storage type ${type} is not supported by this server.`, 'type');
  return factory(settings, credentials, env);
}
