/** Opens what the app is built from (database, keys) for a config; used by main, the CLI and tests. */
import fs from 'node:fs';
import type { AppDeps } from './app-deps.js';
import type { Config } from './config/config.js';
import { AuditSealer } from './audit/sealer.js';
import { migrateToLatest, openDatabase } from './db/database.js';
import { Metrics } from './http/metrics.js';
import { createJobRunner, type ProcessRole } from './jobs/job-definitions.js';
import { openRedis } from './redis/redis.js';
import { loadOrCreateSecretKey, Secrets } from './security/secret-key.js';

const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
export const VERSION = pkg.version;

/**
 * Creates the data folder (0700) and tightens it to 0700. A folder this process does not own
 * (the root of a volume mounted into a non-root pod, group-writable through fsGroup) cannot be
 * chmodded: then it is used as it is, with a warning, when this process can write to it.
 */
function prepareDataDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    fs.chmodSync(dir, 0o700);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    process.emitWarning(`LABELVAULT_DATA_DIR ${dir} is not owned by this process's user, so it was not set to 0700: keep its volume private to Labelvault's pods`);
  }
}

/** Options of {@link openDeps}. */
export interface OpenOptions {
  /** Apply pending migrations (default true; PostgreSQL serialises concurrent runs with an advisory lock). */
  migrate?: boolean;
  /** What this process does with jobs (default `all`: runs them); see createJobRunner. */
  role?: ProcessRole;
  /** Told of job queue and connection errors (default: a process warning). */
  onJobError?: (err: unknown) => void;
}

/**
 * Creates the data folder (0700), opens the database, applies migrations, connects to Redis when
 * REDIS_URL is set, sets up metrics when METRICS_ENABLED, and creates the job runner (BullMQ
 * with Redis, in-process without). `close` lets running jobs finish for SHUTDOWN_GRACE_SECONDS
 * (then stops them: re-queued with Redis, failed without), then closes Redis and the database.
 */
export async function openDeps(config: Readonly<Config>, opts: OpenOptions = {}): Promise<AppDeps & { close: () => Promise<void> }> {
  prepareDataDir(config.dataDir);
  const secrets = new Secrets(loadOrCreateSecretKey(config.secretKey, config.dataDir));
  const { db, dialect } = openDatabase(config.database);
  if (opts.migrate !== false) await migrateToLatest(db);
  // Redis failures (refused TLS, outage) surface through GET /ready; the client reconnects.
  const redis = config.redis === null ? undefined : openRedis(config.redis);
  redis?.on('error', () => undefined);
  const metrics = config.metrics === null ? undefined : new Metrics();
  const base = { config, db, dialect, secrets, version: VERSION, redis, metrics };
  const jobs = await createJobRunner(base, { role: opts.role ?? 'all', ...(metrics && { observe: metrics.observeJob }), ...(opts.onJobError && { onError: opts.onJobError }) });
  metrics?.watchQueue(jobs);
  // PostgreSQL: this process chains the audit events committed by any process (see audit/sealer.ts).
  const sealer = dialect === 'postgres' ? new AuditSealer(db, secrets) : undefined;
  const close = async () => {
    await jobs.close({ abortAfterMs: config.shutdown.graceMs });
    await sealer?.stop();
    redis?.disconnect();
    await db.destroy();
  };
  return { ...base, jobs, close };
}
