/**
 * IAM role assumption for S3 storages (Label Studio Enterprise's `role_arn` and `external_id`):
 * STS AssumeRole over the Query API, signed with SigV4 (@smithy/signature-v4, the signer the S3
 * client itself uses) by the storage's access keys, or by the server's own AWS identity (the SDK's
 * default chain: AWS_* variables, shared config, web identity, container or instance role) when
 * the storage has none. The request goes through an injected transport: the server hands in its
 * outbound module (SSRF rules, AWS_CA_BUNDLE / CUSTOM_CA_CERTS, time and size limits, no redirects).
 *
 * Temporary credentials are cached per server and storage (role, external id, session name, base
 * identity) and renewed REFRESH_BEFORE_MS before they expire, so media requests, syncs and exports do not
 * call STS each time, and a URL pre-signed with them stays valid that long. Every failure is a
 * StorageError naming the field to fix; STS's own message text is never passed on.
 */
import crypto from 'node:crypto';
import { StorageError } from './storage-adapter.js';

/** An AWS access key (long-lived, or temporary with its session token and expiry). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Sends one signed STS request and answers its status and body; throws when it cannot be sent. */
export type StsTransport = (url: string, request: { headers: Record<string, string>; body: string }) => Promise<{ status: number; body: string }>;

/** What one role assumption needs. */
export interface AssumeRoleOptions {
  roleArn: string;
  /** The `sts:ExternalId` the role's trust policy requires; null: none sent. */
  externalId: string | null;
  /** RoleSessionName: shows in the bucket owner's CloudTrail (`labelvault-import-12`). */
  sessionName: string;
  /** Signing region, and the regional endpoint's when `endpoint` is null. */
  region: string;
  /** Custom STS endpoint (AWS_ENDPOINT_URL_STS); null: `https://sts.<region>.amazonaws.com`. */
  endpoint: string | null;
  /** The storage's own access keys; null: the server's default AWS credential chain. */
  base: AwsCredentials | null;
  transport: StsTransport;
}

/** Seconds the temporary credentials are asked for: one hour, the longest every role allows by default. */
export const SESSION_SECONDS = 3600;
/** Cached credentials are replaced this long before they expire (the longest presign TTL they serve whole). */
export const REFRESH_BEFORE_MS = 15 * 60_000;
/** The S3 client renews credentials this long before the expiry it is told (the SDK's own margin). */
const SDK_MARGIN_MS = 5 * 60_000;
const MAX_CACHED = 1000;

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the SigV4 signer takes. */
class NodeSha256 {
  private hash: crypto.Hash | crypto.Hmac;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): crypto.Hash | crypto.Hmac {
    if (this.secret === undefined) return crypto.createHash('sha256');
    const key = typeof this.secret === 'string' ? this.secret : ArrayBuffer.isView(this.secret) ? Buffer.from(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength) : Buffer.from(this.secret);
    return crypto.createHmac('sha256', key);
  }
}

/** The STS endpoint for a region (China regions have their own domain), unless one is configured. */
export function stsEndpointFor(region: string, configured: string | null): string {
  if (configured !== null) return configured;
  return `https://sts.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** Refuses a role ARN, external id or session name STS would reject, naming the field (before any request). */
export function checkRoleFields(roleArn: string, externalId: string | null, sessionName: string): void {
  // `arn:<partition>:iam::<account>:role/<path/name>`; S3-compatible stores (MinIO) use their own partition and may omit the account.
  if (!/^arn:[a-z][a-z0-9-]{0,31}:iam:[a-z0-9-]*:[0-9]*:role\/[\w+=,.@/-]{1,512}$/.test(roleArn)) {
    throw new StorageError('invalid', 'Enter the ARN of an IAM role, e.g. arn:aws:iam::123456789012:role/labelvault-read.', 'role_arn');
  }
  if (externalId !== null && !/^[\w+=,.@:/-]{2,1224}$/.test(externalId)) {
    throw new StorageError('invalid', 'An external ID has 2 to 1224 characters among letters, digits and + = , . @ : / - _.', 'external_id');
  }
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) throw new StorageError('invalid', 'Invalid role session name.', 'role_arn');
}

/** The server's default AWS credential chain, loaded on first use (one per process, memoized by the SDK). */
let defaultChain: (() => Promise<AwsCredentials>) | undefined;

async function baseCredentials(base: AwsCredentials | null): Promise<AwsCredentials> {
  if (base !== null) return base;
  if (!defaultChain) {
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    defaultChain = defaultProvider();
  }
  return defaultChain().catch(() => {
    throw new StorageError(
      'access_denied',
      'No AWS credentials to assume role_arn with: give aws_access_key_id and aws_secret_access_key, or run the server with an AWS identity (instance or pod role, AWS_* variables).',
      'aws_access_key_id',
    );
  });
}

const xmlText = (xml: string, tag: string): string | null => {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&') : null;
};

/** An STS error answer as a StorageError naming the field to fix (STS's message text is not passed on). */
function stsRefusal(status: number, body: string, o: AssumeRoleOptions): StorageError {
  const raw = xmlText(body, 'Code') ?? '';
  const code = /^[A-Za-z.]{1,64}$/.test(raw) ? raw : `HTTP ${status}`;
  if (code === 'AccessDenied') {
    const field = o.externalId !== null ? 'external_id' : 'role_arn';
    const what = o.externalId !== null ? 'role_arn with this external_id' : 'role_arn (no external_id given)';
    return new StorageError('access_denied', `STS refused to assume ${what} (AccessDenied): check the role ARN, the external ID and the role's trust policy (its Principal and sts:ExternalId condition).`, field);
  }
  if (['InvalidClientTokenId', 'SignatureDoesNotMatch', 'IncompleteSignature', 'MissingAuthenticationToken', 'UnrecognizedClientException'].includes(code)) {
    return new StorageError('access_denied', `STS did not accept the credentials the role is assumed with (${code}): check aws_access_key_id and aws_secret_access_key (or the server's own AWS identity when they are empty).`, 'aws_access_key_id');
  }
  if (code === 'ExpiredToken' || code === 'ExpiredTokenException') return new StorageError('access_denied', 'STS says the session token has expired (ExpiredToken).', 'aws_session_token');
  if (code === 'RegionDisabledException') return new StorageError('invalid', 'STS is not enabled in this region for the account (RegionDisabledException).', 'region_name');
  return new StorageError('invalid', `STS refused to assume the role (${code}): check role_arn and external_id.`, 'role_arn');
}

