/**
 * THE config module. Every setting Labelvault has is an environment variable declared here,
 * with a description and a default (never a default for a secret). It is read once, validated,
 * cross-checked, turned into a typed nested object and frozen. Nothing else reads `process.env`.
 */
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { z } from 'zod';
import { readCertificates } from './pem.js';
import { bool, int, optionalText } from './env-values.js';
import { fileStorageEnv, fileStorageFrom, type FileStorageConfig } from './file-storage.js';
import { outboundEnv, outboundFrom, type OutboundConfig } from './outbound.js';
import { storagesEnv, storagesFrom, type StoragesConfig } from './storages.js';
import { PG_SSL_MODE_NAMES, postgresFrom, redisFrom, type PostgresConfig, type RedisConfig } from './connections.js';

/**
 * The environment, variable by variable. `describe()` texts are the documentation: the README
 * and `.env.example` list the same names (a test keeps them in step).
 */
export const envSchema = z.object({
  NODE_ENV: z
    .enum(['production', 'development', 'test'])
    .default('production')
    .describe('production (default), development or test.'),
  HOST: z
    .string()
    .trim()
    .min(1)
    .default('127.0.0.1')
    .describe('Address to listen on. Loopback by default; set 0.0.0.0 only to expose the server.'),
  PORT: int(0, 65535).default(8080).describe('TCP port of the HTTP listener.'),
  LABELVAULT_DATA_DIR: z
    .string()
    .trim()
    .min(1)
    .default('./data')
    .describe('Folder for the SQLite file, the generated secret key and media (created 0700).'),
  DATABASE_URL: optionalText.describe(
    'Unset: SQLite file in the data folder. postgres://user:pass@host:5432/db uses PostgreSQL (sslmode=… and sslrootcert/sslcert/sslkey may be given in the query).',
  ),
  POSTGRE_SSL_MODE: z
    .enum(PG_SSL_MODE_NAMES)
    .optional()
    .describe(
      'Label Studio name. PostgreSQL TLS: disable, require (no verification), verify-ca (certificate chain) or verify-full (chain and host name); allow/prefer are refused. Unset: sslmode from DATABASE_URL, else disable for a loopback host or Unix socket and verify-full otherwise. Must agree with a sslmode in DATABASE_URL.',
    ),
  POSTGRE_SSLROOTCERT: optionalText.describe(
    'Label Studio name. PEM file of the CA(s) PostgreSQL\'s certificate must chain to (replaces the built-in roots and CUSTOM_CA_CERTS for PostgreSQL; "system": built-in roots plus CUSTOM_CA_CERTS).',
  ),
  POSTGRE_SSLCERT: optionalText.describe('Label Studio name. PEM client certificate for PostgreSQL (with POSTGRE_SSLKEY).'),
  POSTGRE_SSLKEY: optionalText.describe('Label Studio name. PEM private key of POSTGRE_SSLCERT (keep it 0600).'),
  POSTGRE_ALLOW_INSECURE_TRANSPORT: bool
    .default(false)
    .describe(
      'true: allow NODE_ENV=production with a non-loopback PostgreSQL reached without verify-full (plain or unverified TLS), for a network you trust. false: such a setup refuses to start.',
    ),
  REDIS_URL: optionalText.describe(
    'Redis for jobs and shared state: redis://[user:pass@]host:6379[/db], or rediss://… for TLS. Unset: no Redis (jobs run in the server process). Set: jobs go through a BullMQ queue on it (needed by `labelvault serve` / `worker`), API rate-limit counters are shared there, and GET /ready checks it.',
  ),
  REDIS_TLS_CA_FILE: optionalText.describe(
    'PEM file of the CA(s) Redis\'s certificate must chain to (replaces the built-in roots and CUSTOM_CA_CERTS for Redis). Needs rediss://.',
  ),
  REDIS_TLS_CERT_FILE: optionalText.describe('PEM client certificate presented to Redis (with REDIS_TLS_KEY_FILE; for tls-auth-clients). Needs rediss://.'),
  REDIS_TLS_KEY_FILE: optionalText.describe('PEM private key of REDIS_TLS_CERT_FILE (keep it 0600).'),
  REDIS_TLS_SERVERNAME: optionalText.describe(
    'Host name sent to Redis (SNI) and checked against its certificate. Unset: the host of REDIS_URL.',
  ),
  REDIS_KEY_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, _ . or -')
    .default('labelvault')
    .describe('Prefix of every Redis key Labelvault writes (job queue, rate-limit counters): lets several instances share one Redis.'),
  WORKER_CONCURRENCY: int(1, 64)
    .default(2)
    .describe('Jobs one `labelvault worker` process runs at once (with REDIS_URL). The embedded server runs at most 2.'),
  JOBS_STALLED_INTERVAL_MS: int(500, 600_000)
    .default(30_000)
    .describe('With REDIS_URL: how long a running job\'s lock lasts unrenewed, and how often workers look for jobs whose worker died (BullMQ lockDuration and stalledInterval). A killed worker\'s job goes to another worker within about twice this. Keep it well above the longest event-loop pause of a worker.'),
  SHUTDOWN_GRACE_SECONDS: int(1, 3600)
    .default(20)
    .describe('On SIGTERM: how long in-flight requests, then running jobs, may take to finish before they are stopped (requests lose their connection and roll back; jobs are re-queued with Redis, failed without). Keep twice this below the orchestrator\'s kill timeout.'),
  METRICS_ENABLED: bool
    .default(false)
    .describe('true: serve Prometheus metrics at GET /metrics (needs METRICS_TOKEN). false (default): /metrics answers 404.'),
  METRICS_TOKEN: optionalText.describe(
    'Bearer token (at least 32 characters) a Prometheus scraper must send to GET /metrics (Authorization: Bearer …). Required when METRICS_ENABLED is true.',
  ),
  SECRET_KEY: optionalText.describe(
    'Server secret (at least 32 characters) for token hashes and signatures. Unset: generated once and kept in the data folder (0600).',
  ),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Log level of the JSON logs.'),
  LABEL_STUDIO_HOST: optionalText.describe(
    'Public base URL of this server (e.g. https://label.example.com), used in links it prints.',
  ),
  TRUST_PROXY: optionalText.describe(
    'Unset: X-Forwarded-* headers are ignored. A hop count (1) or comma-separated proxy addresses/CIDRs make them count.',
  ),
  SESSION_COOKIE_SECURE: bool
    .default(false)
    .describe('true: session cookies are always Secure. false: Secure whenever the request came over HTTPS.'),
  TLS_CERT_FILE: optionalText.describe(
    'PEM certificate (chain) file: with TLS_KEY_FILE the server speaks HTTPS itself and sends HSTS.',
  ),
  TLS_KEY_FILE: optionalText.describe('PEM private key file of TLS_CERT_FILE (keep it 0600).'),
  HTTP_REDIRECT_PORT: int(1, 65535)
    .optional()
    .describe('With TLS: also listen on this port (same HOST) for plain HTTP that only redirects (308) to HTTPS.'),
  CORS_ALLOWED_ORIGINS: optionalText.describe(
    'Comma-separated origins (https://app.example.com) allowed cross-origin access, with credentials. Unset: none.',
  ),
  API_RATE_LIMIT_PER_MINUTE: int(0, 1_000_000)
    .optional()
    .describe('Requests per minute one client IP may make (429 with Retry-After past it). Unset: 1200 (off when NODE_ENV=test). 0: off.'),
  JSON_MAX_DEPTH: int(2, 10_000)
    .default(64)
    .describe('Deepest nesting of objects and arrays in a JSON request body or one imported task (400 past it).'),
  SESSION_IDLE_TIMEOUT_MINUTES: int(1, 60 * 24 * 30)
    .default(480)
    .describe('A browser session ends after this many minutes without a request.'),
  SESSION_MAX_AGE_HOURS: int(1, 24 * 90)
    .default(168)
    .describe('A browser session ends this many hours after login, active or not.'),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: int(1, 10000)
    .default(10)
    .describe('Failed logins for one email within the window before logins for it are refused (429).'),
  LOGIN_MAX_FAILURES_PER_IP: int(1, 100000)
    .default(50)
    .describe('Failed logins from one IP within the window before its logins are refused (429).'),
  LOGIN_FAILURE_WINDOW_MINUTES: int(1, 24 * 60)
    .default(15)
    .describe('Length of the failed-login window.'),
  PASSWORD_HASH_COST: int(14, 20)
    .default(17)
    .describe('scrypt cost as log2(N); 17 (128 MiB, OWASP minimum) by default.'),
  ACCESS_TOKEN_TTL_SECONDS: int(30, 3600)
    .default(300)
    .describe('Lifetime of an access token obtained from a personal access token.'),
  PERSONAL_ACCESS_TOKEN_TTL_DAYS: int(1, 3650)
    .default(90)
    .describe('Lifetime of a personal access token (POST /api/token/).'),
  REQUEST_BODY_LIMIT_BYTES: int(1024, 1024 * 1024 * 1024)
    .default(1024 * 1024)
    .describe('Largest accepted JSON or form body.'),
  IMPORT_MAX_FILE_BYTES: int(1024, 64 * 1024 ** 3)
    .default(1024 ** 3)
    .describe('Largest file (or streamed JSON body) one import accepts.'),
  IMPORT_MAX_TASKS: int(1, 100_000_000)
    .default(1_000_000)
    .describe('Most tasks one import may create.'),
  IMPORT_MAX_TASK_BYTES: int(1024, 256 * 1024 * 1024)
    .default(4 * 1024 * 1024)
    .describe('Largest single task (its JSON text) an import accepts.'),
  LOCAL_FILES_SERVING_ENABLED: bool
    .default(false)
    .describe('Label Studio name. true: local-files storages may read files under LOCAL_FILES_DOCUMENT_ROOT. false (default): refused.'),
  LOCAL_FILES_DOCUMENT_ROOT: optionalText.describe(
    'Label Studio name. Absolute folder that local-files storages must lie under; files outside it (.., symlinks) are never served.',
  ),
  COLLECT_ANALYTICS: bool
    .default(true)
    .describe('Label Studio name. true: count usage locally (GET /api/usage; never sent anywhere). false/0/no: record nothing.'),
  AUDIT_RETENTION_DAYS: int(0, 36_500)
    .default(0)
    .describe('Audit events older than this many days are pruned daily (a signed checkpoint keeps the rest verifiable). 0: keep forever.'),
  TASK_LOCK_TTL_SECONDS: int(10, 7 * 86_400)
    .default(3600)
    .describe('How long a task handed out by the label stream stays reserved for its annotator.'),
  ...outboundEnv,
  CUSTOM_CA_CERTS: optionalText.describe(
    'Comma-separated PEM files of certificate authorities trusted, beside the built-in ones, by every outbound TLS connection (fetches, PostgreSQL, Redis, storages).',
  ),
  AWS_CA_BUNDLE: optionalText.describe('PEM file of the certificate authorities the S3 client trusts (Label Studio name).'),
  ...storagesEnv,
  ...fileStorageEnv,
  LABEL_STUDIO_USERNAME: optionalText.describe(
    'Email of the first Owner, created at start if missing (Label Studio name).',
  ),
  LABEL_STUDIO_PASSWORD: optionalText.describe('Password of that first Owner.'),
  LABEL_STUDIO_USER_TOKEN: optionalText.describe(
    'Optional API token of that first Owner (at least 20 characters).',
  ),
  LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK: bool
    .default(true)
    .describe('true (default): signup needs the organization invite link. false: open signup.'),
});

