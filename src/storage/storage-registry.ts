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
import { checkRoleFields, type AssumedRoleCache, type StsTransport } from './aws-sts.js';
import { S3Adapter, type S3RoleSettings } from './s3.adapter.js';
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
  /**
   * Whether a storage given no credentials of its own may use the server's own cloud identity
   * (STORAGE_SERVER_CREDENTIALS_ENABLED); absent or false: such a storage is refused.
   */
  serverCredentials?: boolean;
  /** How S3 storages assume an IAM role (`role_arn`); absent: such a storage is refused. */
  sts?: {
    /** AWS_ENDPOINT_URL_STS, or null for the region's endpoint. */
    endpoint: string | null;
    transport: StsTransport;
    /** RoleSessionName for this storage (`labelvault-import-12`; `labelvault-check` for a connection check). */
    sessionName: string;
    /** The server's cache of temporary credentials (saved storages in use); null: ask STS each time (checks). */
    cache: AssumedRoleCache | null;
  };
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

/** The role an S3 storage assumes, from its `role_arn` and `external_id` credentials; null without `role_arn`. */
function s3Role(c: Record<string, string>, env: AdapterEnv): S3RoleSettings | null {
  const roleArn = text(c.role_arn);
  if (roleArn === null) {
    if (text(c.external_id) !== null) throw new StorageError('invalid', 'An external ID is only used with role_arn.', 'role_arn');
    return null;
  }
  if (!env.sts) throw new StorageError('invalid', 'This server cannot assume IAM roles for storages.', 'role_arn');
  checkRoleFields(roleArn, text(c.external_id), env.sts.sessionName);
  return { roleArn, externalId: text(c.external_id), sessionName: env.sts.sessionName, stsEndpoint: env.sts.endpoint, transport: env.sts.transport, cache: env.sts.cache };
}

/**
 * Refuses an S3 storage without its own key pair unless the server lets storages use its own AWS
 * identity: the SDK's default chain (also the base identity that would assume a role_arn) reaches
 * whatever the server's identity may, which is not any Manager's to use.
 */
function checkS3Keys(c: Record<string, string>, env: AdapterEnv): void {
  const keyId = text(c.aws_access_key_id);
  if ((keyId !== null && text(c.aws_secret_access_key) !== null) || env.serverCredentials === true) return;
  const field = keyId === null ? 'aws_access_key_id' : 'aws_secret_access_key';
  throw new StorageError('invalid', 'This field is required: this server does not let storages use its own AWS identity (STORAGE_SERVER_CREDENTIALS_ENABLED).', field);
}

/**
 * Whether a GCS endpoint is Google's own (googleapis.com or a subdomain, whatever the case, port,
 * path or trailing dot): a storage without a key must not name it unless the server lets storages
 * use its own Google credentials. An endpoint that is not a URL counts as Google's (refused);
 * the endpoint check names its own problem for a storage that has a key.
 */
export function isGoogleEndpoint(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return true;
  }
  host = host.toLowerCase().replace(/\.+$/, '');
  return host === 'googleapis.com' || host.endsWith('.googleapis.com');
}

const s3: AdapterFactory = (s, c, env) => {
  checkS3Keys(c, env);
  return new S3Adapter({
    bucket: text(s.bucket) ?? '',
    prefix: text(s.prefix) ?? '',
    region: text(s.region_name),
    endpoint: text(s.s3_endpoint),
    accessKeyId: text(c.aws_access_key_id),
    secretAccessKey: text(c.aws_secret_access_key),
    sessionToken: text(c.aws_session_token),
    role: s3Role(c, env),
    sseKmsKeyId: text(s.aws_sse_kms_key_id),
    ca: env.ca,
    lookup: env.lookup,
  });
};

const FACTORIES: Record<string, AdapterFactory> = {
  s3,
  // Label Studio Enterprise's "S3 with IAM role": an S3 storage that must name its role.
  s3s: (s, c, env) => {
    if (text(c.role_arn) === null) throw new StorageError('invalid', 'This field is required.', 'role_arn');
    return s3(s, c, env);
  },
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
  gcs: (s, c, env) => {
    const key = text(c.google_application_credentials);
    const endpoint = text(s.gcs_endpoint);
    if (key === null && env.serverCredentials !== true && (endpoint === null || isGoogleEndpoint(endpoint))) {
      throw new StorageError('invalid', 'This field is required: this server does not let storages use its own Google credentials (STORAGE_SERVER_CREDENTIALS_ENABLED).', 'google_application_credentials');
    }
    return new GcsAdapter({
      bucket: text(s.bucket) ?? '',
      prefix: text(s.prefix) ?? '',
      projectId: text(s.google_project_id),
      endpoint,
      credentialsJson: key,
      serverCredentials: env.serverCredentials === true,
    });
  },
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
