/**
 * Amazon S3 and S3-compatible stores (MinIO, Ceph, s3rver…) through the AWS SDK v3. A custom
 * endpoint uses path-style addressing (`https://host/bucket/key`), which compatible stores expect.
 * The endpoint's host is checked against the outbound address policy by the storages service
 * when the storage is created or validated (the SDK resolves the host itself when it connects).
 * A CA bundle (AWS_CA_BUNDLE / CUSTOM_CA_CERTS) is handed to the SDK's HTTPS agent.
 * Credentials: the storage's access keys (with a session token for temporary ones); or an IAM
 * role assumed with them (or with the server's own AWS identity) through STS (aws-sts.ts); or,
 * with neither, the SDK's default chain.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { assumedRoleProvider, type AssumedRoleCache, type StsTransport } from './aws-sts.js';
import { keyMatches, StorageError, type ByteRange, type ListOptions, type ObjectStream, type StorageAdapter, type StorageObject } from './storage-adapter.js';

/** What an S3 storage is made from (settings and opened credentials). */
export interface S3Settings {
  bucket: string;
  /** Key prefix the storage is confined to ('' for the whole bucket). */
  prefix: string;
  region: string | null;
  /** Custom endpoint (S3-compatible store), e.g. `https://minio.example.com:9000`; null for AWS. */
  endpoint: string | null;
  accessKeyId: string | null;
  secretAccessKey: string | null;
  sessionToken: string | null;
  /** An IAM role every request is made as (STS AssumeRole with the credentials above as base); null: none. */
  role: S3RoleSettings | null;
  /** Server-side encryption with this KMS key on writes. */
  sseKmsKeyId: string | null;
  /** The CA certificates (PEM) trusted for the endpoint's TLS; null: Node's defaults. */
  ca: readonly string[] | null;
  /** Resolves the endpoint's host at connect time (the outbound address policy applied), or null. */
  lookup: net.LookupFunction | null;
}

/** The role an S3 storage assumes (Label Studio Enterprise's `role_arn` and `external_id`). */
export interface S3RoleSettings {
  roleArn: string;
  externalId: string | null;
  /** RoleSessionName, naming the storage (`labelvault-import-12`). */
  sessionName: string;
  /** STS endpoint (AWS_ENDPOINT_URL_STS); null: the region's. */
  stsEndpoint: string | null;
  /** Sends the STS request (the server's outbound module). */
  transport: StsTransport;
  /** The server's cache of temporary credentials; null: ask STS afresh (connection checks). */
  cache: AssumedRoleCache | null;
}

/** Seconds an SDK call may take before it is abandoned. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Turns an SDK error into a StorageError whose text is ours (never the SDK's or the server's). */
function mapError(err: unknown, what: string, credentialField = 'aws_access_key_id'): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  if (name === 'NoSuchBucket') return new StorageError('not_found', `The bucket does not exist (${what}).`, 'bucket');
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) return new StorageError('not_found', `Not found (${what}).`, 'key');
  if (status === 403 || status === 401 || name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
    const whose = credentialField === 'role_arn' ? "the role's permissions" : 'the credentials';
    return new StorageError('access_denied', `Access denied by the storage (${what}): check ${whose} and the bucket policy.`, credentialField);
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'].includes(e.code ?? '') || name === 'TimeoutError') {
    return new StorageError('unreachable', `The storage endpoint cannot be reached (${what}).`, 's3_endpoint');
  }
  return new StorageError('invalid', `The storage refused the request (${what}${status ? `, HTTP ${status}` : ''}).`);
}

/** The S3 adapter. */
export class S3Adapter implements StorageAdapter {
  readonly type = 's3';
  private readonly client: S3Client;

