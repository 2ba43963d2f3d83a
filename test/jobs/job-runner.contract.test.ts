/**
 * THE job runner contract (src/jobs/job-runner.ts), run against both drivers: the in-process
 * runner and the BullMQ runner on this machine's Redis (127.0.0.1:6379). Each BullMQ test uses
 * its own key prefix (unique per run and test) and removes its keys afterwards.
 *
 * Where the drivers differ by design (what a shutdown does to a job still running), the test
 * branches on `survivesRestart`, and both branches assert the job is not silently lost.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { BullMqJobRunner } from '../../src/jobs/bullmq-runner.js';
import { recurringJobId, startRecurringJobs } from '../../src/jobs/job-definitions.js';
import { InProcessJobRunner } from '../../src/jobs/in-process-runner.js';
import { PermanentJobError, type JobContext, type JobInfo, type JobRunner, type JobState } from '../../src/jobs/job-runner.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN = randomBytes(4).toString('hex');
const quiet = () => undefined;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Driver {
  name: string;
  /** A runner that runs jobs (all runners of one test share one queue). */
  make(): JobRunner;
  /** A runner for reading status after `runner` closed: itself in-process, a non-working one on Redis. */
  reader(runner: JobRunner): JobRunner;
  cleanup(): Promise<void>;
}

/** The drivers, each made fresh per test. */
function drivers(): { name: string; create: (testNo: number) => Driver }[] {
  const backoff = { type: 'fixed' as const, delayMs: 60 };
  return [
    {
      name: 'in-process',
      create: () => {
        const made: JobRunner[] = [];
        return {
          name: 'in-process',
          make: () => {
            const r = new InProcessJobRunner({ concurrency: 2, backoff, onError: quiet });
            made.push(r);
            return r;
          },
          reader: (runner) => runner,
          cleanup: async () => {
            for (const r of made) await r.close();
          },
        };
      },
    },
    {
      name: 'bullmq',
      create: (testNo) => {
        const redis = loadConfig({ REDIS_URL }).redis!;
        const prefix = `lvtest-${RUN}-${testNo}`;
        const made: BullMqJobRunner[] = [];
        const make = (work: boolean) => {
          const r = new BullMqJobRunner({ redis, prefix, work, concurrency: 2, backoff, onError: quiet });
          made.push(r);
          return r;
        };
        return {
          name: 'bullmq',
          make: () => make(true),
          reader: () => make(false),
          cleanup: async () => {
            const sweeper = new BullMqJobRunner({ redis, prefix, work: false });
            await sweeper.obliterate();
            await sweeper.close();
            for (const r of made) await r.close();
          },
        };
      },
    },
  ];
}

/** Polls a job's status until `want` holds (10 s at most). */
async function until(runner: JobRunner, id: string, want: (j: JobInfo | null) => boolean, what: string): Promise<JobInfo> {
  const deadline = Date.now() + 10_000;
  let last: JobInfo | null = null;
  while (Date.now() < deadline) {
    last = await runner.status(id);
    if (want(last)) return last!;
    await sleep(15);
  }
  throw new Error(`job ${id} never became ${what}; last: ${JSON.stringify(last)}`);
}
const inState = (state: JobState) => (j: JobInfo | null) => j?.state === state;

/** A promise with its resolver, to hold a handler until the test lets it go. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** Rejects once the signal aborts, as a well-behaved handler does. */
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));

let testNo = 0;

