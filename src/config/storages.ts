/**
 * Project storages' server-wide settings, part of THE config module: the STS endpoint IAM roles
 * are assumed through, and whether a storage given no credentials of its own may use the server's
 * own cloud identity. config.ts spreads these variables into its schema and calls `storagesFrom`;
 * nothing here reads `process.env`.
 *
 * The server's own identity (the AWS SDK's default chain: AWS_* variables, shared config, a pod,
 * task or instance role; Google's Application Default Credentials) reaches whatever that identity
 * may reach. A storage is created by any Manager, so letting a storage without keys fall back to
 * it would hand every Manager the server's buckets (among them the file store's, with every
 * organization's export snapshots, when the file store itself has no keys). Off by default.
 */
import { z } from 'zod';
import { bool } from './env-values.js';
import type { FileStorageConfig } from './file-storage.js';

/** The storage variables, with their descriptions (the README table is generated from them). */
export const storagesEnv = {
  AWS_ENDPOINT_URL_STS: z.string().trim().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http:// or https:// URL').optional().describe(
    'AWS SDK name. STS endpoint through which S3 storages with a role_arn assume their IAM role (a VPC endpoint, or an S3-compatible store\'s STS); the SSRF rules apply to it. Unset: the storage region\'s, https://sts.<region>.amazonaws.com.',
  ),
  STORAGE_SERVER_CREDENTIALS_ENABLED: bool
    .default(false)
    .describe(
      'true: a project storage given no credentials of its own uses the server\'s own cloud identity (S3 without aws_access_key_id, also as the base identity that assumes a role_arn: the AWS SDK\'s default chain; GCS without google_application_credentials: Application Default Credentials), so any Manager reaches what that identity can. Only for a server whose identity is meant for that. false (default): such a storage is refused (400 naming the credential field).',
    ),
};

const storagesSchema = z.object(storagesEnv);
type StoragesEnv = z.output<typeof storagesSchema>;

/** Project storages' server-wide settings. */
export interface StoragesConfig {
  /** The STS endpoint IAM roles are assumed through (AWS_ENDPOINT_URL_STS); null: each region's own. */
  stsEndpoint: string | null;
  /** Whether a storage without credentials of its own may use the server's own cloud identity. */
  serverCredentials: boolean;
}

/**
 * The storage settings from the environment; a contradiction is added to `problems`: the server's
 * identity allowed for storages while the file store (a bucket) has no key pair of its own, so
 * that identity is the file store's.
 */
export function storagesFrom(e: StoragesEnv, files: FileStorageConfig, problems: string[]): StoragesConfig {
  if (e.STORAGE_SERVER_CREDENTIALS_ENABLED && files.kind === 's3' && files.credentials === null) {
    problems.push(
      'STORAGE_SERVER_CREDENTIALS_ENABLED: true while FILE_STORAGE=s3 has no FILE_STORAGE_S3_ACCESS_KEY_ID: storages without keys would reach the file store with its own identity; give the file store its own key pair',
    );
  }
  return { stsEndpoint: e.AWS_ENDPOINT_URL_STS?.replace(/\/+$/, '') ?? null, serverCredentials: e.STORAGE_SERVER_CREDENTIALS_ENABLED };
}
