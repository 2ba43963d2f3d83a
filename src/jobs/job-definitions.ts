/**
 * Every background job of the server, by name, like routes.ts for routes. A definition gives the
 * handler (built from the app's dependencies) and, for drivers that lose jobs on restart, how to
 * mark the work a stopped process left half-done.
 */
import type { AppDeps } from '../app-deps.js';
import { auditPruneJob } from '../audit/retention.js';
import { snapshotJob } from '../modules/exports/snapshot.job.js';
import { exportAnnotationJob, exportSyncJob } from '../modules/storages/storage-export.job.js';
import { importSyncJob } from '../modules/storages/storage-sync.job.js';
import { InProcessJobRunner } from './in-process-runner.js';
import type { AttemptObserver, JobHandler, JobRunner } from './job-runner.js';

/** One kind of job: its name, its handler and its start-up recovery. */
export interface JobDefinition<P> {
  name: string;
  handler(deps: AppDeps): JobHandler<P>;
  /**
   * Run at start-up when the driver does not keep jobs across restarts: fails what the previous
   * process left queued or running (rows it would never finish). Returns how many it marked.
   */
  recoverInterrupted?(deps: AppDeps): Promise<number>;
  /** A recurring job: enqueued (with an empty payload) `firstAfterMs` after start-up, then every `intervalMs`. */
  every?: { intervalMs: number; firstAfterMs: number };
}

/** The registered job definitions. */
export const JOB_DEFINITIONS: readonly JobDefinition<any>[] = [snapshotJob, importSyncJob, exportAnnotationJob, exportSyncJob, auditPruneJob];

/** Which part of the work a process does: both (embedded default), HTTP only (`serve`) or jobs only (`worker`). */
export type ProcessRole = 'all' | 'http' | 'worker';

/** Options of {@link createJobRunner}. */
export interface JobRunnerOptions {
  role?: ProcessRole;
  /** Told how each attempt run in this process ended (metrics). */
  observe?: AttemptObserver;
  onError?: (error: unknown) => void;
}

/**
 * The server's job runner, with every definition registered: a BullMQ queue on Redis when
 * REDIS_URL is set (an `http` process only enqueues; `all` and `worker` run jobs), else the
 * in-process runner (two jobs at once). Callers see the same JobRunner either way.
 */
export async function createJobRunner(base: Omit<AppDeps, 'jobs'>, opts: JobRunnerOptions = {}): Promise<JobRunner> {
  const role = opts.role ?? 'all';
  const { redis } = base.config;
  const onError = opts.onError && ((err: unknown) => opts.onError!(err));
  // BullMQ loads only when Redis is configured: the embedded default never pays for it.
  const runner: JobRunner =
    redis === null
      ? new InProcessJobRunner({ concurrency: 2, ...(opts.observe && { observe: opts.observe }), ...(onError && { onError }) })
      : new (await import('./bullmq-runner.js')).BullMqJobRunner({
          redis,
          prefix: base.config.redisKeyPrefix,
          work: role !== 'http',
          concurrency: role === 'worker' ? base.config.jobs.workerConcurrency : 2,
          ...(opts.observe && { observe: opts.observe }),
          ...(onError && { onError }),
        });
  const deps: AppDeps = { ...base, jobs: runner };
  for (const def of JOB_DEFINITIONS) runner.register(def.name, def.handler(deps));
  return runner;
}

/**
 * Fails the work a previous process left unfinished, when the driver loses jobs on restart.
 * Call once at server start-up, before serving (not from the CLI, which may run beside a live
 * server). With several server processes on one database, use a driver that survives restarts.
 */
export async function recoverInterruptedJobs(deps: AppDeps): Promise<number> {
  if (deps.jobs.survivesRestart) return 0;
  let marked = 0;
  for (const def of JOB_DEFINITIONS) marked += (await def.recoverInterrupted?.(deps)) ?? 0;
  return marked;
}

/**
 * Starts the timers of the recurring jobs (`every`), in the server process only (not the CLI or
 * tests). Each run is enqueued under a fixed job id, so a run still going is not doubled. The
 * timers do not keep the process alive; the returned function stops them.
 */
export function startRecurringJobs(deps: AppDeps, onError: (err: unknown) => void = () => undefined): () => void {
  const timers: NodeJS.Timeout[] = [];
  for (const def of JOB_DEFINITIONS) {
    if (!def.every) continue;
    const { intervalMs, firstAfterMs } = def.every;
    const enqueue = () => void deps.jobs.enqueue(def.name, {}, { jobId: `${def.name}-recurring`, attempts: 1 }).catch(onError);
    timers.push(
      setTimeout(() => {
        enqueue();
        timers.push(setInterval(enqueue, intervalMs).unref());
      }, firstAfterMs).unref(),
    );
  }
  return () => {
    for (const t of timers) clearTimeout(t);
  };
}