/** Calls STS AssumeRole once; the temporary credentials, or a StorageError naming the field at fault. */
export async function assumeRole(o: AssumeRoleOptions): Promise<Required<AwsCredentials>> {
  checkRoleFields(o.roleArn, o.externalId, o.sessionName);
  const endpoint = stsEndpointFor(o.region, o.endpoint);
  const url = new URL(endpoint);
  const params = new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: o.roleArn, RoleSessionName: o.sessionName, DurationSeconds: String(SESSION_SECONDS) });
  if (o.externalId !== null) params.set('ExternalId', o.externalId);
  const body = params.toString();
  // Loaded on first use, as the S3 SDK is (storage-connection.ts imports this module at start).
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const signer = new SignatureV4({ credentials: await baseCredentials(o.base), region: o.region, service: 'sts', sha256: NodeSha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname || '/',
    query: {},
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  const res = await o.transport(url.toString(), { headers: signed.headers, body }).catch((err: unknown) => {
    if (err instanceof StorageError) throw err;
    throw new StorageError('unreachable', `The STS endpoint ${url.host} cannot be reached.`, 'role_arn');
  });
  if (res.status !== 200) throw stsRefusal(res.status, res.body, o);
  const accessKeyId = xmlText(res.body, 'AccessKeyId');
  const secretAccessKey = xmlText(res.body, 'SecretAccessKey');
  const sessionToken = xmlText(res.body, 'SessionToken');
  const expiration = new Date(xmlText(res.body, 'Expiration') ?? '');
  if (!accessKeyId || !secretAccessKey || !sessionToken || Number.isNaN(expiration.getTime())) {
    throw new StorageError('invalid', `The STS endpoint ${url.host} answered without temporary credentials.`, 'role_arn');
  }
  return { accessKeyId, secretAccessKey, sessionToken, expiration };
}

interface CacheEntry {
  credentials: Promise<Required<AwsCredentials>>;
  /** When the entry stops being handed out (Infinity until STS has answered). */
  refreshAt: number;
}

/**
 * Temporary credentials by storage and inputs (a changed role, external id or base key is another
 * entry), for one server: STS failures are not kept, so a fixed trust policy works at once.
 */
export class AssumedRoleCache {
  private readonly entries = new Map<string, CacheEntry>();

  /** Temporary credentials for the options, and when to stop using them: cached while fresh, else from STS. */
  async get(o: AssumeRoleOptions): Promise<{ credentials: Required<AwsCredentials>; refreshAt: number }> {
    const key = cacheKey(o);
    const now = Date.now();
    let entry = this.entries.get(key);
    if (!entry || entry.refreshAt <= now) {
      this.sweep(now);
      const fresh: CacheEntry = { credentials: assumeRole(o), refreshAt: Infinity };
      this.entries.set(key, fresh);
      fresh.credentials.then(
        (c) => {
          fresh.refreshAt = refreshTime(c.expiration);
        },
        () => {
          if (this.entries.get(key) === fresh) this.entries.delete(key);
        },
      );
      entry = fresh;
    }
    const credentials = await entry.credentials;
    return { credentials, refreshAt: entry.refreshAt === Infinity ? refreshTime(credentials.expiration) : entry.refreshAt };
  }

  private sweep(now: number): void {
    for (const [k, e] of this.entries) if (e.refreshAt <= now) this.entries.delete(k);
    while (this.entries.size >= MAX_CACHED) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** REFRESH_BEFORE_MS before expiry (half the time left for a session shorter than twice that). */
function refreshTime(expiration: Date): number {
  const left = expiration.getTime() - Date.now();
  return Date.now() + Math.max(left - REFRESH_BEFORE_MS, left / 2);
}

function cacheKey(o: AssumeRoleOptions): string {
  const parts = [stsEndpointFor(o.region, o.endpoint), o.region, o.roleArn, o.externalId, o.sessionName, o.base?.accessKeyId, o.base?.secretAccessKey, o.base?.sessionToken];
  return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * An S3 client credential provider assuming the role. With a cache (a saved storage in use) the
 * credentials are shared until shortly before expiry; without (a connection check) STS is asked
 * every time, so a check reflects the trust policy as it is now. The expiry told to the S3 client
 * is shifted so that it renews when the cache does.
 */
export function assumedRoleProvider(o: AssumeRoleOptions & { cache: AssumedRoleCache | null }): () => Promise<AwsCredentials> {
  return async () => {
    if (o.cache === null) {
      const c = await assumeRole(o);
      return { ...c, expiration: new Date(refreshTime(c.expiration) + SDK_MARGIN_MS) };
    }
    const { credentials, refreshAt } = await o.cache.get(o);
    return { ...credentials, expiration: new Date(refreshAt + SDK_MARGIN_MS) };
  };
}
