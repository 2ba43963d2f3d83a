/**
 * The Redis job driver: jobs go through one BullMQ queue on REDIS_URL (TLS and client
 * certificates from src/redis/redis.ts), so any number of app nodes enqueue and any number of
 * `labelvault worker` processes run them. Jobs, their state, progress and failures live in
 * Redis: they survive a restart of every process.
 *
 * How the contract of job-runner.ts maps onto BullMQ:
 * - Retries and backoff are BullMQ's (`attempts`, fixed or exponential `backoff`, same formula).
 *   A {@link PermanentJobError} or the last failed try runs the handler's `onFailed` in the
 *   worker, then fails the job for good (BullMQ's UnrecoverableError: no further try).
 * - Cancelling a waiting or delayed job removes it; cancelling an active one is published on a
 *   Redis channel and the worker running it aborts its signal. A cancelled job is remembered
 *   (a small key with a TTL) so `status` answers `cancelled`, as the in-process driver does.
 * - Graceful stop: `close` stops taking jobs and waits for the running ones; past `abortAfterMs`
 *   their signal is aborted and each is put back in the queue (delayed to now, the attempt not
 *   counted), so another worker runs it. A worker that dies without closing leaves its jobs
 *   locked; once the lock expires (`stalledIntervalMs`, JOBS_STALLED_INTERVAL_MS, 30 s by default)
 *   BullMQ's stalled-job check, run by every live worker as often, puts them back in the queue
 *   for another worker (not counted as an attempt; a job stalled twice fails).
 * - `once` enqueues are one atomic add: BullMQ ignores an id it still holds in any state, so
 *   processes enqueueing the same recurring slot at once start one run.
 * - A process started with `work: false` (`labelvault serve`) only enqueues and reads status.
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisConfig } from '../config/connections.js';
import { openRedis, type Redis } from '../redis/redis.js';
import {
  PermanentJobError,
  RunnerClosedError,
  type AttemptObserver,
  type Backoff,
  type JobContext,
  type JobCounts,
  type JobHandler,
  type JobInfo,
  type JobOptions,
  type JobRunner,
  type JobState,
} from './job-runner.js';

/** Options of {@link BullMqJobRunner}. */
export interface BullMqOptions {
  redis: RedisConfig;
  /** Key prefix (REDIS_KEY_PREFIX); tests use a unique one. */
  prefix: string;
  /** Queue name under the prefix (default `jobs`). */
  queueName?: string;
  /** True: this process runs jobs (worker, embedded). False: it only enqueues (`serve`). */
  work: boolean;
  /** Jobs this process runs at once (default 2). */
  concurrency?: number;
  /** Lock duration of a running job and period of the stalled-job check (default 30 s, BullMQ's). */
  stalledIntervalMs?: number;
  /** Default tries per job, the first included (default 3). */
  attempts?: number;
  /** Default wait between tries (default exponential from 500 ms). */
  backoff?: Backoff;
  /** Finished jobs kept in Redis for `status` (default 1000 completed and 1000 failed, at most 7 days). */
  keepFinished?: number;
  /** Told of every failed attempt and of errors of `onFailed` hooks and connections. */
  onError?: (error: unknown, job: JobInfo | null) => void;
  /** Told how each attempt run here ended and how long it took (metrics). */
  observe?: AttemptObserver;
}

const WEEK_S = 7 * 86_400;
/** A job whose handler this process lacks (another version registered it) is retried this much later. */
const UNKNOWN_NAME_DELAY_MS = 5_000;

const FINISHED = new Set<JobState>(['completed', 'failed', 'cancelled']);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function clamp(fraction: number): number {
  return Math.min(Math.max(Number.isFinite(fraction) ? fraction : 0, 0), 1);
}

/** Copies a payload through JSON (what BullMQ stores); refuses what JSON cannot carry. */
function jsonCopy<P>(payload: P): P {
  const text = JSON.stringify(payload);
  if (text === undefined) throw new TypeError('A job payload must be JSON');
  return JSON.parse(text) as P;
}

/** Runs jobs through BullMQ on Redis; see the module comment for the mapping. */
export class BullMqJobRunner implements JobRunner {
  readonly survivesRestart = true;
  private readonly handlers = new Map<string, JobHandler<unknown>>();
  private readonly running = new Map<string, AbortController>();
  private readonly connections: Redis[] = [];
  private readonly queue: Queue;
  private readonly queueName: string;
  private readonly prefix: string;
  private readonly attempts: number;
  private readonly backoff: Backoff;
  private readonly keep: number;
  private readonly onError: (error: unknown, job: JobInfo | null) => void;
  private readonly observe: AttemptObserver;
  private worker: Worker | undefined;
  private subscriber: Redis | undefined;
  private starting = false;
  private closed = false;

