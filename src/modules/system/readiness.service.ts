/**
 * Readiness (GET /ready on app nodes, and on a worker's probe listener): may this process take
 * work? It needs what every request or job may touch:
 * - the database, answering with every migration applied;
 * - Redis, when REDIS_URL is set (the job queue and shared rate limit);
 * - the data folder, LABELVAULT_DATA_DIR (the import spool; uploads and snapshots too with
 *   FILE_STORAGE=local): it must accept a write. On several nodes it is one shared volume, so a
 *   node that lost its mount, or whose volume turned read-only or full, is taken out;
 * - the file store of uploads and export snapshots (FILE_STORAGE, storage/file-store.ts): the data folder
 *   again, or the server's bucket, which must accept a small object (written and removed: two
 *   requests per probe; a HEAD could not tell a missing bucket from a missing key).
 *
 * Customers' project storages (S3, GCS, Azure, Redis, local-files import and export storages) are
 * NOT checked: each belongs to one project, its owner may take it down or revoke its credentials
 * at any time, and that must never take a node out of rotation for everyone else; a sync or an
 * export to a broken storage fails on its own and says so on the storage.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import { isDatabaseReady } from '../../db/database.js';
import { isRedisReady } from '../../redis/redis.js';
import { fileStoreOf } from '../../storage/file-store.js';

/** The state of each dependency /ready reports. */
export interface ReadinessChecks {
  database: 'up' | 'down' | 'migrations_pending';
  redis: 'up' | 'down' | 'not_configured';
  /** The data folder (LABELVAULT_DATA_DIR) accepts a write. */
  data_dir: 'up' | 'down';
  /** The export snapshot file store (FILE_STORAGE: the data folder or the bucket) accepts a write. */
  file_storage: 'up' | 'down';
}

/** How long one check may take before its dependency counts as down. */
const CHECK_TIMEOUT_MS = 2_000;

/** Resolves `false` when `check` takes longer than `ms` (or fails). */
async function within(check: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([check.catch(() => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Writes and removes a small file of this process's own in the folder. No fsync: under a heavy
 * write load (an import on the same disk) one can stall for seconds and flap readiness, while a
 * lost mount (ENOENT), a read-only volume (EROFS) or a full one (ENOSPC) already fail the write.
 */
async function writeProbe(dir: string): Promise<boolean> {
  const file = path.join(dir, `.ready-${process.pid}-${randomBytes(4).toString('hex')}`);
  const handle = await fs.promises.open(file, 'wx', 0o600);
  try {
    await handle.writeFile('ready\n');
  } finally {
    await handle.close();
    await fs.promises.rm(file, { force: true });
  }
  return true;
}

/**
 * One probe per target at a time: while a probe hangs (a stale network mount, a silent bucket),
 * later checks wait for the same one instead of piling more blocked calls onto libuv's few file
 * threads or the S3 client's sockets.
 */
const probesInFlight = new Map<string, Promise<boolean>>();

function probeOnce(target: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let running = probesInFlight.get(target);
  if (!running) {
    running = probe()
      .catch(() => false)
      .finally(() => probesInFlight.delete(target));
    probesInFlight.set(target, running);
  }
  return within(running, timeoutMs);
}

/** True when the folder accepts a write within the timeout; never creates the folder itself. */
export function isFolderWritable(dir: string, timeoutMs = CHECK_TIMEOUT_MS): Promise<boolean> {
  return probeOnce(`folder:${dir}`, () => writeProbe(dir), timeoutMs);
}

/** True when the file store of export snapshots accepts (and removes) a small file. */
async function isFileStoreWritable(deps: AppDeps): Promise<boolean> {
  const files = deps.config.files;
  if (files.kind === 'local') return isFolderWritable(files.root);
  return probeOnce(`s3:${files.endpoint ?? 'aws'}/${files.bucket}/${files.prefix}`, async () => {
    const store = await fileStoreOf(deps.config);
    const key = `readiness/${process.pid}-${randomBytes(4).toString('hex')}`;
    await store.put(key, Readable.from(['ready\n']), { contentType: 'text/plain' });
    await store.delete(key);
    return true;
  }, CHECK_TIMEOUT_MS);
}

async function databaseState(deps: AppDeps): Promise<ReadinessChecks['database']> {
  try {
    await sql`select 1`.execute(deps.db);
    return (await isDatabaseReady(deps.db)) ? 'up' : 'migrations_pending';
  } catch {
    return 'down';
  }
}

/** What /ready reports: each dependency's state, checked concurrently, and whether all are usable. */
export async function readiness(deps: AppDeps): Promise<{ ready: boolean; checks: ReadinessChecks }> {
  const [database, redisUp, dataDirUp, filesUp] = await Promise.all([
    databaseState(deps),
    deps.redis === undefined ? Promise.resolve(null) : isRedisReady(deps.redis, CHECK_TIMEOUT_MS),
    isFolderWritable(deps.config.dataDir),
    isFileStoreWritable(deps),
  ]);
  const upDown = (up: boolean) => (up ? 'up' : 'down') as 'up' | 'down';
  const checks: ReadinessChecks = { database, redis: redisUp === null ? 'not_configured' : upDown(redisUp), data_dir: upDown(dataDirUp), file_storage: upDown(filesUp) };
  return { ready: database === 'up' && checks.redis !== 'down' && dataDirUp && filesUp, checks };
}
