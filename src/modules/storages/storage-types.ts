/**
 * The storage types the API offers and, for each, its Label Studio fields: settings (kept as
 * JSON on the row and returned), credentials (write-only: sealed at rest, never returned,
 * logged or audited), the field naming a custom endpoint (checked against the SSRF policy), and
 * the URI schemes its objects use in task data. Adding GCS, Azure or Redis is one entry here,
 * one adapter factory in src/storage/storage-registry.ts, and one case in the contract test
 * (Azure, GCS and Redis were added that way);
 * routes, schemas, sync, media serving and export follow from this table.
 */
import { Type, type TProperties } from '@sinclair/typebox';

/** Import (source) or export (target). */
export type StorageKind = 'import' | 'export';

/** One storage type's description. */
export interface StorageTypeSpec {
  /** The path segment and `type` value (`s3`, `localfiles`, …). */
  type: string;
  /** Title for the OpenAPI tags. */
  label: string;
  /** Settings fields (besides the common ones), with their schemas; returned in responses. */
  settings: TProperties;
  /** Settings only import storages have (presign, recursive scan, …). */
  importSettings: TProperties;
  /** Credential fields: accepted on create, patch and validate, never returned. */
  credentials: readonly string[];
  /** The settings field holding a custom endpoint, checked against the SSRF policy; null when none. */
  endpointField: string | null;
  /** What the endpoint field holds: a URL (`https://host:port/…`) or a bare host name / address (Redis). */
  endpointKind?: 'url' | 'host';
  /** The object key an annotation is exported to, when not Label Studio's `<prefix>/<annotation id>` (Redis: `<path>:<id>`). */
  exportKey?: (settings: Record<string, unknown>, annotationId: number) => string;
  /** The settings field that must be set for a usable storage (`bucket`, `path`). */
  requiredField: string;
}

const Str = (maxLength: number, description: string) => Type.Optional(Type.Union([Type.String({ maxLength }), Type.Null()], { description }));
const Bool = (description: string) => Type.Optional(Type.Boolean({ description }));

/** Settings every type has: Label Studio's common storage fields. */
export const COMMON_SETTINGS = {
  regex_filter: Str(1024, 'Objects whose key matches this regular expression are synced (all when empty)'),
  use_blob_urls: Bool('true: each object is a media file and becomes a task referencing it; false: each object is a JSON task file loaded into tasks'),
} satisfies TProperties;

/** Import-only settings shared by every type that can presign. */
const PRESIGN_SETTINGS = {
  presign: Bool('true (default): media is served by a 303 to a pre-signed URL; false: streamed through the server'),
  presign_ttl: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_080, description: 'Minutes a pre-signed URL stays valid (default 1)' })),
  recursive_scan: Bool('Scan the prefix recursively (default false: its first level only)'),
} satisfies TProperties;

