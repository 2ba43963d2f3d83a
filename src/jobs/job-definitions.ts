/**
 * Every background job of the server, by name, like routes.ts for routes. A definition gives the
 * handler (built from the app's dependencies) and, for drivers that lose jobs on restart, how to
 * mark the work a stopped process left half-done.
 */
import type { AppDeps } from '../app-deps.js';
import { auditPruneJob } from '../audit/retention.js';
import { snapshotJob } from '../modules/exports/snapshot.job.js';
import { exportAnnotationJob, exportAnnotationsJob, exportSyncJob } from '../modules/storages/storage-export.job.js';
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
  /** A recurring job: enqueued (with an empty payload) `firstAfterMs` after start-up, then once per `intervalMs` slot (startRecurringJobs). */
  every?: { intervalMs: number; firstAfterMs: number };
}

/** The registered job definitions. */
export const JOB_DEFINITIONS: readonly JobDefinition<any>[] = [snapshotJob, importSyncJob, exportAnnotationJob, exportAnnotationsJob, exportSyncJob, auditPruneJob];

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
          stalledIntervalMs: base.config.jobs.stalledIntervalMs,
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

/** The job id of a recurring job's run in the interval slot holding `at` (slots start at multiples of the interval, UTC). */
export function recurringJobId(name: string, intervalMs: number, at = Date.now()): string {
  return `${name}-recurring-${Math.floor(at / intervalMs)}`;
}

/** Milliseconds until just past the start of the next slot (a little margin absorbs clock skew between nodes). */
function untilNextSlot(intervalMs: number, now = Date.now()): number {
  return intervalMs - (now % intervalMs) + Math.min(1_000, Math.floor(intervalMs / 10));
}

/**
 * Starts the timers of the recurring jobs (`every`), in server and worker processes (not the CLI
 * or tests): each definition's run is enqueued `firstAfterMs` after start-up, then at the start
 * of every interval slot. A run is enqueued `once` under its slot's id (recurringJobId), so
 * however many processes start these timers, on one shared queue each slot runs once. The
 * timers do not keep the process alive; the returned function stops them.
 */
export function startRecurringJobs(jobs: JobRunner, onError: (err: unknown) => void = () => undefined, definitions: readonly JobDefinition<any>[] = JOB_DEFINITIONS): () => void {
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  const after = (ms: number, fn: () => void) => {
    if (stopped) return;
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms).unref();
    timers.add(t);
  };
  for (const def of definitions) {
    if (!def.every) continue;
    const { intervalMs, firstAfterMs } = def.every;
    const run = () => {
      void jobs.enqueue(def.name, {}, { jobId: recurringJobId(def.name, intervalMs), once: true, attempts: 1 }).catch(onError);
      after(untilNextSlot(intervalMs), run);
    };
    after(firstAfterMs, run);
  }
  return () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
  };
}
