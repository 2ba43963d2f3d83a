/**
 * The in-process job driver: jobs run inside the server process, first in first out, one or two
 * at a time, sharing the event loop with HTTP requests (so handlers must yield, e.g. stream).
 *
 * Nothing survives a restart: waiting, delayed and active jobs are lost when the process stops.
 * A graceful shutdown (`close`) fails the jobs it drops through their `onFailed` hook; after a
 * crash, the start-up recovery of each job definition (`recoverInterruptedJobs`) marks what was
 * left half-done as failed, e.g. an export snapshot left `in_progress`. Use it with one server
 * process per database; several processes need a shared queue (the Redis driver).
 */
import { randomUUID } from 'node:crypto';
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
} from './job-runner.js';

/** Options of {@link InProcessJobRunner}. */
export interface InProcessOptions {
  /** Jobs run at once: 1 or 2 (default 1). More would starve HTTP requests of the event loop. */
  concurrency?: number;
  /** Default tries per job, the first included (default 3). */
  attempts?: number;
  /** Default wait between tries (default exponential from 500 ms). */
  backoff?: Backoff;
  /** Finished jobs remembered for `status` (default 1000, oldest forgotten first). */
  keepFinished?: number;
  /** Told of every failed attempt and of errors thrown by `onFailed` hooks (default: a process warning). */
  onError?: (error: unknown, job: JobInfo) => void;
  /** Told how each attempt ended and how long it took (metrics). */
  observe?: AttemptObserver;
}

interface Entry {
  info: JobInfo;
  payload: unknown;
  backoff: Backoff;
  controller: AbortController;
  timer?: NodeJS.Timeout;
}

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

function warn(error: unknown, job: JobInfo): void {
  process.emitWarning(`job ${job.name} ${job.id} attempt ${job.attemptsMade}: ${error instanceof Error ? error.message : String(error)}`);
}

/** Copies a payload through JSON, as a queue in Redis would; refuses what JSON cannot carry. */
function jsonCopy<P>(payload: P): P {
  const text = JSON.stringify(payload);
  if (text === undefined) throw new TypeError('A job payload must be JSON');
  return JSON.parse(text) as P;
}

/** Wait before the retry that follows attempt `attemptsMade`. */
export function backoffDelay(backoff: Backoff, attemptsMade: number): number {
  return backoff.type === 'fixed' ? backoff.delayMs : backoff.delayMs * 2 ** Math.max(attemptsMade - 1, 0);
}

/** Runs jobs in this process; see the module comment for what it does not survive. */
export class InProcessJobRunner implements JobRunner {
  readonly survivesRestart = false;
  private readonly handlers = new Map<string, JobHandler<unknown>>();
  private readonly jobs = new Map<string, Entry>();
  private readonly ready: Entry[] = [];
  private readonly active = new Map<Entry, Promise<void>>();
  private readonly finishedOrder: string[] = [];
  private readonly concurrency: number;
  private readonly attempts: number;
  private readonly backoff: Backoff;
  private readonly keepFinished: number;
  private readonly onError: (error: unknown, job: JobInfo) => void;
  private readonly observe: AttemptObserver;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(opts: InProcessOptions = {}) {
    this.concurrency = opts.concurrency ?? 1;
    if (![1, 2].includes(this.concurrency)) throw new RangeError('In-process job concurrency must be 1 or 2');
    this.attempts = opts.attempts ?? 3;
    this.backoff = opts.backoff ?? { type: 'exponential', delayMs: 500 };
    this.keepFinished = opts.keepFinished ?? 1000;
    this.onError = opts.onError ?? warn;
    this.observe = opts.observe ?? (() => undefined);
  }

  register<P>(name: string, handler: JobHandler<P>): void {
    if (this.handlers.has(name)) throw new Error(`A handler for job ${name} is already registered`);
    this.handlers.set(name, handler as JobHandler<unknown>);
  }

  async enqueue<P>(name: string, payload: P, opts: JobOptions = {}): Promise<JobInfo> {
    if (this.closed) throw new Error('The job runner is closed');
    if (!this.handlers.has(name)) throw new Error(`No handler is registered for job ${name}`);
    const existing = opts.jobId === undefined ? undefined : this.jobs.get(opts.jobId);
    if (existing && (opts.once === true || !FINISHED.has(existing.info.state))) return { ...existing.info };
    const maxAttempts = opts.attempts ?? this.attempts;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('attempts must be a positive integer');
    const id = opts.jobId ?? randomUUID();
    const entry: Entry = {
      info: { id, name, state: 'waiting', progress: 0, attemptsMade: 0, maxAttempts, error: null, enqueuedAt: new Date().toISOString(), finishedAt: null },
      payload: jsonCopy(payload),
      backoff: opts.backoff ?? this.backoff,
      controller: new AbortController(),
    };
    if (existing) this.forget(id);
    this.jobs.set(id, entry);
    this.ready.push(entry);
    queueMicrotask(() => this.pump());
    return { ...entry.info };
  }