/** Amazon S3 and S3-compatible stores: access keys, or an IAM role assumed through STS (`role_arn`). */
const S3: StorageTypeSpec = {
  type: 's3',
  label: 'S3',
  settings: {
    bucket: Str(255, 'S3 bucket name'),
    prefix: Str(1024, 'S3 bucket prefix'),
    region_name: Str(64, 'AWS region'),
    s3_endpoint: Str(2048, 'Custom endpoint of an S3-compatible store (path-style); checked against the SSRF rules'),
    aws_sse_kms_key_id: Str(2048, 'AWS SSE KMS key id used on writes'),
  },
  importSettings: PRESIGN_SETTINGS,
  // role_arn and external_id (Label Studio Enterprise's IAM-role fields) are write-only too: on a
  // server whose own AWS identity assumes the roles, the pair is all another project would need.
  credentials: ['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'role_arn', 'external_id'],
  endpointField: 's3_endpoint',
  requiredField: 'bucket',
};

/** The types this server offers, by path segment. */
export const STORAGE_TYPES: readonly StorageTypeSpec[] = [
  S3,
  // Label Studio Enterprise's "S3 with IAM role" (`/api/storages/s3s`): the same storage, role_arn required.
  { ...S3, type: 's3s', label: 'S3 with IAM role' },
  {
    type: 'azure',
    label: 'Azure',
    settings: {
      container: Str(255, 'Azure blob container'),
      prefix: Str(1024, 'Azure blob prefix name'),
      account_name: Str(255, 'Azure Blob account name'),
      azure_blob_endpoint: Str(2048, 'Custom Blob service URL of the account (Azurite, sovereign clouds), e.g. http://127.0.0.1:10000/devstoreaccount1; default https://<account_name>.blob.core.windows.net; checked against the SSRF rules'),
    },
    importSettings: PRESIGN_SETTINGS,
    credentials: ['account_key', 'sas_token'],
    endpointField: 'azure_blob_endpoint',
    requiredField: 'container',
  },
  {
    type: 'gcs',
    label: 'GCS',
    settings: {
      bucket: Str(255, 'GCS bucket name'),
      prefix: Str(1024, 'GCS bucket prefix'),
      google_project_id: Str(255, 'Google project ID'),
      gcs_endpoint: Str(2048, 'Custom JSON API endpoint (emulators; requests to it carry no OAuth token); checked against the SSRF rules'),
    },
    importSettings: PRESIGN_SETTINGS,
    credentials: ['google_application_credentials'],
    endpointField: 'gcs_endpoint',
    requiredField: 'bucket',
  },
  {
    type: 'redis',
    label: 'Redis',
    settings: {
      host: Str(255, 'Server host name or IP address; checked against the SSRF rules'),
      port: Type.Optional(Type.Union([Type.String({ maxLength: 5 }), Type.Integer({ minimum: 1, maximum: 65_535 }), Type.Null()], { description: 'Server port (default 6379)' })),
      db: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 32_767 }), Type.Null()], { description: 'Server database (default 0)' })),
      path: Str(1024, 'Key prefix: import reads keys starting with it, export writes `<path>:<annotation id>`'),
      use_tls: Bool('Connect with TLS (the server certificate is verified)'),
      tls_ca_certs: Str(65_536, 'PEM certificates the server certificate must chain to (default: the built-in roots and CUSTOM_CA_CERTS)'),
      tls_client_cert: Str(65_536, 'PEM client certificate presented to the server (its key in tls_client_key)'),
      tls_servername: Str(255, 'Name checked against the server certificate (default: host)'),
    },
    importSettings: {},
    credentials: ['password', 'tls_client_key'],
    endpointField: 'host',
    endpointKind: 'host',
    requiredField: 'host',
    exportKey: (settings, id) => `${typeof settings.path === 'string' ? settings.path : ''}${typeof settings.path === 'string' && settings.path !== '' && !settings.path.endsWith(':') ? ':' : ''}${id}`,
  },
  {
    type: 'localfiles',
    label: 'Local files',
    settings: { path: Str(4096, 'Absolute folder under LOCAL_FILES_DOCUMENT_ROOT') },
    importSettings: { recursive_scan: Bool('Scan sub-folders too (default false)') },
    credentials: [],
    endpointField: null,
    requiredField: 'path',
  },
];

/** The spec of a type; throws for an unknown one (routes only exist for known types). */
export function specOf(type: string): StorageTypeSpec {
  const spec = STORAGE_TYPES.find((s) => s.type === type);
  if (!spec) throw new Error(`Unknown storage type ${type}`);
  return spec;
}

/** The settings field names of a type for a kind (common ones included). */
export function settingNames(spec: StorageTypeSpec, kind: StorageKind): string[] {
  return [...Object.keys(COMMON_SETTINGS), ...Object.keys(spec.settings), ...(kind === 'import' ? Object.keys(spec.importSettings) : ['can_delete_objects'])];
}
