/**
 * Prometheus metrics (METRICS_ENABLED, off by default): request latency by route template, job
 * queue depth (read from the job runner when scraped: the whole queue, for the Redis one) and
 * the duration of the job attempts this process ran, by job name and outcome, and throughput
 * counters: tasks imported, tasks exported (by way: snapshot or download) and objects turned into
 * tasks by an import storage sync (by storage kind), each counted once its rows are committed (or,
 * for a download, once the whole export was streamed). GET /metrics serves them to a scraper
 * holding METRICS_TOKEN (system.routes.ts); a `labelvault worker` serves them on its probe
 * listener (processes.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AttemptObserver, JobRunner } from '../jobs/job-runner.js';

/** The metrics of one process, in a registry of its own (never prom-client's global one). */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<'method' | 'route' | 'status_code'>;
  private readonly attempts: Histogram<'job' | 'outcome'>;
  private readonly imported: Counter;
  private readonly exported: Counter<'via'>;
  private readonly synced: Counter<'kind'>;
  private jobs: JobRunner | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'labelvault_' });
    this.requests = new Histogram({
      name: 'labelvault_http_request_duration_seconds',
      help: 'HTTP request latency by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.attempts = new Histogram({
      name: 'labelvault_job_duration_seconds',
      help: 'Duration of job attempts run by this process, by job name and outcome (completed, failed, retried, cancelled, requeued).',
      labelNames: ['job', 'outcome'],
      buckets: [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600],
      registers: [this.registry],
    });
    this.imported = new Counter({
      name: 'labelvault_tasks_imported_total',
      help: 'Tasks committed by imports run in this process (API imports, uploads and import storage syncs).',
      registers: [this.registry],
    });
    this.exported = new Counter({
      name: 'labelvault_tasks_exported_total',
      help: 'Tasks written by exports in this process, by way: snapshot (a completed export snapshot) or download (a fully streamed direct export).',
      labelNames: ['via'],
      registers: [this.registry],
    });
    for (const via of ['snapshot', 'download']) this.exported.inc({ via }, 0); // both series exist from the start
    this.synced = new Counter({
      name: 'labelvault_storage_objects_synced_total',
      help: 'Storage objects turned into tasks (committed) by import storage syncs run in this process, by storage kind (s3, gcs, azure, redis, localfiles).',
      labelNames: ['kind'],
      registers: [this.registry],
    });
    const metrics = this;
    new Gauge({
      name: 'labelvault_job_queue_depth',
      help: 'Jobs waiting, delayed and active in the job queue (the shared queue when REDIS_URL is set).',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        if (!metrics.jobs) return;
        const counts = await metrics.jobs.counts().catch(() => null);
        if (counts) for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
  }

  /** Observer handed to the job runner: records each attempt's duration. */
  readonly observeJob: AttemptObserver = (name, outcome, seconds) => this.attempts.observe({ job: name, outcome }, seconds);

  /** Counts tasks an import committed. */
  countImported(tasks: number): void {
    if (tasks > 0) this.imported.inc(tasks);
  }

  /** Counts tasks an export wrote: a completed snapshot, or a download streamed to its end. */
  countExported(via: 'snapshot' | 'download', tasks: number): void {
    this.exported.inc({ via }, tasks);
  }

  /** Counts storage objects a sync committed as tasks, by storage kind. */
  countSynced(kind: string, objects: number): void {
    this.synced.inc({ kind }, objects);
  }

  /** The runner whose queue depth is reported (set once it exists). */
  watchQueue(jobs: JobRunner): void {
    this.jobs = jobs;
  }

  /** Times every request, labelled with its route template (never the raw path: ids would explode the series). */
  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      this.requests.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
  }

  /** The text exposition and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** True when the Authorization header is `Bearer <token>` (compared in constant time). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}
