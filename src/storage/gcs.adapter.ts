/**
 * Google Cloud Storage through @google-cloud/storage (7.x: 8.x needs Node 22). Credentials: a
 * service-account JSON key (`google_application_credentials`, write-only); without one, the
 * server's Application Default Credentials only when STORAGE_SERVER_CREDENTIALS_ENABLED, else none
 * (an auth client that sends nothing, as the SDK would otherwise use ADC for its default endpoint). Pre-signed URLs are V4 signed URLs (read-only), signed offline
 * with the key; their lifetime is `presign_ttl` (default one minute, the short default GCS gets).
 *
 * A custom endpoint (`gcs_endpoint`) is for emulators and test doubles: the SDK then sends no
 * OAuth token (its emulator mode: the key never authenticates to a host that is not Google), and
 * signed URLs point at that endpoint. It is checked against the SSRF rules by the storages service.
 * Limitation: the SDK's HTTP layer (teeny-request) takes no per-client agent, so connections to
 * GCS use Node's trust store and resolver, not CUSTOM_CA_CERTS nor the address policy at connect time.
 */
import { Readable } from 'node:stream';
import { Storage, type Bucket, type StorageOptions } from '@google-cloud/storage';
import { keyMatches, StorageError, type ByteRange, type ListOptions, type ObjectStream, type StorageAdapter, type StorageObject } from './storage-adapter.js';

/** What a GCS storage is made from (settings and opened credentials). */
export interface GcsSettings {
  bucket: string;
  /** Key prefix the storage is confined to ('' for the whole bucket). */
  prefix: string;
  projectId: string | null;
  /** Custom JSON API endpoint (emulator), or null for Google. */
  endpoint: string | null;
  /** The service-account key JSON, or null for none (see serverCredentials). */
  credentialsJson: string | null;
  /**
   * Without a key: true to use the server's Application Default Credentials
   * (STORAGE_SERVER_CREDENTIALS_ENABLED); false to send no credentials at all, whatever the endpoint.
   */
  serverCredentials: boolean;
}

type AuthClientOption = NonNullable<StorageOptions['authClient']>;

/**
 * An auth client that authorizes nothing: no header, no token, no lookup of Application Default
 * Credentials. The SDK sends credentials whenever its endpoint equals Google's default, so a storage
 * without a key (and without STORAGE_SERVER_CREDENTIALS_ENABLED) is given this one. Structural (the
 * SDK's GoogleAuth calls only these while authorizing); google-auth-library is not our dependency.
 */
export function anonymousAuthClient(): AuthClientOption {
  const client = {
    credentials: {},
    universeDomain: 'googleapis.com',
    getRequestHeaders: async () => ({}),
    getAccessToken: async () => ({ token: null }),
    request: async () => {
      throw new StorageError('invalid', 'No credentials: give a service account key.', 'google_application_credentials');
    },
  };
  return client as unknown as AuthClientOption;
}

const PAGE_SIZE = 1000;

/** The parsed service-account key; a StorageError naming the field when it is not one. */
function parseKey(json: string): { client_email: string; private_key: string; project_id?: string } {
  let key: unknown;
  try {
    key = JSON.parse(json);
  } catch {
    throw new StorageError('invalid', 'Not valid JSON: paste the service account key file.', 'google_application_credentials');
  }
  const k = key as Record<string, unknown>;
  if (typeof k !== 'object' || k === null || typeof k.client_email !== 'string' || typeof k.private_key !== 'string') {
    throw new StorageError('invalid', 'A service account key needs client_email and private_key.', 'google_application_credentials');
  }
  return { client_email: k.client_email, private_key: k.private_key, ...(typeof k.project_id === 'string' && { project_id: k.project_id }) };
}

/** Turns an SDK error into a StorageError with our own text. */
function mapError(err: unknown, what: string): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as { code?: number | string; message?: string };
  if (e.code === 404) return new StorageError('not_found', `Not found (${what}).`, 'key');
  if (e.code === 416) return new StorageError('invalid', `Range not satisfiable (${what}).`, 'range');
  if (e.code === 401 || e.code === 403) return new StorageError('access_denied', `Access denied by the storage (${what}): check the service account and its roles.`, 'google_application_credentials');
  if (typeof e.code === 'string' && ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'].includes(e.code)) {
    return new StorageError('unreachable', `The storage endpoint cannot be reached (${what}).`, 'gcs_endpoint');
  }
  if (/Could not load the default credentials|client_email/.test(e.message ?? '')) {
    return new StorageError('invalid', `No credentials: give a service account key (${what}).`, 'google_application_credentials');
  }
  return new StorageError('invalid', `The storage refused the request (${what}${typeof e.code === 'number' ? `, HTTP ${e.code}` : ''}).`);
}