  constructor(private readonly s: S3Settings) {
    const config: S3ClientConfig = {
      region: s.region ?? 'us-east-1',
      requestHandler: {
        requestTimeout: REQUEST_TIMEOUT_MS,
        connectionTimeout: 10_000,
        httpsAgent: new https.Agent({ keepAlive: true, ...(s.ca !== null && { ca: [...s.ca] }), ...(s.lookup !== null && { lookup: s.lookup }) }),
        httpAgent: new http.Agent({ keepAlive: true, ...(s.lookup !== null && { lookup: s.lookup }) }),
      },
      // The AWS default: checksums on every request; compatible stores may not support them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    if (s.endpoint !== null) {
      config.endpoint = s.endpoint;
      config.forcePathStyle = true;
    }
    const keys = s.accessKeyId !== null && s.secretAccessKey !== null ? { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, ...(s.sessionToken !== null && { sessionToken: s.sessionToken }) } : null;
    if (s.role !== null) {
      const r = s.role;
      config.credentials = assumedRoleProvider({ roleArn: r.roleArn, externalId: r.externalId, sessionName: r.sessionName, region: config.region as string, endpoint: r.stsEndpoint, base: keys, transport: r.transport, cache: r.cache });
    } else if (keys !== null) {
      config.credentials = keys;
    }
    this.client = new S3Client(config);
  }

  /** An SDK error in our words; access refusals name `role_arn` when a role is assumed. */
  private fail(err: unknown, what: string): StorageError {
    return mapError(err, what, this.s.role !== null ? 'role_arn' : 'aws_access_key_id');
  }

  uriOf(key: string): string {
    return `s3://${this.s.bucket}/${key}`;
  }

  keyOf(uri: string): string | null {
    const head = `s3://${this.s.bucket}/`;
    if (!uri.startsWith(head)) return null;
    const key = uri.slice(head.length);
    if (key === '' || (this.s.prefix !== '' && !key.startsWith(this.s.prefix))) return null;
    return key;
  }

  async *list(opts: ListOptions): AsyncIterable<StorageObject[]> {
    let token: string | undefined;
    do {
      opts.signal?.throwIfAborted();
      const page = await this.client
        .send(
          new ListObjectsV2Command({ Bucket: this.s.bucket, Prefix: opts.prefix || undefined, ContinuationToken: token, ...(!opts.recursive && { Delimiter: '/' }) }),
          { abortSignal: opts.signal as never },
        )
        .catch((err) => {
          throw this.fail(err, 'listing the bucket');
        });
      const objects: StorageObject[] = [];
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/') || !keyMatches(o.Key, opts.regex)) continue;
        objects.push({ key: o.Key, size: o.Size ?? null });
      }
      if (objects.length > 0) yield objects;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async read(key: string, range?: ByteRange): Promise<ObjectStream> {
    const header = range ? `bytes=${range.start}-${range.end ?? ''}` : undefined;
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.s.bucket, Key: key, Range: header })).catch((err) => {
      throw this.fail(err, 'reading an object');
    });
    const total = out.ContentRange ? Number(out.ContentRange.split('/')[1]) : (out.ContentLength ?? null);
    return {
      body: out.Body instanceof Readable ? out.Body : Readable.from(out.Body as AsyncIterable<Uint8Array>),
      length: out.ContentLength ?? null,
      totalSize: Number.isFinite(total) ? total : null,
      contentType: out.ContentType ?? null,
      partial: out.ContentRange !== undefined,
    };
  }

  async presign(key: string, ttlSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.s.bucket, Key: key }), { expiresIn: ttlSeconds }).catch((err) => {
      throw this.fail(err, 'signing a URL');
    });
  }

  async write(key: string, body: Buffer | string, contentType: string): Promise<void> {
    await this.client
      .send(
        new PutObjectCommand({
          Bucket: this.s.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ...(this.s.sseKmsKeyId !== null && { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.s.sseKmsKeyId }),
        }),
      )
      .catch((err) => {
        throw this.fail(err, 'writing an object');
      });
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.s.bucket, Key: key })).catch((err) => {
      const mapped = this.fail(err, 'deleting an object');
      if (mapped.code !== 'not_found' || mapped.field === 'bucket') throw mapped;
    });
  }

  async validate(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.s.bucket })).catch((err) => {
      const mapped = this.fail(err, 'opening the bucket');
      throw mapped.code === 'not_found' ? new StorageError('not_found', 'The bucket does not exist.', 'bucket') : mapped;
    });
    // Listing is what a sync needs (HeadBucket may pass with only s3:GetBucketLocation-like rights).
    await this.client.send(new ListObjectsV2Command({ Bucket: this.s.bucket, Prefix: this.s.prefix || undefined, MaxKeys: 1 })).catch((err) => {
      throw this.fail(err, 'listing the bucket');
    });
  }

  close(): void {
    this.client.destroy();
  }
}
