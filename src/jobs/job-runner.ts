/**
 * THE job interface: background work (export snapshots, later syncs and conversions) is
 * enqueued by name with a JSON payload, run by a handler registered under that name, retried
 * with backoff, reported (state, progress) and cancellable. Callers see only this interface, so
 * the in-process driver can be swapped for a Redis-backed one (BullMQ) without touching them.
 *
 * Contract every driver keeps:
 * - Payloads are plain JSON (they are copied on enqueue, as a queue in Redis would store them).
 * - A job may run more than once (retries, a redelivery after a crash): handlers must be
 *   idempotent, e.g. rewrite their output from scratch and check the row they work on.
 * - `jobId` deduplicates: enqueueing an id that is still waiting, delayed or active returns it
 *   (with `once`, also an id that finished and is still remembered).
 * - Progress is a fraction from 0 to 1.
 */

/** Where a job is, named after BullMQ's states so a Redis driver maps them one to one. */
export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'cancelled';

/** How long to wait before retry n (1-based): `delayMs` each time, or `delayMs × 2^(n−1)`. */
export interface Backoff {
  type: 'fixed' | 'exponential';
  delayMs: number;
}

/** Options of one enqueue. */
export interface JobOptions {
  /** Deduplication key; generated when absent. */
  jobId?: string;
  /**
   * With `jobId`: true queues the id only if the runner holds no job of that id in any state,
   * finished ones included (by default a finished id runs again). Recurring runs use one id
   * per interval slot, so however many processes enqueue a slot, it runs once.
   */
  once?: boolean;
  /** Tries in all, the first included (driver default when absent). */
  attempts?: number;
  backoff?: Backoff;
}

/** What the runner knows of a job: a copy, safe to keep or serialise. */
export interface JobInfo {
  id: string;
  name: string;
  state: JobState;
  /** 0…1, as last reported by the handler. */
  progress: number;
  attemptsMade: number;
  maxAttempts: number;
  /** Message of the last failed attempt (server side only: may hold driver text). */
  error: string | null;
  enqueuedAt: string;
  finishedAt: string | null;
}

/** What a handler gets for one attempt. */
export interface JobContext<P> {
  id: string;
  name: string;
  payload: P;
  /** 1 for the first try; 0 when a job is failed before it ever ran (runner shut down). */
  attempt: number;
  maxAttempts: number;
  /** Aborted when the job is cancelled or the runner shuts down: stop soon and throw. */
  signal: AbortSignal;
  /** Records progress (clamped to 0…1). */
  reportProgress(fraction: number): Promise<void>;
}

/** The code run for jobs of one name. */
export interface JobHandler<P> {
  /** One attempt. Throwing fails the attempt; it is retried unless attempts are used up. */
  run(job: JobContext<P>): Promise<void>;
  /**
   * Called once when the job fails for good: attempts used up, a {@link PermanentJobError}, or
   * the runner shut down before the job could finish. Not called on cancellation.
   */
  onFailed?(job: JobContext<P>, error: unknown): Promise<void>;
}

/** How many jobs the runner holds in each unfinished state (queue depth, for metrics). */
export type JobCounts = Record<'waiting' | 'delayed' | 'active', number>;

/** How one attempt ended: done, failed for good, failed and retried later, cancelled, or handed back to the queue (shutdown). */
export type AttemptOutcome = 'completed' | 'failed' | 'retried' | 'cancelled' | 'requeued';

/** Told of every attempt that ends in this process (metrics: job durations); must not throw. */
export type AttemptObserver = (name: string, outcome: AttemptOutcome, seconds: number) => void;

/** The one interface callers use; see the module comment for the contract. */
export interface JobRunner {
  /** False when queued and running jobs are lost on restart (see recoverInterruptedJobs). */
  readonly survivesRestart: boolean;
  /** Registers the handler of a job name (once per name, before enqueueing it). */
  register<P>(name: string, handler: JobHandler<P>): void;
  /** Queues a job; returns its state right after queueing (or the existing job with that id). */
  enqueue<P>(name: string, payload: P, opts?: JobOptions): Promise<JobInfo>;
  /** The job's current state, or null when unknown (never enqueued, or forgotten). */
  status(id: string): Promise<JobInfo | null>;
  /**
   * Cancels a waiting or delayed job at once, and aborts an active one's signal (it ends
   * `cancelled` when its handler then throws). False when the job is unknown or finished.
   */
  cancel(id: string): Promise<boolean>;
  /** Jobs waiting, delayed and active (in the whole queue, for a shared one). */
  counts(): Promise<JobCounts>;
  /**
   * Stops taking jobs and waits for the active ones to finish. With `abortAfterMs`, active jobs
   * still running after that long have their signal aborted: a driver that survives restarts
   * puts them back in the queue (another worker runs them); the in-process one fails them for good.
   */
  close(opts?: { abortAfterMs?: number }): Promise<void>;
}

/** Thrown by a handler when retrying cannot help (bad payload, missing project): fails the job at once. */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

/** The abort reason of jobs stopped because the runner is shutting down. */
export class RunnerClosedError extends Error {
  constructor() {
    super('The server shut down before the job finished.');
    this.name = 'RunnerClosedError';
  }
}