export type Env = z.input<typeof envSchema>;

/** The validated, typed and frozen configuration the whole server uses. */
export interface Config {
  env: 'production' | 'development' | 'test';
  server: { host: string; port: number; publicUrl: string | undefined; trustProxy: boolean | number | string[]; bodyLimit: number };
  dataDir: string;
  /** SQLite, or PostgreSQL with its resolved TLS settings (src/config/connections.ts). */
  database: { kind: 'sqlite'; file: string } | PostgresConfig;
  /** Redis (REDIS_URL) with its TLS settings; null: no Redis configured. */
  redis: RedisConfig | null;
  secretKey: string | undefined;
  logLevel: string;
  session: { cookieSecure: boolean; idleTimeoutMs: number; maxAgeMs: number };
  /** HTTPS served by the process itself; null: plain HTTP (e.g. behind a TLS-terminating proxy). */
  tls: { certFile: string; keyFile: string; redirectPort: number | undefined } | null;
  /** Origins allowed cross-origin access (exact `scheme://host[:port]`); empty: none. */
  cors: { allowedOrigins: readonly string[] };
  /** Request limits beyond the body size: JSON nesting and requests per minute per IP (0: off). */
  limits: { jsonMaxDepth: number; ratePerMinute: number };
  login: { maxFailuresPerAccount: number; maxFailuresPerIp: number; windowMs: number };
  passwords: { scryptLogN: number };
  tokens: { accessTtlSeconds: number; personalTtlDays: number };
  bootstrap: { username: string | undefined; password: string | undefined; token: string | undefined };
  signup: { requireInviteLink: boolean };
  labeling: { taskLockTtlMs: number };
  /** Server-side fetches (src/outbound/): SSRF rules and limits (src/config/outbound.ts). */
  outbound: OutboundConfig;
  /** Certificate authorities for the server's outbound TLS connections. */
  trust: {
    /** `CUSTOM_CA_CERTS`, resolved paths. */
    customCaFiles: readonly string[];
    /** The certificates of those files, one PEM per certificate. */
    customCas: readonly string[];
    /**
     * The complete trust list to hand a TLS client (`ca` option): Node's built-in roots plus
     * `customCas`; undefined without custom CAs (the client's default store applies).
     */
    ca: readonly string[] | undefined;
    /** `AWS_CA_BUNDLE` read once: its path and certificates, for the S3 client. */
    awsCaBundle: { file: string; certs: readonly string[] } | undefined;
  };
  imports: { maxFileBytes: number; maxTasks: number; maxTaskBytes: number };
  /** Local-files storages: off unless enabled, and only under the document root (absolute, resolved). */
  localFiles: { enabled: boolean; documentRoot: string | null };
  usage: { collect: boolean };
  /** Audit log retention in days; 0 keeps every event. */
  audit: { retentionDays: number };
  /** Prefix of every Redis key (queue, rate-limit counters). */
  redisKeyPrefix: string;
  /** Jobs a `labelvault worker` process runs at once. */
  jobs: { workerConcurrency: number; stalledIntervalMs: number };
  /** SIGTERM: how long running jobs may take before they are stopped. */
  shutdown: { graceMs: number };
  /** Prometheus metrics at GET /metrics; null: off (404). */
  metrics: { token: string } | null;
  /** Where export snapshots and uploaded files are kept: the data folder or a bucket (src/config/file-storage.ts). */
  files: FileStorageConfig;
  /** Project storages: the STS endpoint, and whether the server's own identity may serve them (src/config/storages.ts). */
  storages: StoragesConfig;
}

