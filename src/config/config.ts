/**
 * THE config module. Every setting Labelvault has is an environment variable declared here,
 * with a description and a default (never a default for a secret). It is read once, validated,
 * cross-checked, turned into a typed nested object and frozen. Nothing else reads `process.env`.
 */
import path from 'node:path';
import { z } from 'zod';

/** Label Studio writes booleans as True/False; accept any case and 1/0, yes/no, on/off. */
const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), {
    message: 'must be true or false (also 1/0, yes/no, on/off)',
  })
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const optionalText = z
  .string()
  .transform((v) => (v.trim() === '' ? undefined : v))
  .optional();

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
    'Unset: SQLite file in the data folder. postgres://user:pass@host:5432/db uses PostgreSQL.',
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
  COLLECT_ANALYTICS: bool
    .default(true)
    .describe('Label Studio name. true: count usage locally (GET /api/usage; never sent anywhere). false/0/no: record nothing.'),
  TASK_LOCK_TTL_SECONDS: int(10, 7 * 86_400)
    .default(3600)
    .describe('How long a task handed out by the label stream stays reserved for its annotator.'),
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
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  secretKey: string | undefined;
  logLevel: string;
  session: { cookieSecure: boolean; idleTimeoutMs: number; maxAgeMs: number };
  login: { maxFailuresPerAccount: number; maxFailuresPerIp: number; windowMs: number };
  passwords: { scryptLogN: number };
  tokens: { accessTtlSeconds: number; personalTtlDays: number };
  bootstrap: { username: string | undefined; password: string | undefined; token: string | undefined };
  signup: { requireInviteLink: boolean };
  labeling: { taskLockTtlMs: number };
  imports: { maxFileBytes: number; maxTasks: number; maxTaskBytes: number };
  usage: { collect: boolean };
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

function databaseFrom(url: string | undefined, dataDir: string): Config['database'] {
  if (url === undefined) return { kind: 'sqlite', file: path.join(dataDir, 'labelvault.sqlite3') };
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  if (url.startsWith('sqlite:')) return { kind: 'sqlite', file: path.resolve(url.slice('sqlite:'.length)) };
  throw new ConfigError(['DATABASE_URL: must start with postgres:// or postgresql:// (or be unset for SQLite)']);
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
  if (e.LABEL_STUDIO_HOST !== undefined && !/^https?:\/\/[^\s/]+/.test(e.LABEL_STUDIO_HOST)) {
    problems.push('LABEL_STUDIO_HOST: must be an http:// or https:// URL');
  }
  const dataDir = path.resolve(e.LABELVAULT_DATA_DIR);
  let database: Config['database'] | undefined;
  let trustProxy: Config['server']['trustProxy'] = false;
  try {
    database = databaseFrom(e.DATABASE_URL, dataDir);
    trustProxy = parseTrustProxy(e.TRUST_PROXY);
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems);
    else throw err;
  }
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
    imports: { maxFileBytes: e.IMPORT_MAX_FILE_BYTES, maxTasks: e.IMPORT_MAX_TASKS, maxTaskBytes: e.IMPORT_MAX_TASK_BYTES },
    usage: { collect: e.COLLECT_ANALYTICS },
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