  constructor(private readonly opts: BullMqOptions) {
    this.prefix = opts.prefix;
    this.queueName = opts.queueName ?? 'jobs';
    this.attempts = opts.attempts ?? 3;
    this.backoff = opts.backoff ?? { type: 'exponential', delayMs: 500 };
    this.keep = opts.keepFinished ?? 1000;
    this.onError = opts.onError ?? ((error) => process.emitWarning(`job queue: ${messageOf(error)}`));
    this.observe = opts.observe ?? (() => undefined);
    // Enqueueing fails after one reconnection attempt while Redis is away (an error, not a hang).
    this.queue = new Queue(this.queueName, { connection: this.connect({ maxRetriesPerRequest: 1 }), prefix: this.prefix });
    this.queue.on('error', (err) => this.onError(err, null));
  }

  register<P>(name: string, handler: JobHandler<P>): void {
    if (this.handlers.has(name)) throw new Error(`A handler for job ${name} is already registered`);
    this.handlers.set(name, handler as JobHandler<unknown>);
    // The worker starts once the registrations made in the same tick are in (see process()).
    if (this.opts.work && !this.starting) {
      this.starting = true;
      setImmediate(() => this.startWorker());
    }
  }

  async enqueue<P>(name: string, payload: P, opts: JobOptions = {}): Promise<JobInfo> {
    if (this.closed) throw new Error('The job runner is closed');
    if (!this.handlers.has(name)) throw new Error(`No handler is registered for job ${name}`);
    const maxAttempts = opts.attempts ?? this.attempts;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('attempts must be a positive integer');
    const data = jsonCopy(payload);
    const id = opts.jobId ?? randomUUID();
    if (opts.jobId !== undefined && opts.once === true) {
      if (await this.client().exists(this.cancelledKey(id))) return (await this.status(id))!;
    } else if (opts.jobId !== undefined) {
      const existing = await this.status(id);
      if (existing && !FINISHED.has(existing.state)) return existing;
      if (existing) await this.forget(id);
    }
    const backoff = opts.backoff ?? this.backoff;
    const job = await this.queue.add(name, data, {
      jobId: id,
      attempts: maxAttempts,
      backoff: { type: backoff.type, delay: backoff.delayMs },
      removeOnComplete: { count: this.keep, age: WEEK_S },
      removeOnFail: { count: this.keep, age: WEEK_S },
    });
    // A `once` add of an id Redis still holds changed nothing: report that job as it is.
    if (opts.once === true) {
      const held = await this.status(id);
      if (held) return held;
    }
    return { id: job.id ?? id, name, state: 'waiting', progress: 0, attemptsMade: 0, maxAttempts, error: null, enqueuedAt: new Date(job.timestamp).toISOString(), finishedAt: null };
  }

  async status(id: string): Promise<JobInfo | null> {
    const cancelled = await this.client().get(this.cancelledKey(id));
    if (cancelled !== null) return JSON.parse(cancelled) as JobInfo;
    // State first, then the job's fields: a job seen finished is read with its final fields.
    const state = await this.queue.getJobState(id);
    if (state === 'unknown') return null;
    const job = await this.queue.getJob(id);
    return job ? this.infoOf(job, state) : null;
  }

  async cancel(id: string): Promise<boolean> {
    const job = await this.queue.getJob(id);
    if (!job || (await this.client().exists(this.cancelledKey(id)))) return false;
    const info = await this.infoOf(job);
    if (info === null || FINISHED.has(info.state)) return false;
    if (info.state !== 'active') {
      try {
        await job.remove();
        await this.rememberCancelled(info);
        return true;
      } catch {
        // Taken by a worker meanwhile (locked): cancel it as an active job.
      }
    }
    await this.client().publish(this.cancelChannel(), id);
    return true;
  }

