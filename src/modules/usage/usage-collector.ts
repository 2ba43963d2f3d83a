/**
 * Usage statistics, kept locally and sent nowhere: per organization and UTC day, how often each
 * API endpoint was used and each web app page visited (by route pattern, never by URL, so no ids
 * or data; pages are reported by the app through `POST /api/usage/page-visits`), and how many
 * annotations, tasks, projects and exports were made. With COLLECT_ANALYTICS=false nothing is
 * counted and nothing is written. Counts are summed in memory and upserted every few seconds.
 */
import { sql } from 'kysely';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../../db/database.js';

const FLUSH_MS = 5000;
const PAGE_VISITS = 'POST /api/usage/page-visits';

/** Semantic counters: a successful call of these routes counts one of each. */
const EVENTS: Record<string, string> = {
  'POST /api/tasks/:id/annotations': 'annotations.created',
  'POST /api/annotations/bulk': 'annotations.created_in_bulk',
  'POST /api/projects': 'projects.created',
  'POST /api/projects/:id/import': 'imports.completed',
  'POST /api/projects/:id/tasks/bulk': 'imports.completed',
  'GET /api/projects/:id/export': 'exports.downloaded',
  'POST /api/projects/:id/exports': 'exports.snapshots_created',
  'POST /api/predictions': 'predictions.created',
  'POST /api/auth/login': 'logins.succeeded',
};

/** Sums usage counts in memory and writes them in batches. */
export class UsageCollector {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Counts one occurrence of a metric for an organization (0: none) today. */
  count(organizationId: number, metric: string, by = 1): void {
    const key = `${new Date().toISOString().slice(0, 10)}\u0000${organizationId}\u0000${metric}`;
    this.pending.set(key, (this.pending.get(key) ?? 0) + by);
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  /** Writes the pending counts (adding to what each day already has). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rows = [...this.pending].map(([key, value]) => {
      const [day, org, metric] = key.split('\u0000') as [string, string, string];
      return { day, organization_id: Number(org), metric, value };
    });
    this.pending = new Map();
    if (rows.length === 0) return;
    try {
      await this.db
        .insertInto('usage_counters')
        .values(rows)
        .onConflict((oc) => oc.columns(['day', 'organization_id', 'metric']).doUpdateSet({ value: sql<number>`usage_counters.value + excluded.value` }))
        .execute();
    } catch (err) {
      this.onError(err);
    }
  }
}

function record(collector: UsageCollector, req: FastifyRequest, reply: FastifyReply): void {
  const route = req.routeOptions.url;
  if (!route || reply.statusCode >= 400 || !route.startsWith('/api/')) return;
  const pattern = `${req.method} ${route.replace(/\/$/, '')}`;
  if (pattern === PAGE_VISITS) return; // counted as the page visited, not as an API call
  const org = req.actor?.organizationId ?? 0;
  collector.count(org, `api:${pattern}`);
  const event = EVENTS[pattern];
  if (event) collector.count(org, event);
}

/** Installs the collector when analytics are on; returns it (or null when off, recording nothing). */
export function registerUsage(app: FastifyInstance, db: Db, enabled: boolean): UsageCollector | null {
  if (!enabled) return null;
  const collector = new UsageCollector(db, (err) => app.log.error({ err }, 'usage write failed'));
  app.addHook('onResponse', async (req, reply) => record(collector, req, reply));
  app.addHook('onClose', async () => collector.flush());
  return collector;
}
