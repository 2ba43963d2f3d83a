import { describe, expect, it } from 'vitest';
import { backoffDelay, InProcessJobRunner } from './in-process-runner.js';
import { PermanentJobError, RunnerClosedError, type JobContext } from './job-runner.js';

const quiet = { onError: () => undefined, backoff: { type: 'fixed' as const, delayMs: 5 } };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise with its resolver, to hold a handler until the test lets it go. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** Resolves once the signal aborts; rejects with its reason, as a well-behaved handler would. */
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));

describe('InProcessJobRunner', () => {
  it('runs jobs first in, first out, one at a time with concurrency 1', async () => {
    const runner = new InProcessJobRunner(quiet);
    const log: string[] = [];
    runner.register<{ n: number }>('step', {
      run: async (job) => {
        log.push(`start ${job.payload.n}`);
        await sleep(5);
        log.push(`end ${job.payload.n}`);
      },
    });
    for (const n of [1, 2, 3]) await runner.enqueue('step', { n });
    await runner.idle();
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('runs two at once with concurrency 2, still starting them in order', async () => {
    const runner = new InProcessJobRunner({ ...quiet, concurrency: 2 });
    const started: number[] = [];
    let running = 0;
    let most = 0;
    runner.register<{ n: number }>('step', {
      run: async (job) => {
        started.push(job.payload.n);
        most = Math.max(most, ++running);
        await sleep(10);
        running -= 1;
      },
    });
    for (const n of [1, 2, 3, 4]) await runner.enqueue('step', { n });
    await runner.idle();
    expect(started).toEqual([1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(() => new InProcessJobRunner({ concurrency: 3 })).toThrow(/1 or 2/);
  });

  it('copies the payload, reports progress and completes', async () => {
    const runner = new InProcessJobRunner(quiet);
    const seen: unknown[] = [];
    runner.register<{ list: number[] }>('copy', {
      run: async (job) => {
        seen.push(job.payload);
        await job.reportProgress(0.5);
        expect((await runner.status(job.id))?.progress).toBe(0.5);
        await job.reportProgress(7);
        expect((await runner.status(job.id))?.progress).toBe(1);
      },
    });
    const payload = { list: [1, 2] };
    const queued = await runner.enqueue('copy', payload, { jobId: 'j1' });
    payload.list.push(3);
    expect(queued).toMatchObject({ id: 'j1', name: 'copy', state: 'waiting', attemptsMade: 0 });
    await runner.idle();
    expect(seen).toEqual([{ list: [1, 2] }]);
    expect(await runner.status('j1')).toMatchObject({ state: 'completed', progress: 1, attemptsMade: 1, error: null });
    expect(await runner.status('nope')).toBeNull();
    await expect(runner.enqueue('copy', undefined)).rejects.toThrow(/JSON/);
    await expect(runner.enqueue('unknown', {})).rejects.toThrow(/No handler/);
    expect(() => runner.register('copy', { run: async () => undefined })).toThrow(/already/);
  });

  it('retries with backoff and succeeds on a later attempt', async () => {
    const runner = new InProcessJobRunner({ ...quiet, backoff: { type: 'fixed', delayMs: 30 } });
    const times: number[] = [];
    runner.register('flaky', {
      run: async (job: JobContext<unknown>) => {
        times.push(Date.now());
        if (job.attempt < 3) throw new Error(`boom ${job.attempt}`);
      },
    });
    await runner.enqueue('flaky', {}, { jobId: 'f' });
    await sleep(5);
    expect((await runner.status('f'))?.state).toBe('delayed');
    await runner.idle();
    expect(await runner.status('f')).toMatchObject({ state: 'completed', attemptsMade: 3 });
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(25);
    expect(backoffDelay({ type: 'exponential', delayMs: 100 }, 1)).toBe(100);
    expect(backoffDelay({ type: 'exponential', delayMs: 100 }, 3)).toBe(400);
  });

  it('fails for good after the last attempt, calling onFailed once; a PermanentJobError is not retried', async () => {
    const errors: unknown[] = [];
    const runner = new InProcessJobRunner({ ...quiet, onError: (e) => errors.push(e) });
    const failed: string[] = [];
    let tries = 0;
    runner.register<{ permanent: boolean }>('bad', {
      run: async (job) => {
        tries += 1;
        throw job.payload.permanent ? new PermanentJobError('no such row') : new Error('disk full');
      },
      onFailed: async (job, error) => {
        failed.push(`${job.id}: ${(error as Error).message}`);
      },
    });
    await runner.enqueue('bad', { permanent: false }, { jobId: 'a', attempts: 2 });
    await runner.enqueue('bad', { permanent: true }, { jobId: 'b', attempts: 5 });
    await runner.idle();
    expect(tries).toBe(3);
    expect(failed).toEqual(['b: no such row', 'a: disk full']); // b is not retried, so it fails first
    expect(await runner.status('a')).toMatchObject({ state: 'failed', attemptsMade: 2, error: 'disk full' });
    expect(await runner.status('b')).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(errors).toHaveLength(3);
  });

  it('cancels waiting jobs at once and aborts active ones through their signal', async () => {
    const runner = new InProcessJobRunner(quiet);
    const ran: string[] = [];
    const started = gate();
    runner.register('long', {
      run: async (job) => {
        ran.push(job.id);
        started.open();
        await untilAborted(job.signal);
      },
      onFailed: async () => {
        ran.push('onFailed must not run on cancel');
      },
    });
    await runner.enqueue('long', {}, { jobId: 'active' });
    await runner.enqueue('long', {}, { jobId: 'waiting' });
    await started.opened;
    expect(await runner.cancel('waiting')).toBe(true);
    expect((await runner.status('waiting'))?.state).toBe('cancelled');
    expect(await runner.cancel('active')).toBe(true);
    await runner.idle();
    expect(await runner.status('active')).toMatchObject({ state: 'cancelled' });
    expect(ran).toEqual(['active']);
    expect(await runner.cancel('active')).toBe(false);
    expect(await runner.cancel('unknown')).toBe(false);
  });

  it('deduplicates by jobId while a job is unfinished, and may run the id again once finished', async () => {
    const runner = new InProcessJobRunner(quiet);
    let runs = 0;
    runner.register('once', { run: async () => void (runs += 1) });
    await runner.enqueue('once', {}, { jobId: 'same' });
    const again = await runner.enqueue('once', {}, { jobId: 'same' });
    expect(again.id).toBe('same');
    expect(['waiting', 'active']).toContain(again.state);
    await runner.idle();
    expect(runs).toBe(1);
    await runner.enqueue('once', {}, { jobId: 'same' });
    await runner.idle();
    expect(runs).toBe(2);
  });

  it('close waits for the active job, fails the waiting ones through onFailed, and refuses new jobs', async () => {
    const runner = new InProcessJobRunner(quiet);
    const events: string[] = [];
    const release = gate();
    const started = gate();
    runner.register('slow', {
      run: async (job) => {
        started.open();
        await release.opened;
        events.push(`done ${job.id}`);
      },
      onFailed: async (job, error) => {
        events.push(`failed ${job.id} (attempt ${job.attempt}): ${error instanceof RunnerClosedError}`);
      },
    });
    await runner.enqueue('slow', {}, { jobId: 'first' });
    await runner.enqueue('slow', {}, { jobId: 'second' });
    await started.opened;
    let closed = false;
    const closing = runner.close().then(() => (closed = true));
    await sleep(20);
    expect(closed).toBe(false);
    release.open();
    await closing;
    expect(events).toEqual(['failed second (attempt 0): true', 'done first']);
    expect((await runner.status('first'))?.state).toBe('completed');
    await expect(runner.enqueue('slow', {})).rejects.toThrow(/closed/);
  });

  it('close with abortAfterMs aborts a job that will not finish, failing it for good', async () => {
    const runner = new InProcessJobRunner(quiet);
    const failed: string[] = [];
    const started = gate();
    runner.register('stuck', {
      run: async (job) => {
        started.open();
        await untilAborted(job.signal);
      },
      onFailed: async (_job, error) => void failed.push((error as Error).message),
    });
    await runner.enqueue('stuck', {}, { jobId: 's' });
    await started.opened;
    await runner.close({ abortAfterMs: 10 });
    expect(await runner.status('s')).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(failed).toEqual([new RunnerClosedError().message]);
  });

  it('forgets the oldest finished jobs beyond keepFinished', async () => {
    const runner = new InProcessJobRunner({ ...quiet, keepFinished: 2 });
    runner.register('x', { run: async () => undefined });
    for (const id of ['1', '2', '3']) await runner.enqueue('x', {}, { jobId: id });
    await runner.idle();
    expect(await runner.status('1')).toBeNull();
    expect((await runner.status('3'))?.state).toBe('completed');
  });
});