  async status(id: string): Promise<JobInfo | null> {
    const entry = this.jobs.get(id);
    return entry ? { ...entry.info } : null;
  }

  async cancel(id: string): Promise<boolean> {
    const entry = this.jobs.get(id);
    if (!entry || FINISHED.has(entry.info.state)) return false;
    if (entry.info.state === 'active') {
      entry.controller.abort(new Error('The job was cancelled.'));
      return true;
    }
    this.unqueue(entry);
    this.finish(entry, 'cancelled');
    return true;
  }

  async counts(): Promise<JobCounts> {
    const counts: JobCounts = { waiting: 0, delayed: 0, active: 0 };
    for (const { info } of this.jobs.values()) if (info.state in counts) counts[info.state as keyof JobCounts] += 1;
    return counts;
  }

  async close(opts: { abortAfterMs?: number } = {}): Promise<void> {
    this.closed = true;
    const dropped = [...this.jobs.values()].filter((e) => e.info.state === 'waiting' || e.info.state === 'delayed');
    for (const entry of dropped) {
      this.unqueue(entry);
      await this.failForGood(entry, new RunnerClosedError());
    }
    const timer = opts.abortAfterMs === undefined ? undefined : setTimeout(() => this.abortActive(), opts.abortAfterMs);
    try {
      await Promise.all(this.active.values());
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves when no job is waiting, delayed or active (tests and scripts use it; not in the interface). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.active.size === 0 && [...this.jobs.values()].every((e) => FINISHED.has(e.info.state));
  }

  private pump(): void {
    while (!this.closed && this.active.size < this.concurrency && this.ready.length > 0) {
      const entry = this.ready.shift()!;
      const done = this.attempt(entry).finally(() => {
        this.active.delete(entry);
        this.pump();
      });
      this.active.set(entry, done);
    }
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private async attempt(entry: Entry): Promise<void> {
    const handler = this.handlers.get(entry.info.name)!;
    entry.info.state = 'active';
    entry.info.attemptsMade += 1;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      await handler.run(this.contextOf(entry));
      this.observe(entry.info.name, 'completed', seconds());
      this.finish(entry, 'completed');
    } catch (error) {
      entry.info.error = error instanceof Error ? error.message : String(error);
      const reason: unknown = entry.controller.signal.reason;
      if (entry.controller.signal.aborted && !(reason instanceof RunnerClosedError)) {
        this.observe(entry.info.name, 'cancelled', seconds());
        return this.finish(entry, 'cancelled');
      }
      this.onError(error, { ...entry.info });
      const lastTry = this.closed || error instanceof PermanentJobError || entry.info.attemptsMade >= entry.info.maxAttempts;
      this.observe(entry.info.name, lastTry ? 'failed' : 'retried', seconds());
      if (lastTry) await this.failForGood(entry, reason instanceof RunnerClosedError ? reason : error);
      else this.retryLater(entry);
    }
  }

  private retryLater(entry: Entry): void {
    entry.info.state = 'delayed';
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      entry.info.state = 'waiting';
      this.ready.push(entry);
      this.pump();
    }, backoffDelay(entry.backoff, entry.info.attemptsMade));
  }

  private async failForGood(entry: Entry, error: unknown): Promise<void> {
    entry.info.error = error instanceof Error ? error.message : String(error);
    const handler = this.handlers.get(entry.info.name);
    try {
      await handler?.onFailed?.(this.contextOf(entry), error);
    } catch (hookError) {
      this.onError(hookError, { ...entry.info });
    }
    this.finish(entry, 'failed');
  }

  private contextOf(entry: Entry): JobContext<unknown> {
    const { info } = entry;
    return {
      id: info.id,
      name: info.name,
      payload: entry.payload,
      attempt: info.attemptsMade,
      maxAttempts: info.maxAttempts,
      signal: entry.controller.signal,
      reportProgress: async (fraction) => {
        info.progress = Math.min(Math.max(Number.isFinite(fraction) ? fraction : 0, 0), 1);
      },
    };
  }

  private unqueue(entry: Entry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    const at = this.ready.indexOf(entry);
    if (at >= 0) this.ready.splice(at, 1);
  }

  private abortActive(): void {
    for (const entry of this.active.keys()) entry.controller.abort(new RunnerClosedError());
  }

  private finish(entry: Entry, state: 'completed' | 'failed' | 'cancelled'): void {
    entry.info.state = state;
    entry.info.finishedAt = new Date().toISOString();
    if (state === 'completed') entry.info.progress = 1;
    this.finishedOrder.push(entry.info.id);
    while (this.finishedOrder.length > this.keepFinished) this.forget(this.finishedOrder[0]!);
    queueMicrotask(() => this.pump());
  }

  private forget(id: string): void {
    const at = this.finishedOrder.indexOf(id);
    if (at >= 0) this.finishedOrder.splice(at, 1);
    this.jobs.delete(id);
  }
}
