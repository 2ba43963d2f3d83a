/**
 * Audit retention: events older than AUDIT_RETENTION_DAYS are deleted, oldest first, and a
 * checkpoint signed with the server secret records the last deleted event's id and hash, so
 * `labelvault audit verify` still checks the remaining chain from there (positions are chain
 * positions: ids on SQLite, seq on PostgreSQL, where unsealed events are never pruned). The newest event is
 * always kept (the chain's head stays in the table). Pruning records its own `audit.prune` event
 * in the same transaction. Run daily by the `audit.prune` job and by `labelvault audit prune`.
 */
import { PostgresAdapter, sql } from 'kysely';
import type { AppDeps } from '../app-deps.js';
import type { JobDefinition } from '../jobs/job-definitions.js';
import { CHAIN_LOCK, chainOrder, signCheckpoint, type CheckpointFields } from './chain.js';
import { recordAuditEvent, SYSTEM_SOURCE, type AuditSource } from './recorder.js';

/** What one pruning did. */
export interface PruneResult {
  /** Events deleted. */
  pruned: number;
  /** Events older than this (ISO time) were eligible. */
  cutoff: string | null;
  /** The checkpoint written, when anything was pruned. */
  checkpoint: { id: number; lastEventId: number } | null;
}

/**
 * Deletes the events older than `retentionDays` (0: keeps everything and does nothing) and writes
 * the signed checkpoint and the `audit.prune` event, all in one transaction. On PostgreSQL the
 * transaction sets `labelvault.audit_prune`, the only way past the append-only trigger's DELETE refusal.
 */
export async function pruneAuditLog(
  deps: Pick<AppDeps, 'db' | 'secrets'>,
  opts: { retentionDays: number; now?: Date; source?: AuditSource },
): Promise<PruneResult> {
  if (!Number.isInteger(opts.retentionDays) || opts.retentionDays < 0) throw new RangeError('retentionDays must be a whole number of days, 0 or more');
  if (opts.retentionDays === 0) return { pruned: 0, cutoff: null, checkpoint: null };
  const now = opts.now ?? new Date();
  const cutoff = new Date(now.getTime() - opts.retentionDays * 86_400_000).toISOString();
  return deps.db.transaction().execute(async (trx) => {
    if (trx.getExecutor().adapter instanceof PostgresAdapter) {
      await sql`select set_config('labelvault.audit_prune', 'on', true), pg_advisory_xact_lock(${CHAIN_LOCK})`.execute(trx);
    }
    // In chain order (PostgreSQL: seq, so only sealed events are candidates; SQLite: id).
    const pos = chainOrder(trx);
    const newest = await trx.selectFrom('audit_events').select(pos).where(pos, 'is not', null).orderBy(pos, 'desc').limit(1).executeTakeFirst();
    if (!newest) return { pruned: 0, cutoff, checkpoint: null };
    const last = await trx
      .selectFrom('audit_events')
      .select(['id', 'hash', pos])
      .where('created_at', '<', cutoff)
      .where(pos, '<', Number(newest[pos]))
      .orderBy(pos, 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!last) return { pruned: 0, cutoff, checkpoint: null };
    const lastPos = Number(last[pos]);
    const deleted = await trx.deleteFrom('audit_events').where(pos, '<=', lastPos).executeTakeFirst();
    const fields: CheckpointFields = {
      created_at: now.toISOString(),
      // The last pruned event's place in the chain: its id on SQLite, its seq on PostgreSQL.
      last_event_id: lastPos,
      last_event_hash: last.hash,
      pruned_count: Number(deleted.numDeletedRows),
      retention_days: opts.retentionDays,
    };
    const cp = await trx
      .insertInto('audit_checkpoints')
      .values({ ...fields, signature: signCheckpoint(deps.secrets, fields) })
      .returning('id')
      .executeTakeFirstOrThrow();
    await recordAuditEvent(trx, deps.secrets, opts.source ?? SYSTEM_SOURCE, {
      action: 'audit.prune',
      objectType: 'audit_events',
      objectId: last.id,
      changes: { retention_days: opts.retentionDays, cutoff, pruned: fields.pruned_count, checkpoint: cp.id, last_pruned_event: last.id },
    });
    return { pruned: fields.pruned_count, cutoff, checkpoint: { id: cp.id, lastEventId: lastPos } };
  });
}

/** The job's name. */
export const AUDIT_PRUNE_JOB = 'audit.prune';

/** The daily pruning job (a no-op while AUDIT_RETENTION_DAYS is 0). */
export const auditPruneJob: JobDefinition<Record<string, never>> = {
  name: AUDIT_PRUNE_JOB,
  every: { intervalMs: 86_400_000, firstAfterMs: 60_000 },
  handler: (deps) => ({
    run: async () => {
      await pruneAuditLog(deps, { retentionDays: deps.config.audit.retentionDays });
    },
  }),
};
