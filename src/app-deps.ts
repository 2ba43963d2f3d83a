/** What the application is built from: config, database, keys and the job runner. Tests build it too. */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config/config.js';
import type { Db, Dialect } from './db/database.js';
import type { Metrics } from './http/metrics.js';
import type { JobRunner } from './jobs/job-runner.js';
import type { Redis } from './redis/redis.js';
import type { Secrets } from './security/secret-key.js';

export interface AppDeps {
  config: Readonly<Config>;
  db: Db;
  dialect: Dialect;
  secrets: Secrets;
  version: string;
  /** Background jobs (export snapshots): enqueue by name; see jobs/job-runner.ts. */
  jobs: JobRunner;
  /** Redis client when REDIS_URL is set (src/redis/redis.ts); GET /ready, the shared rate limit. */
  redis?: Redis | undefined;
  /** Prometheus metrics when METRICS_ENABLED (src/http/metrics.ts). */
  metrics?: Metrics | undefined;
}

/** Context handed to services: the app's parts plus a logger. */
export interface ServiceDeps extends AppDeps {
  log: FastifyBaseLogger;
}