describe.each(drivers())('job runner contract: $name', ({ create }) => {
  let d: Driver;
  beforeEach(() => {
    testNo += 1;
    d = create(testNo);
  });
  afterEach(async () => {
    await d.cleanup();
  });

  it('enqueues and runs a job once with a copy of its payload; an id still queued or running is not queued twice', async () => {
    const runner = d.make();
    const seen: unknown[] = [];
    const hold = gate();
    runner.register<{ list: number[] }>('copy', {
      run: async (job) => {
        seen.push(job.payload);
        await hold.opened;
      },
    });
    const payload = { list: [1, 2] };
    const queued = await runner.enqueue('copy', payload, { jobId: 'copy-1' });
    payload.list.push(3);
    expect(queued).toMatchObject({ id: 'copy-1', name: 'copy', state: 'waiting', progress: 0, attemptsMade: 0, maxAttempts: 3, error: null, finishedAt: null });
    await until(runner, 'copy-1', inState('active'), 'active');
    const again = await runner.enqueue('copy', { list: [9] }, { jobId: 'copy-1' });
    expect(again).toMatchObject({ id: 'copy-1', state: 'active' });
    hold.open();
    const done = await until(runner, 'copy-1', inState('completed'), 'completed');
    expect(done).toMatchObject({ progress: 1, attemptsMade: 1, error: null });
    expect(done.finishedAt).not.toBeNull();
    expect(seen).toEqual([{ list: [1, 2] }]);
    // Refused: unknown names, payloads JSON cannot carry, nonsense attempts; an unknown id has no status.
    await expect(runner.enqueue('unknown', {})).rejects.toThrow(/No handler/);
    await expect(runner.enqueue('copy', undefined)).rejects.toThrow(/JSON/);
    await expect(runner.enqueue('copy', {}, { attempts: 0 })).rejects.toThrow(/attempts/);
    expect(await runner.status('never-enqueued')).toBeNull();
    expect(() => runner.register('copy', { run: async () => undefined })).toThrow(/already/);
  });

  it('with `once`, an id already run is not queued again, finished or not', async () => {
    const runner = d.make();
    const runs: string[] = [];
    runner.register('slot', { run: async (job) => void runs.push(job.id) });
    await runner.enqueue('slot', {}, { jobId: 'slot-1', once: true });
    await until(runner, 'slot-1', inState('completed'), 'completed');
    const again = await runner.enqueue('slot', {}, { jobId: 'slot-1', once: true });
    expect(again).toMatchObject({ id: 'slot-1', state: 'completed', attemptsMade: 1 });
    await Promise.all([1, 2, 3].map(() => runner.enqueue('slot', {}, { jobId: 'slot-2', once: true })));
    await until(runner, 'slot-2', inState('completed'), 'completed');
    await sleep(100);
    expect(runs).toEqual(['slot-1', 'slot-2']);
  });

  it('reports progress while a job runs, and the queue depth', async () => {
    const runner = d.make();
    const hold = gate();
    runner.register('slow', {
      run: async (job) => {
        await job.reportProgress(0.5);
        await hold.opened;
        await job.reportProgress(7);
      },
    });
    const ids = ['p1', 'p2', 'p3'];
    for (const id of ids) await runner.enqueue('slow', {}, { jobId: id });
    const active = await until(runner, 'p1', (j) => j?.state === 'active' && j.progress === 0.5, 'active at 0.5');
    expect(active.attemptsMade).toBe(1);
    const deadline = Date.now() + 10_000;
    let counts = await runner.counts();
    while (counts.active < 2 && Date.now() < deadline) {
      await sleep(15);
      counts = await runner.counts();
    }
    expect(counts).toEqual({ waiting: 1, delayed: 0, active: 2 });
    hold.open();
    for (const id of ids) expect(await until(runner, id, inState('completed'), 'completed')).toMatchObject({ progress: 1 });
    expect(await runner.counts()).toEqual({ waiting: 0, delayed: 0, active: 0 });
  });

  it('retries a failing job with backoff until it succeeds', async () => {
    const runner = d.make();
    const tries: { attempt: number; at: number }[] = [];
    runner.register('flaky', {
      run: async (job) => {
        tries.push({ attempt: job.attempt, at: Date.now() });
        if (job.attempt < 3) throw new Error(`try ${job.attempt} failed`);
      },
    });
    await runner.enqueue('flaky', {}, { jobId: 'flaky-1', attempts: 3, backoff: { type: 'fixed', delayMs: 150 } });
    const done = await until(runner, 'flaky-1', inState('completed'), 'completed');
    expect(done).toMatchObject({ attemptsMade: 3, maxAttempts: 3 });
    expect(tries.map((t) => t.attempt)).toEqual([1, 2, 3]);
    for (let i = 1; i < tries.length; i += 1) expect(tries[i]!.at - tries[i - 1]!.at).toBeGreaterThanOrEqual(140);
  });

  it('fails a job for good after its last try or a permanent error, visibly, calling onFailed once', async () => {
    const runner = d.make();
    const failed: { id: string; attempt: number; message: string }[] = [];
    const onFailed = async (job: JobContext<unknown>, error: unknown) => {
      failed.push({ id: job.id, attempt: job.attempt, message: (error as Error).message });
    };
    let permanentRuns = 0;
    runner.register('broken', { run: async () => Promise.reject(new Error('boom')), onFailed });
    runner.register('hopeless', {
      run: async () => {
        permanentRuns += 1;
        throw new PermanentJobError('the project is gone');
      },
      onFailed,
    });
    await runner.enqueue('broken', {}, { jobId: 'broken-1', attempts: 2 });
    await runner.enqueue('hopeless', {}, { jobId: 'hopeless-1', attempts: 5 });
    expect(await until(runner, 'broken-1', inState('failed'), 'failed')).toMatchObject({ attemptsMade: 2, maxAttempts: 2, error: 'boom' });
    const hopeless = await until(runner, 'hopeless-1', inState('failed'), 'failed');
    expect(hopeless).toMatchObject({ attemptsMade: 1, error: 'the project is gone' });
    expect(hopeless.finishedAt).not.toBeNull();
    expect(permanentRuns).toBe(1);
    expect(failed.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'broken-1', attempt: 2, message: 'boom' },
      { id: 'hopeless-1', attempt: 1, message: 'the project is gone' },
    ]);
  });

  it('is idempotent: a retried attempt and a second run of the same job give the same result', async () => {
    const runner = d.make();
    const output = new Map<string, number[]>();
    let firstEver = true;
    runner.register<{ n: number }>('squares', {
      run: async (job) => {
        // The handler rewrites its output from scratch; a crash half-way leaves partial output.
        const out: number[] = [];
        output.set(job.id, out);
        for (let i = 1; i <= job.payload.n; i += 1) {
          out.push(i * i);
          if (firstEver && i === 2) {
            firstEver = false;
            throw new Error('crashed half-way');
          }
        }
      },
    });
    await runner.enqueue('squares', { n: 4 }, { jobId: 'sq' });
    expect(await until(runner, 'sq', inState('completed'), 'completed')).toMatchObject({ attemptsMade: 2 });
    const first = [...output.get('sq')!];
    // Enqueued again once finished, the same id runs again (a redelivery) to the same result.
    const requeued = await runner.enqueue('squares', { n: 4 }, { jobId: 'sq' });
    expect(requeued.state).toBe('waiting');
    expect(await until(runner, 'sq', (j) => j?.state === 'completed' && j.attemptsMade === 1, 'completed again')).toBeTruthy();
    expect(output.get('sq')).toEqual(first);
    expect(first).toEqual([1, 4, 9, 16]);
  });

  it('cancels a waiting job before it runs and aborts a running one; a finished job cannot be cancelled', async () => {
    const runner = d.make();
    const ran: string[] = [];
    const failedHook: string[] = [];
    const hold = gate();
    runner.register('blocker', { run: async () => hold.opened });
    runner.register('abortable', {
      run: async (job) => {
        ran.push(job.id);
        await untilAborted(job.signal);
      },
      onFailed: async (job) => void failedHook.push(job.id),
    });
    // Two blockers fill both slots, so `queued` waits.
    await runner.enqueue('blocker', {}, { jobId: 'b1' });
    await runner.enqueue('blocker', {}, { jobId: 'b2' });
    await until(runner, 'b2', inState('active'), 'active');
    await runner.enqueue('abortable', {}, { jobId: 'queued' });
    expect(await runner.cancel('queued')).toBe(true);
    expect(await runner.status('queued')).toMatchObject({ state: 'cancelled' });
    hold.open();
    await until(runner, 'b2', inState('completed'), 'completed');
    await runner.enqueue('abortable', {}, { jobId: 'running' });
    await until(runner, 'running', inState('active'), 'active');
    expect(await runner.cancel('running')).toBe(true);
    expect(await until(runner, 'running', inState('cancelled'), 'cancelled')).toMatchObject({ state: 'cancelled' });
    expect(ran).toEqual(['running']);
    expect(failedHook).toEqual([]);
    expect(await runner.cancel('b1')).toBe(false);
    expect(await runner.cancel('nope')).toBe(false);
  });

  it('stops gracefully: close() lets a running job finish', async () => {
    const runner = d.make();
    let finished = false;
    runner.register('short', {
      run: async () => {
        await sleep(300);
        finished = true;
      },
    });
    await runner.enqueue('short', {}, { jobId: 'short-1' });
    await until(runner, 'short-1', inState('active'), 'active');
    await runner.close({ abortAfterMs: 5_000 });
    expect(finished).toBe(true);
    expect(await d.reader(runner).status('short-1')).toMatchObject({ state: 'completed' });
  });

  it('stops gracefully: a job still running past the grace period is re-queued (Redis) or failed visibly (in-process), never lost', async () => {
    const runner = d.make();
    const runs: number[] = [];
    const failedHook: string[] = [];
    const handler = {
      run: async (job: JobContext<unknown>) => {
        runs.push(job.attempt);
        if (runs.length === 1) await untilAborted(job.signal);
      },
      onFailed: async (job: JobContext<unknown>) => void failedHook.push(job.id),
    };
    runner.register('long', handler);
    await runner.enqueue('long', {}, { jobId: 'long-1' });
    await until(runner, 'long-1', inState('active'), 'active');
    await runner.close({ abortAfterMs: 50 });
    if (runner.survivesRestart) {
      // Another worker takes it over; the interrupted attempt does not count as a failure.
      const next = d.make();
      next.register('long', handler);
      expect(await until(next, 'long-1', inState('completed'), 'completed')).toMatchObject({ state: 'completed' });
      expect(runs).toEqual([1, 1]);
      expect(failedHook).toEqual([]);
    } else {
      expect(await runner.status('long-1')).toMatchObject({ state: 'failed', error: expect.stringMatching(/shut down/) });
      expect(failedHook).toEqual(['long-1']);
    }
    await expect(runner.enqueue('long', {})).rejects.toThrow(/closed/);
  });
});