/** Thrown when the environment is invalid; its message lists every problem by variable name. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function parseTrustProxy(raw: string | undefined): boolean | number | string[] {
  if (raw === undefined) return false;
  const v = raw.trim();
  if (/^\d+$/.test(v)) return Number(v);
  if (['true', 'false'].includes(v.toLowerCase())) {
    throw new ConfigError([
      'TRUST_PROXY: give a hop count or the proxy addresses; true would trust any client to claim HTTPS',
    ]);
  }
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** TLS_CERT_FILE and TLS_KEY_FILE go together, must be readable, and HTTP_REDIRECT_PORT needs them. */
function tlsFrom(e: z.output<typeof envSchema>, problems: string[]): Config['tls'] {
  if (e.TLS_CERT_FILE === undefined && e.TLS_KEY_FILE === undefined) {
    if (e.HTTP_REDIRECT_PORT !== undefined) problems.push('HTTP_REDIRECT_PORT: needs TLS_CERT_FILE and TLS_KEY_FILE (it redirects to HTTPS)');
    return null;
  }
  if (e.TLS_CERT_FILE === undefined) problems.push('TLS_CERT_FILE: required when TLS_KEY_FILE is set');
  if (e.TLS_KEY_FILE === undefined) problems.push('TLS_KEY_FILE: required when TLS_CERT_FILE is set');
  if (e.TLS_CERT_FILE === undefined || e.TLS_KEY_FILE === undefined) return null;
  for (const [name, file] of [['TLS_CERT_FILE', e.TLS_CERT_FILE], ['TLS_KEY_FILE', e.TLS_KEY_FILE]] as const) {
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch {
      problems.push(`${name}: cannot read ${file}`);
    }
  }
  if (e.HTTP_REDIRECT_PORT !== undefined && e.HTTP_REDIRECT_PORT === e.PORT) problems.push('HTTP_REDIRECT_PORT: must differ from PORT');
  return { certFile: path.resolve(e.TLS_CERT_FILE), keyFile: path.resolve(e.TLS_KEY_FILE), redirectPort: e.HTTP_REDIRECT_PORT };
}

