/** Opens what the app is built from (database, keys) for a config; used by main, the CLI and tests. */
import fs from 'node:fs';
import type { AppDeps } from './app-deps.js';
import type { Config } from './config/config.js';
import { migrateToLatest, openDatabase } from './db/database.js';
import { createJobRunner } from './jobs/job-definitions.js';
import { openRedis } from './redis/redis.js';
import { loadOrCreateSecretKey, Secrets } from './security/secret-key.js';

const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
export const VERSION = pkg.version;

/**
 * Creates the data folder (0700), opens the database, applies migrations, connects to Redis when
 * REDIS_URL is set and creates the job runner. `close` lets running jobs finish (aborting them
 * after 10 s), then closes Redis and the database.
 */
export async function openDeps(config: Readonly<Config>, opts: { migrate?: boolean } = {}): Promise<AppDeps & { close: () => Promise<void> }> {
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(config.dataDir, 0o700);
  const secrets = new Secrets(loadOrCreateSecretKey(config.secretKey, config.dataDir));
  const { db, dialect } = openDatabase(config.database);
  if (opts.migrate !== false) await migrateToLatest(db);
  // Redis failures (refused TLS, outage) surface through GET /health; the client reconnects.
  const redis = config.redis === null ? undefined : openRedis(config.redis);
  redis?.on('error', () => undefined);
  const base = { config, db, dialect, secrets, version: VERSION, redis };
  const jobs = createJobRunner(base);
  const close = async () => {
    await jobs.close({ abortAfterMs: 10_000 });
    redis?.disconnect();
    await db.destroy();
  };
  return { ...base, jobs, close };
}