/** The GCS adapter. */
export class GcsAdapter implements StorageAdapter {
  readonly type = 'gcs';
  private readonly bucket: Bucket;
  private readonly canSign: boolean;

  constructor(private readonly s: GcsSettings) {
    const key = s.credentialsJson !== null ? parseKey(s.credentialsJson) : null;
    const options: StorageOptions = {
      ...(key !== null && { credentials: { client_email: key.client_email, private_key: key.private_key } }),
      ...(key === null && !s.serverCredentials && { authClient: anonymousAuthClient() }),
      ...((s.projectId ?? key?.project_id) !== undefined && { projectId: s.projectId ?? key?.project_id }),
      ...(s.endpoint !== null && { apiEndpoint: s.endpoint.replace(/\/+$/, '') }),
      retryOptions: { autoRetry: true, maxRetries: 2, totalTimeout: 60 },
    };
    this.bucket = new Storage(options).bucket(s.bucket);
    this.canSign = key !== null;
  }

  uriOf(key: string): string {
    return `gs://${this.s.bucket}/${key}`;
  }

  keyOf(uri: string): string | null {
    const head = `gs://${this.s.bucket}/`;
    if (!uri.startsWith(head)) return null;
    const key = uri.slice(head.length);
    if (key === '' || (this.s.prefix !== '' && !key.startsWith(this.s.prefix))) return null;
    return key;
  }

  async *list(opts: ListOptions): AsyncIterable<StorageObject[]> {
    let pageToken: string | undefined;
    do {
      opts.signal?.throwIfAborted();
      const query = { prefix: opts.prefix || this.s.prefix || undefined, autoPaginate: false, maxResults: PAGE_SIZE, pageToken, ...(!opts.recursive && { delimiter: '/' }) };
      const [files, next] = await this.bucket.getFiles(query).catch((err: unknown) => {
        throw mapError(err, 'listing the bucket');
      });
      const objects: StorageObject[] = [];
      for (const f of files) {
        if (f.name.endsWith('/') || !keyMatches(f.name, opts.regex)) continue;
        const size = Number(f.metadata.size);
        objects.push({ key: f.name, size: Number.isFinite(size) ? size : null });
      }
      if (objects.length > 0) yield objects;
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  }

  async read(key: string, range?: ByteRange): Promise<ObjectStream> {
    const file = this.bucket.file(key);
    const [meta] = await file.getMetadata().catch((err: unknown) => {
      throw mapError(err, 'reading an object');
    });
    const total = Number(meta.size);
    if (range && (range.start >= total || (range.end !== undefined && range.end < range.start))) throw new StorageError('invalid', 'Range not satisfiable.', 'range');
    const end = range ? Math.min(range.end ?? total - 1, total - 1) : undefined;
    const body = file.createReadStream({ validation: false, ...(range && { start: range.start, end }) });
    return {
      body: body instanceof Readable ? body : Readable.from(body),
      length: range ? end! - range.start + 1 : total,
      totalSize: Number.isFinite(total) ? total : null,
      contentType: typeof meta.contentType === 'string' ? meta.contentType : null,
      partial: range !== undefined,
    };
  }

  async presign(key: string, ttlSeconds: number): Promise<string | null> {
    if (!this.canSign) return null; // ADC may have no key to sign with: stream instead
    const [url] = await this.bucket
      .file(key)
      .getSignedUrl({ version: 'v4', action: 'read', expires: Date.now() + ttlSeconds * 1000 })
      .catch((err: unknown) => {
        throw mapError(err, 'signing a URL');
      });
    return url;
  }

  async write(key: string, body: Buffer | string, contentType: string): Promise<void> {
    await this.bucket
      .file(key)
      .save(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, { contentType, resumable: false, validation: false })
      .catch((err: unknown) => {
        throw mapError(err, 'writing an object');
      });
  }

  async delete(key: string): Promise<void> {
    await this.bucket
      .file(key)
      .delete({ ignoreNotFound: true })
      .catch((err: unknown) => {
        throw mapError(err, 'deleting an object');
      });
  }

  async validate(): Promise<void> {
    const [exists] = await this.bucket.exists().catch((err: unknown) => {
      throw mapError(err, 'opening the bucket');
    });
    if (!exists) throw new StorageError('not_found', 'The bucket does not exist.', 'bucket');
    await this.bucket.getFiles({ prefix: this.s.prefix || undefined, autoPaginate: false, maxResults: 1 }).catch((err: unknown) => {
      throw mapError(err, 'listing the bucket');
    });
  }
}
