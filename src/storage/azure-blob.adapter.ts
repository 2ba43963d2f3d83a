/**
 * Azure Blob Storage through @azure/storage-blob (pinned 12.29.1: Azurite 3.35, the emulator
 * Node 20 gets, refuses newer API versions). Credentials: the account name with its key (shared
 * key; pre-signed URLs are blob SAS URLs signed with it, read-only, valid `presign_ttl`), or a SAS
 * token. A SAS token is never handed to browsers: with only a SAS token the adapter cannot presign
 * and media stream through the server. No credential at all: a public container (anonymous).
 *
 * A custom endpoint (`azure_blob_endpoint`, e.g. Azurite's `http://127.0.0.1:10000/devstoreaccount1`)
 * is checked against the SSRF rules by the storages service; every connection the SDK opens
 * resolves host names through the same policy (`lookup`), and trusts CUSTOM_CA_CERTS (`ca`).
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import {
  AnonymousCredential,
  BlobSASPermissions,
  BlobServiceClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
  type ContainerClient,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { Readable } from 'node:stream';
import { keyMatches, StorageError, type ByteRange, type ListOptions, type ObjectStream, type StorageAdapter, type StorageObject } from './storage-adapter.js';

/** What an Azure storage is made from (settings and opened credentials). */
export interface AzureSettings {
  container: string;
  /** Key prefix the storage is confined to ('' for the whole container). */
  prefix: string;
  accountName: string | null;
  /** The account's Blob service URL; null: `https://<account>.blob.core.windows.net`. */
  endpoint: string | null;
  accountKey: string | null;
  sasToken: string | null;
  /** CA certificates (PEM) trusted for TLS; null: Node's defaults. */
  ca: readonly string[] | null;
  /** Host resolution with the outbound address policy applied, or null. */
  lookup: net.LookupFunction | null;
}

const PAGE_SIZE = 1000;
const TIMEOUT_MS = 30_000;

/** Turns an SDK error into a StorageError with our own text. */
function mapError(err: unknown, what: string): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as { statusCode?: number; code?: string; details?: { errorCode?: string }; name?: string };
  const code = e.details?.errorCode ?? e.code ?? '';
  if (code === 'ContainerNotFound') return new StorageError('not_found', `The container does not exist (${what}).`, 'container');
  if (e.statusCode === 404 || code === 'BlobNotFound') return new StorageError('not_found', `Not found (${what}).`, 'key');
  if (e.statusCode === 416 || code === 'InvalidRange') return new StorageError('invalid', `Range not satisfiable (${what}).`, 'range');
  if (e.statusCode === 403 || e.statusCode === 401) return new StorageError('access_denied', `Access denied by the storage (${what}): check the account key or SAS token.`, 'account_key');
  if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EREFUSED', 'REQUEST_SEND_ERROR'].includes(e.code ?? '') || e.name === 'AbortError') {
    return new StorageError('unreachable', `The storage endpoint cannot be reached (${what}).`, 'azure_blob_endpoint');
  }
  return new StorageError('invalid', `The storage refused the request (${what}${e.statusCode ? `, HTTP ${e.statusCode}` : ''}).`);
}

/** The Azure Blob adapter. */
export class AzureBlobAdapter implements StorageAdapter {
  readonly type = 'azure';
  private readonly container: ContainerClient;
  private readonly sharedKey: StorageSharedKeyCredential | null;

  constructor(private readonly s: AzureSettings) {
    if (s.accountName === null && s.endpoint === null) throw new StorageError('invalid', 'Give the account name (or a custom endpoint).', 'account_name');
    let base = (s.endpoint ?? `https://${s.accountName}.blob.core.windows.net`).replace(/\/+$/, '');
    try {
      new URL(base);
    } catch {
      throw new StorageError('invalid', 'Not a valid account name or endpoint.', s.endpoint === null ? 'account_name' : 'azure_blob_endpoint');
    }
    this.sharedKey = null;
    let credential: StorageSharedKeyCredential | AnonymousCredential = new AnonymousCredential();
    if (s.accountKey !== null) {
      if (s.accountName === null) throw new StorageError('invalid', 'An account key needs the account name.', 'account_name');
      try {
        this.sharedKey = new StorageSharedKeyCredential(s.accountName, s.accountKey);
      } catch {
        throw new StorageError('invalid', 'The account key is not valid base64.', 'account_key');
      }
      credential = this.sharedKey;
    } else if (s.sasToken !== null) {
      base = `${base}?${s.sasToken.replace(/^\?/, '')}`;
    }
    const agentOptions = { keepAlive: true, ...(s.lookup !== null && { lookup: s.lookup }) };
    const agent = base.startsWith('https:') ? new https.Agent({ ...agentOptions, ...(s.ca !== null && { ca: [...s.ca] }) }) : new http.Agent(agentOptions);
    // `agent` reaches core-rest-pipeline's agent policy (createClientPipeline reads it from these options).
    const options = { agent, retryOptions: { maxTries: 2, tryTimeoutInMs: TIMEOUT_MS } } as StoragePipelineOptions;
    const service = new BlobServiceClient(base, credential, options);
    this.container = service.getContainerClient(s.container);
  }