  async counts(): Promise<JobCounts> {
    const c = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), delayed: c.delayed ?? 0, active: c.active ?? 0 };
  }

  async close(opts: { abortAfterMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.connections.every((c) => c.status === 'ready')) return this.closeUnreachable();
    const timer = opts.abortAfterMs === undefined ? undefined : setTimeout(() => this.abortRunning(), opts.abortAfterMs);
    try {
      await this.worker?.close();
    } finally {
      clearTimeout(timer);
    }
    await this.queue.close();
    for (const c of [...this.connections, ...(this.subscriber ? [this.subscriber] : [])]) await c.quit().catch(() => c.disconnect());
  }

  /**
   * Closing while Redis is unreachable: BullMQ's close would wait for a connection that may never
   * come. Jobs running here are aborted (their locks expire and another worker takes them), the
   * connections dropped, and BullMQ's own close given a second at most.
   */
  private async closeUnreachable(): Promise<void> {
    this.abortRunning();
    for (const c of [...this.connections, ...(this.subscriber ? [this.subscriber] : [])]) c.disconnect();
    let timer: NodeJS.Timeout | undefined;
    const second = new Promise<void>((resolve) => (timer = setTimeout(resolve, 1_000)));
    await Promise.race([Promise.allSettled([this.worker?.close(true), this.queue.close()]), second]);
    clearTimeout(timer);
  }

  /** Removes the queue's jobs and keys (tests clean up their unique prefix with it). */
  async obliterate(): Promise<void> {
    await this.queue.obliterate({ force: true });
    const client = this.client();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${this.prefix}:${this.queueName}:*`, 'COUNT', 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  private connect(overrides: Parameters<typeof openRedis>[1]): Redis {
    const c = openRedis(this.opts.redis, overrides);
    c.on('error', (err) => this.onError(err, null));
    this.connections.push(c);
    return c;
  }

  /** A plain command connection (the queue's). */
  private client(): Redis {
    return this.connections[0]!;
  }

  private cancelledKey(id: string): string {
    return `${this.prefix}:${this.queueName}:lv-cancelled:${id}`;
  }

  private cancelChannel(): string {
    return `${this.prefix}:${this.queueName}:lv-cancel`;
  }

  private async rememberCancelled(info: JobInfo): Promise<void> {
    const done: JobInfo = { ...info, state: 'cancelled', finishedAt: new Date().toISOString() };
    await this.client().set(this.cancelledKey(info.id), JSON.stringify(done), 'EX', WEEK_S);
  }

  /** Drops a finished job (and its cancelled record) so its id can be queued again. */
  private async forget(id: string): Promise<void> {
    await this.client().del(this.cancelledKey(id));
    await (await this.queue.getJob(id))?.remove().catch(() => undefined);
  }

  private async infoOf(job: Job, known?: string): Promise<JobInfo | null> {
    const raw = known ?? (await job.getState());
    if (raw === 'unknown') return null;
    const state: JobState = raw === 'prioritized' || raw === 'waiting-children' ? 'waiting' : (raw as JobState);
    const progress = state === 'completed' ? 1 : typeof job.progress === 'number' ? clamp(job.progress) : 0;
    return {
      id: job.id!,
      name: job.name,
      state,
      progress,
      attemptsMade: state === 'active' ? job.attemptsMade + 1 : job.attemptsMade,
      maxAttempts: job.opts.attempts ?? 1,
      error: job.failedReason ? job.failedReason : null,
      enqueuedAt: new Date(job.timestamp).toISOString(),
      finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    };
  }

  private startWorker(): void {
    if (this.closed) return;
    const connection = this.connect({ maxRetriesPerRequest: null });
    const stalled = this.opts.stalledIntervalMs ?? 30_000;
    this.worker = new Worker(this.queueName, (job, token) => this.process(job, token), {
      connection,
      prefix: this.prefix,
      concurrency: this.opts.concurrency ?? 2,
      lockDuration: stalled,
      stalledInterval: stalled,
    });
    this.worker.on('error', (err) => this.onError(err, null));
    const subscriber = openRedis(this.opts.redis, { maxRetriesPerRequest: null });
    subscriber.on('error', (err) => this.onError(err, null));
    subscriber.on('message', (_channel: string, id: string) => this.running.get(id)?.abort(new Error('The job was cancelled.')));
    void subscriber.subscribe(this.cancelChannel()).catch((err: unknown) => this.onError(err, null));
    this.subscriber = subscriber;
  }

  private abortRunning(): void {
    for (const controller of this.running.values()) controller.abort(new RunnerClosedError());
  }

  /** One attempt of a job, in the worker. */
  private async process(job: Job, token: string | undefined): Promise<void> {
    const handler = this.handlers.get(job.name);
    if (!handler) {
      await job.moveToDelayed(Date.now() + UNKNOWN_NAME_DELAY_MS, token);
      throw new DelayedError();
    }
    const controller = new AbortController();
    const id = job.id!;
    this.running.set(id, controller);
    const ctx: JobContext<unknown> = {
      id,
      name: job.name,
      payload: job.data,
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
      signal: controller.signal,
      reportProgress: (fraction) => job.updateProgress(clamp(fraction)),
    };
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      await handler.run(ctx);
      this.observe(job.name, 'completed', seconds());
    } catch (error) {
      await this.afterFailure(job, token, ctx, handler, controller.signal, error, seconds());
    } finally {
      this.running.delete(id);
    }
  }

  /** Decides what a failed attempt becomes: re-queued, cancelled, retried or failed for good. Always throws. */
  private async afterFailure(job: Job, token: string | undefined, ctx: JobContext<unknown>, handler: JobHandler<unknown>, signal: AbortSignal, error: unknown, seconds: number): Promise<never> {
    if (signal.aborted && signal.reason instanceof RunnerClosedError) {
      this.observe(job.name, 'requeued', seconds);
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    const info = (await this.infoOf(job)) ?? undefined;
    if (signal.aborted) {
      this.observe(job.name, 'cancelled', seconds);
      if (info) await this.rememberCancelled({ ...info, error: messageOf(error) });
      throw new UnrecoverableError(messageOf(error));
    }
    this.onError(error, info ?? null);
    const lastTry = error instanceof PermanentJobError || ctx.attempt >= ctx.maxAttempts;
    this.observe(job.name, lastTry ? 'failed' : 'retried', seconds);
    if (!lastTry) throw error instanceof Error ? error : new Error(messageOf(error));
    try {
      await handler.onFailed?.(ctx, error);
    } catch (hookError) {
      this.onError(hookError, info ?? null);
    }
    throw new UnrecoverableError(messageOf(error));
  }
}
