/**
 * Which adapter serves which storage type. A storage row's settings (Label Studio's field names:
 * `bucket`, `prefix`, `region_name`, `s3_endpoint`, `path`, …) and its opened credentials go in,
 * an adapter comes out. Adding a type (as gcs, azure and redis were) is one factory here plus its
 * description in modules/storages/storage-types.ts; nothing else changes.
 */
import type net from 'node:net';
import { AzureBlobAdapter } from './azure-blob.adapter.js';
import { GcsAdapter } from './gcs.adapter.js';
import { LocalFilesAdapter } from './local-files.adapter.js';
import { RedisStorageAdapter } from './redis.adapter.js';
import { S3Adapter } from './s3.adapter.js';
import { StorageError, type StorageAdapter } from './storage-adapter.js';

/** Server-wide facts adapters need (from config). */
export interface AdapterEnv {
  localFiles: { enabled: boolean; documentRoot: string | null };
  /** CA certificates (PEM) trusted for S3 endpoints' TLS (AWS_CA_BUNDLE with CUSTOM_CA_CERTS), or null for Node's defaults. */
  ca: readonly string[] | null;
  /** CA certificates (PEM) trusted for the other storages' TLS (built-in roots plus CUSTOM_CA_CERTS), or null for Node's defaults. */
  trustCa?: readonly string[] | null;
  /** Host resolution with the outbound address policy applied (SSRF), or null for the system's. */
  lookup: net.LookupFunction | null;
}

/** Builds an adapter from a storage's settings and opened credentials. */
export type AdapterFactory = (settings: Record<string, unknown>, credentials: Record<string, string>, env: AdapterEnv) => StorageAdapter;

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** A port number from a setting (Label Studio sends it as a string); StorageError naming `port` otherwise. */
function portOf(v: unknown): number {
  if (v === undefined || v === null || v === '') return 6379;
  const n = typeof v === 'number' ? v : /^\d{1,5}$/.test(String(v).trim()) ? Number(String(v).trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new StorageError('invalid', 'Give a port between 1 and 65535.', 'port');
  return n;
}

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
  azure: (s, c, env) =>
    new AzureBlobAdapter({
      container: text(s.container) ?? '',
      prefix: text(s.prefix) ?? '',
      accountName: text(s.account_name),
      endpoint: text(s.azure_blob_endpoint),
      accountKey: text(c.account_key),
      sasToken: text(c.sas_token),
      ca: env.trustCa ?? null,
      lookup: env.lookup,
    }),
  gcs: (s, c, _env) =>
    new GcsAdapter({
      bucket: text(s.bucket) ?? '',
      prefix: text(s.prefix) ?? '',
      projectId: text(s.google_project_id),
      endpoint: text(s.gcs_endpoint),
      credentialsJson: text(c.google_application_credentials),
    }),
  redis: (s, c, env) =>
    new RedisStorageAdapter({
      host: text(s.host) ?? '',
      port: portOf(s.port),
      db: typeof s.db === 'number' ? s.db : 0,
      path: typeof s.path === 'string' ? s.path : '',
      password: text(c.password),
      tls:
        s.use_tls === true
          ? { ca: text(s.tls_ca_certs), defaultCa: env.trustCa ?? null, clientCert: text(s.tls_client_cert), clientKey: text(c.tls_client_key), servername: text(s.tls_servername) }
          : null,
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