  uriOf(key: string): string {
    return `azure-blob://${this.s.container}/${key}`;
  }

  keyOf(uri: string): string | null {
    const head = `azure-blob://${this.s.container}/`;
    if (!uri.startsWith(head)) return null;
    const key = uri.slice(head.length);
    if (key === '' || (this.s.prefix !== '' && !key.startsWith(this.s.prefix))) return null;
    return key;
  }

  async *list(opts: ListOptions): AsyncIterable<StorageObject[]> {
    const prefix = opts.prefix || this.s.prefix || undefined;
    const pages = opts.recursive
      ? this.container.listBlobsFlat({ prefix }).byPage({ maxPageSize: PAGE_SIZE })
      : this.container.listBlobsByHierarchy('/', { prefix }).byPage({ maxPageSize: PAGE_SIZE });
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      opts.signal?.throwIfAborted();
      const next = await iterator.next().catch((err: unknown) => {
        throw mapError(err, 'listing the container');
      });
      if (next.done) return;
      const objects: StorageObject[] = [];
      for (const b of next.value.segment.blobItems) {
        if (b.name.endsWith('/') || !keyMatches(b.name, opts.regex)) continue;
        objects.push({ key: b.name, size: b.properties.contentLength ?? null });
      }
      if (objects.length > 0) yield objects;
    }
  }

  async read(key: string, range?: ByteRange): Promise<ObjectStream> {
    const blob = this.container.getBlobClient(key);
    const count = range?.end !== undefined ? range.end - range.start + 1 : undefined;
    const out = await blob.download(range?.start ?? 0, count).catch((err: unknown) => {
      throw mapError(err, 'reading an object');
    });
    const total = out.contentRange ? Number(out.contentRange.split('/')[1]) : (out.contentLength ?? null);
    const body = out.readableStreamBody;
    return {
      body: body instanceof Readable ? body : Readable.from(body ? (body as AsyncIterable<Buffer>) : []),
      length: out.contentLength ?? null,
      totalSize: total !== null && Number.isFinite(total) ? total : null,
      contentType: out.contentType ?? null,
      partial: range !== undefined && out.contentRange !== undefined,
    };
  }

  async presign(key: string, ttlSeconds: number): Promise<string | null> {
    if (this.sharedKey === null) return null; // a SAS token is never given away; anonymous needs none
    const sas = generateBlobSASQueryParameters(
      { containerName: this.s.container, blobName: key, permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + ttlSeconds * 1000) },
      this.sharedKey,
    );
    return `${this.container.getBlobClient(key).url}?${sas.toString()}`;
  }

  async write(key: string, body: Buffer | string, contentType: string): Promise<void> {
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    await this.container
      .getBlockBlobClient(key)
      .upload(data, data.length, { blobHTTPHeaders: { blobContentType: contentType } })
      .catch((err: unknown) => {
        throw mapError(err, 'writing an object');
      });
  }

  async delete(key: string): Promise<void> {
    await this.container
      .getBlobClient(key)
      .deleteIfExists()
      .catch((err: unknown) => {
        throw mapError(err, 'deleting an object');
      });
  }

  async validate(): Promise<void> {
    // Listing is what a sync needs; it also tells a missing container (404 ContainerNotFound).
    const page = this.container.listBlobsFlat({ prefix: this.s.prefix || undefined }).byPage({ maxPageSize: 1 });
    await page.next().catch((err: unknown) => {
      const mapped = mapError(err, 'listing the container');
      throw mapped.code === 'not_found' ? new StorageError('not_found', 'The container does not exist.', 'container') : mapped;
    });
  }
}