describe('recurring jobs on Redis', () => {
  it('two processes starting the timers run each interval slot once', async () => {
    const redis = loadConfig({ REDIS_URL }).redis!;
    const prefix = `lvtest-${RUN}-recurring`;
    const intervalMs = 400;
    const runs: string[] = [];
    const runners = [0, 1].map(() => new BullMqJobRunner({ redis, prefix, work: true, onError: quiet }));
    for (const r of runners) r.register('tick', { run: async (job) => void runs.push(job.id) });
    const definitions = [{ name: 'tick', handler: () => ({ run: async () => undefined }), every: { intervalMs, firstAfterMs: 0 } }];
    const started = Date.now();
    const stopFirst = startRecurringJobs(runners[0]!, quiet, definitions);
    await sleep(150); // the second process starts later: its own timers would be out of phase
    const stopSecond = startRecurringJobs(runners[1]!, quiet, definitions);
    await sleep(2_500);
    stopFirst();
    stopSecond();
    const ended = Date.now();
    await sleep(300);
    try {
      // One run per slot, each under its slot's id, every slot between start and end covered.
      expect(new Set(runs).size).toBe(runs.length);
      const slots = runs.map((id) => Number(id.split('-').pop())).sort((a, b) => a - b);
      const first = Number(recurringJobId('tick', intervalMs, started).split('-').pop());
      expect(slots[0]).toBe(first);
      expect(slots).toEqual(Array.from({ length: slots.length }, (_, i) => first + i));
      expect(slots.length).toBeGreaterThanOrEqual(Math.floor((ended - started) / intervalMs) - 1);
      expect(slots.length).toBeLessThanOrEqual(Math.ceil((ended - started) / intervalMs) + 1);
    } finally {
      const sweeper = new BullMqJobRunner({ redis, prefix, work: false });
      await sweeper.obliterate();
      await sweeper.close();
      for (const r of runners) await r.close();
    }
  }, 20_000);
});
