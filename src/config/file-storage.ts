/**
 * Where the server keeps files every node must see (export snapshots, uploads), part of THE config
 * module: `FILE_STORAGE=local` (default) keeps them under LABELVAULT_DATA_DIR, which app nodes
 * and workers must then share as a volume; `FILE_STORAGE=s3` keeps them in one bucket of an
 * S3-compatible store. config.ts spreads these variables into its schema and calls
 * `fileStorageFrom`; nothing here reads `process.env`.
 */
import { z } from 'zod';
import { isLoopbackHost } from '../outbound/address-policy.js';
import { bool, optionalText, SecretText } from './env-values.js';

/** The FILE_STORAGE variables, with their descriptions (the README table is generated from them). */
export const fileStorageEnv = {
  FILE_STORAGE: z
    .enum(['local', 's3'])
    .default('local')
    .describe(
      'Where export snapshot files and uploaded files (imports, /data/upload/…) are kept. local: under LABELVAULT_DATA_DIR (with several nodes, every app node and worker must mount the same folder). s3: in the bucket FILE_STORAGE_S3_BUCKET of an S3-compatible store, shared by every node.',
    ),
  FILE_STORAGE_S3_BUCKET: optionalText.describe('Bucket of the file store (required with FILE_STORAGE=s3; it must exist).'),
  FILE_STORAGE_S3_PREFIX: optionalText.describe('Key prefix of every file in the bucket (e.g. labelvault/). Unset: the bucket root.'),
  FILE_STORAGE_S3_REGION: z.string().trim().min(1).default('us-east-1').describe('Region of the bucket.'),
  FILE_STORAGE_S3_ENDPOINT: optionalText.describe(
    'Endpoint of an S3-compatible store (https://minio.internal:9000). Unset: AWS. Its TLS certificate is checked against AWS_CA_BUNDLE or CUSTOM_CA_CERTS and the built-in roots; plain http:// is refused with NODE_ENV=production unless the host is loopback.',
  ),
  FILE_STORAGE_S3_FORCE_PATH_STYLE: bool
    .optional()
    .describe('true: path-style URLs (https://host/bucket/key), which most S3-compatible stores need. Unset: true with FILE_STORAGE_S3_ENDPOINT, false for AWS.'),
  FILE_STORAGE_S3_ACCESS_KEY_ID: optionalText.describe(
    'Access key id for the bucket (with FILE_STORAGE_S3_SECRET_ACCESS_KEY). Unset: the AWS SDK\'s default credentials (instance or pod role, AWS_* variables).',
  ),
  FILE_STORAGE_S3_SECRET_ACCESS_KEY: optionalText.describe('Secret access key of FILE_STORAGE_S3_ACCESS_KEY_ID (a secret: keep it out of files in git).'),
};

const fileStorageSchema = z.object(fileStorageEnv);
type FileStorageEnv = z.output<typeof fileStorageSchema> & { NODE_ENV: 'production' | 'development' | 'test' };

/** The file store's settings: the data folder, or a bucket with how to reach it. */
export type FileStorageConfig =
  | { kind: 'local'; root: string }
  | {
      kind: 's3';
      bucket: string;
      /** '' or a prefix ending in '/'. */
      prefix: string;
      region: string;
      /** Custom endpoint (S3-compatible store); null: AWS. */
      endpoint: string | null;
      forcePathStyle: boolean;
      /** Access key id and secret, or null: the SDK's default credential chain. */
      credentials: { accessKeyId: string; secretAccessKey: SecretText } | null;
    };

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9!_.*'()/-]{1,200}$/;

/** The endpoint as a URL, or a problem: http(s) only, no path or query, https in production beyond loopback. */
function endpointFrom(raw: string | undefined, env: FileStorageEnv['NODE_ENV'], problems: string[]): string | null {
  if (raw === undefined) return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    problems.push('FILE_STORAGE_S3_ENDPOINT: must be an http:// or https:// URL');
    return null;
  }
  if (!['http:', 'https:'].includes(url.protocol) || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.username !== '') {
    problems.push('FILE_STORAGE_S3_ENDPOINT: must be http(s)://host[:port] without path, query or credentials');
    return null;
  }
  if (env === 'production' && url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    problems.push('FILE_STORAGE_S3_ENDPOINT: must be https:// with NODE_ENV=production (plain http only to a loopback host)');
  }
  return url.origin;
}

/** The prefix normalised to '' or `something/`; a problem for characters S3 keys should not hold. */
function prefixFrom(raw: string | undefined, problems: string[]): string {
  const p = (raw ?? '').trim().replace(/^\/+/, '');
  if (p === '') return '';
  if (!PREFIX.test(p) || p.split('/').some((s) => s === '..' || s === '.')) {
    problems.push('FILE_STORAGE_S3_PREFIX: use letters, digits and ! _ . * \' ( ) - / only (at most 200, no . or .. segments)');
    return '';
  }
  return p.endsWith('/') ? p : `${p}/`;
}

/**
 * The file store's settings from the environment; every contradiction is added to `problems`
 * (S3 settings without FILE_STORAGE=s3, a missing or invalid bucket, half a key pair).
 */
export function fileStorageFrom(e: FileStorageEnv, dataDir: string, problems: string[]): FileStorageConfig {
  const s3Names = (Object.keys(fileStorageEnv) as (keyof typeof fileStorageEnv)[]).filter((k) => k.startsWith('FILE_STORAGE_S3_') && k !== 'FILE_STORAGE_S3_REGION');
  if (e.FILE_STORAGE === 'local') {
    for (const name of s3Names.filter((k) => e[k] !== undefined)) problems.push(`${name}: set, but FILE_STORAGE is local (set FILE_STORAGE=s3 to use the bucket)`);
    return { kind: 'local', root: dataDir };
  }
  const bucket = e.FILE_STORAGE_S3_BUCKET?.trim();
  if (bucket === undefined) problems.push('FILE_STORAGE_S3_BUCKET: required when FILE_STORAGE is s3');
  else if (!BUCKET.test(bucket)) problems.push('FILE_STORAGE_S3_BUCKET: must be a bucket name (3 to 63 lower-case letters, digits, dots and hyphens)');
  const keyId = e.FILE_STORAGE_S3_ACCESS_KEY_ID?.trim() ?? null;
  const secret = e.FILE_STORAGE_S3_SECRET_ACCESS_KEY ?? null;
  if ((keyId === null) !== (secret === null)) {
    problems.push(`${keyId === null ? 'FILE_STORAGE_S3_ACCESS_KEY_ID' : 'FILE_STORAGE_S3_SECRET_ACCESS_KEY'}: required with ${keyId === null ? 'FILE_STORAGE_S3_SECRET_ACCESS_KEY' : 'FILE_STORAGE_S3_ACCESS_KEY_ID'}`);
  }
  const endpoint = endpointFrom(e.FILE_STORAGE_S3_ENDPOINT, e.NODE_ENV, problems);
  return {
    kind: 's3',
    bucket: bucket ?? '',
    prefix: prefixFrom(e.FILE_STORAGE_S3_PREFIX, problems),
    region: e.FILE_STORAGE_S3_REGION,
    endpoint,
    forcePathStyle: e.FILE_STORAGE_S3_FORCE_PATH_STYLE ?? endpoint !== null,
    credentials: keyId !== null && secret !== null ? { accessKeyId: keyId, secretAccessKey: new SecretText(secret) } : null,
  };
}