/** Each listed origin must be exactly `scheme://host[:port]` (no wildcard, path or trailing slash). */
function corsOriginsFrom(raw: string | undefined, problems: string[]): string[] {
  const origins = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const o of origins) {
    let origin: string | undefined;
    try {
      origin = new URL(o).origin;
    } catch {
      /* reported below */
    }
    if (origin === undefined || origin === 'null' || origin !== o.toLowerCase() || o.includes('*')) {
      problems.push(`CORS_ALLOWED_ORIGINS: "${o}" is not an origin like https://app.example.com (no wildcard, path or trailing slash)`);
    }
  }
  return origins.map((o) => o.toLowerCase());
}

/** CUSTOM_CA_CERTS and AWS_CA_BUNDLE, read and checked once. */
function trustFrom(e: z.output<typeof envSchema>, problems: string[]): Config['trust'] {
  const customCaFiles = (e.CUSTOM_CA_CERTS ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((f) => path.resolve(f));
  const customCas = customCaFiles.flatMap((f) => readCertificates('CUSTOM_CA_CERTS', f, problems));
  const awsFile = e.AWS_CA_BUNDLE === undefined ? undefined : path.resolve(e.AWS_CA_BUNDLE.trim());
  return {
    customCaFiles,
    customCas,
    ca: customCas.length > 0 ? [...tls.rootCertificates, ...customCas] : undefined,
    awsCaBundle: awsFile === undefined ? undefined : { file: awsFile, certs: readCertificates('AWS_CA_BUNDLE', awsFile, problems) },
  };
}

/** SQLite or PostgreSQL; for PostgreSQL, its TLS settings checked against each other (connections.ts). */
function databaseFrom(e: z.output<typeof envSchema>, dataDir: string, trustCa: readonly string[] | undefined, problems: string[]): Config['database'] | undefined {
  const url = e.DATABASE_URL;
  if (url === undefined) return { kind: 'sqlite', file: path.join(dataDir, 'labelvault.sqlite3') };
  if (/^postgres(ql)?:\/\//.test(url)) return postgresFrom(url, e, trustCa, problems);
  if (url.startsWith('sqlite:')) return { kind: 'sqlite', file: path.resolve(url.slice('sqlite:'.length)) };
  problems.push('DATABASE_URL: must start with postgres:// or postgresql:// (or be unset for SQLite)');
  return undefined;
}

/**
 * Reads and validates the given environment (defaults to `process.env`). Throws ConfigError
 * naming every bad variable; never returns a partially valid config.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Readonly<Config> {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = source[key];
    if (value !== undefined) picked[key] = value;
  }
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.SECRET_KEY !== undefined && e.SECRET_KEY.length < 32) problems.push('SECRET_KEY: must be at least 32 characters');
  if (e.LABEL_STUDIO_PASSWORD !== undefined && e.LABEL_STUDIO_USERNAME === undefined) {
    problems.push('LABEL_STUDIO_USERNAME: required when LABEL_STUDIO_PASSWORD is set');
  }
  if (e.LABEL_STUDIO_USERNAME !== undefined && e.LABEL_STUDIO_PASSWORD === undefined) {
    problems.push('LABEL_STUDIO_PASSWORD: required when LABEL_STUDIO_USERNAME is set');
  }
  if (e.LABEL_STUDIO_USER_TOKEN !== undefined && e.LABEL_STUDIO_USER_TOKEN.length < 20) {
    problems.push('LABEL_STUDIO_USER_TOKEN: must be at least 20 characters');
  }
  if (e.LABEL_STUDIO_USER_TOKEN !== undefined && e.LABEL_STUDIO_USERNAME === undefined) {
    problems.push('LABEL_STUDIO_USER_TOKEN: needs LABEL_STUDIO_USERNAME and LABEL_STUDIO_PASSWORD');
  }
  if (e.METRICS_ENABLED && e.METRICS_TOKEN === undefined) problems.push('METRICS_TOKEN: required when METRICS_ENABLED is true (scrapers send it as a bearer token)');
  if (e.METRICS_TOKEN !== undefined && e.METRICS_TOKEN.length < 32) problems.push('METRICS_TOKEN: must be at least 32 characters');
  if (e.LABEL_STUDIO_HOST !== undefined && !/^https?:\/\/[^\s/]+/.test(e.LABEL_STUDIO_HOST)) {
    problems.push('LABEL_STUDIO_HOST: must be an http:// or https:// URL');
  }
  const dataDir = path.resolve(e.LABELVAULT_DATA_DIR);
  let trustProxy: Config['server']['trustProxy'] = false;
  try {
    trustProxy = parseTrustProxy(e.TRUST_PROXY);
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems);
    else throw err;
  }
  const tls = tlsFrom(e, problems);
  if (e.LOCAL_FILES_SERVING_ENABLED && e.LOCAL_FILES_DOCUMENT_ROOT === undefined) problems.push('LOCAL_FILES_DOCUMENT_ROOT: required when LOCAL_FILES_SERVING_ENABLED is true');
  const allowedOrigins = corsOriginsFrom(e.CORS_ALLOWED_ORIGINS, problems);
  const outbound = outboundFrom(e, problems);
  const trust = trustFrom(e, problems);
  const database = databaseFrom(e, dataDir, trust.ca, problems);
  const redis = redisFrom(e, trust.ca, problems);
  const files = fileStorageFrom(e, dataDir, problems);
  const storages = storagesFrom(e, files, problems);
  if (problems.length > 0 || database === undefined) throw new ConfigError(problems);

  const config: Config = {
    env: e.NODE_ENV,
    server: {
      host: e.HOST,
      port: e.PORT,
      publicUrl: e.LABEL_STUDIO_HOST?.replace(/\/+$/, ''),
      trustProxy,
      bodyLimit: e.REQUEST_BODY_LIMIT_BYTES,
    },
    dataDir,
    database,
    redis,
    secretKey: e.SECRET_KEY,
    logLevel: e.LOG_LEVEL,
    session: {
      cookieSecure: e.SESSION_COOKIE_SECURE,
      idleTimeoutMs: e.SESSION_IDLE_TIMEOUT_MINUTES * 60_000,
      maxAgeMs: e.SESSION_MAX_AGE_HOURS * 3_600_000,
    },
    login: {
      maxFailuresPerAccount: e.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerIp: e.LOGIN_MAX_FAILURES_PER_IP,
      windowMs: e.LOGIN_FAILURE_WINDOW_MINUTES * 60_000,
    },
    passwords: { scryptLogN: e.PASSWORD_HASH_COST },
    tokens: { accessTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS, personalTtlDays: e.PERSONAL_ACCESS_TOKEN_TTL_DAYS },
    bootstrap: { username: e.LABEL_STUDIO_USERNAME, password: e.LABEL_STUDIO_PASSWORD, token: e.LABEL_STUDIO_USER_TOKEN },
    signup: { requireInviteLink: e.LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK },
    labeling: { taskLockTtlMs: e.TASK_LOCK_TTL_SECONDS * 1000 },
    outbound,
    trust,
    imports: { maxFileBytes: e.IMPORT_MAX_FILE_BYTES, maxTasks: e.IMPORT_MAX_TASKS, maxTaskBytes: e.IMPORT_MAX_TASK_BYTES },
    localFiles: { enabled: e.LOCAL_FILES_SERVING_ENABLED, documentRoot: e.LOCAL_FILES_DOCUMENT_ROOT === undefined ? null : path.resolve(e.LOCAL_FILES_DOCUMENT_ROOT) },
    usage: { collect: e.COLLECT_ANALYTICS },
    audit: { retentionDays: e.AUDIT_RETENTION_DAYS },
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    jobs: { workerConcurrency: e.WORKER_CONCURRENCY, stalledIntervalMs: e.JOBS_STALLED_INTERVAL_MS },
    shutdown: { graceMs: e.SHUTDOWN_GRACE_SECONDS * 1000 },
    metrics: e.METRICS_ENABLED && e.METRICS_TOKEN !== undefined ? { token: e.METRICS_TOKEN } : null,
    files,
    storages,
    tls,
    cors: { allowedOrigins },
    limits: { jsonMaxDepth: e.JSON_MAX_DEPTH, ratePerMinute: e.API_RATE_LIMIT_PER_MINUTE ?? (e.NODE_ENV === 'test' ? 0 : 1200) },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
