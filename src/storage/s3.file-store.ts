/**
 * The file store in one S3 bucket (FILE_STORAGE=s3): key `a/b/c.json` is the object
 * `<prefix>a/b/c.json`. The client is built as the S3 storages' (s3.adapter.ts): keep-alive HTTPS
 * agent trusting the configured CAs, path-style addressing for compatible stores, checksums only
 * where S3 requires them (compatible stores may lack the newer ones).
 *
 * A write of unknown length streams as a multipart upload, holding one part (8 MiB, 32 MiB past
 * the 1000th part) in memory; a write smaller than one part is a single PUT. Either way the object
 * appears only when the upload completes; a failed upload is aborted (a bucket lifecycle rule that
 * aborts incomplete multipart uploads cleans up after a process killed mid-write).
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { checkKey, type FileStore, type StoredFile } from './file-store.js';

/** What an S3 file store is made from (config.files with its secret revealed, and the CAs). */
export interface S3FileStoreSettings {
  bucket: string;
  /** '' or a prefix ending in '/'. */
  prefix: string;
  region: string;
  endpoint: string | null;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
  /** CA certificates (PEM) trusted for the endpoint's TLS; null: Node's defaults. */
  ca: readonly string[] | null;
}

const MIB = 1024 * 1024;
/** S3 allows at most this many parts in one upload. */
const MAX_PARTS = 10_000;
const partSize = (partsSoFar: number) => (partsSoFar < 1000 ? 8 : 32) * MIB;

const isMissing = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
};

/** A multipart upload under way. */
interface Upload {
  id: string;
  parts: { ETag: string; PartNumber: number }[];
}

/** The S3 file store. */
export class S3FileStore implements FileStore {
  readonly kind = 's3';
  private readonly client: S3Client;

  constructor(private readonly s: S3FileStoreSettings) {
    const config: S3ClientConfig = {
      region: s.region,
      forcePathStyle: s.forcePathStyle,
      requestHandler: {
        requestTimeout: 60_000,
        connectionTimeout: 10_000,
        httpsAgent: new https.Agent({ keepAlive: true, ...(s.ca !== null && { ca: [...s.ca] }) }),
        httpAgent: new http.Agent({ keepAlive: true }),
      },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(s.endpoint !== null && { endpoint: s.endpoint }),
      ...(s.credentials !== null && { credentials: { ...s.credentials } }),
    };
    this.client = new S3Client(config);
  }

  private objectKey(key: string, folder = false): string {
    checkKey(key, folder);
    return `${this.s.prefix}${key}`;
  }

  async put(key: string, body: AsyncIterable<string | Uint8Array>, opts: { contentType: string; signal?: AbortSignal }): Promise<{ size: number }> {
    const Key = this.objectKey(key);
    const { signal } = opts;
    let pending: Buffer[] = [];
    let buffered = 0;
    let size = 0;
    let upload: Upload | undefined;
    const flush = async (target: Upload) => {
      if (target.parts.length >= MAX_PARTS) throw new Error(`The file is too large for one upload (${MAX_PARTS} parts).`);
      const PartNumber = target.parts.length + 1;
      const out = await this.client.send(new UploadPartCommand({ Bucket: this.s.bucket, Key, UploadId: target.id, PartNumber, Body: Buffer.concat(pending, buffered) }), { abortSignal: signal as never });
      target.parts.push({ ETag: out.ETag ?? '', PartNumber });
      pending = [];
      buffered = 0;
    };
    try {
      for await (const chunk of body) {
        signal?.throwIfAborted();
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        pending.push(bytes);
        buffered += bytes.length;
        size += bytes.length;
        if (buffered >= partSize(upload?.parts.length ?? 0)) await flush((upload ??= await this.startUpload(Key, opts.contentType)));
      }
      signal?.throwIfAborted();
      if (upload === undefined) {
        await this.client.send(new PutObjectCommand({ Bucket: this.s.bucket, Key, Body: Buffer.concat(pending, buffered), ContentType: opts.contentType }), { abortSignal: signal as never });
        return { size };
      }
      if (buffered > 0) await flush(upload);
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.s.bucket, Key, UploadId: upload.id, MultipartUpload: { Parts: upload.parts } }), { abortSignal: signal as never });
      return { size };
    } catch (err) {
      if (upload !== undefined) await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.s.bucket, Key, UploadId: upload.id })).catch(() => undefined);
      throw err;
    }
  }

  private async startUpload(Key: string, contentType: string): Promise<Upload> {
    const out = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.s.bucket, Key, ContentType: contentType }));
    if (!out.UploadId) throw new Error('The object store did not start the upload.');
    return { id: out.UploadId, parts: [] };
  }

  async get(key: string): Promise<StoredFile | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.s.bucket, Key: this.objectKey(key) }));
      const body = out.Body instanceof Readable ? out.Body : Readable.from(out.Body as AsyncIterable<Uint8Array>);
      return { body, size: out.ContentLength };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.s.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.s.bucket, Key: this.objectKey(key) })).catch((err) => {
      if (!isMissing(err)) throw err;
    });
  }

  async deletePrefix(prefix: string): Promise<void> {
    const Prefix = this.objectKey(prefix, true);
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.s.bucket, Prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        if (o.Key) await this.client.send(new DeleteObjectCommand({ Bucket: this.s.bucket, Key: o.Key })).catch((err) => (isMissing(err) ? undefined : Promise.reject(err)));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}
