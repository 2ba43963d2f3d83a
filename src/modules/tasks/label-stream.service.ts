/**
 * The label stream (`GET /api/projects/{id}/next`): the next task for the caller, following the
 * project's sampling, skipping tasks they already annotated or skipped and tasks already labeled.
 * A task handed out is reserved (a lock with an expiry) so that no more annotators work on it at
 * once than the project still needs; the claim is atomic, so concurrent callers never collide.
 *
 * Distribution (`assignment_settings.label_stream_task_distribution`): `auto_distribution` hands
 * out any task of the project; `assigned_only` only those assigned to the caller (`task_assignments`
 * type 'AN'). Either way, a task whose annotation by the caller was rejected (the newest review of
 * that annotation has `accepted = 0`) comes back to them first, until they change the annotation
 * (its `updated_at` passes the review's `updated_at`, so a review edited into a rejection later
 * counts from that edit). It is not reserved again: the caller's
 * annotation already counts towards the task's overlap.
 */
import { PostgresAdapter, sql, type Transaction } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { AppError } from '../../http/errors.js';
import { assignedToCondition, isAssignedOnly } from '../../authz/data-filters.js';
import { getProjectRow, settingsOf } from '../projects/projects.service.js';
import type { ProjectSettings } from '../projects/projects.schemas.js';
import { getTaskDetail } from './tasks.service.js';

type Trx = Transaction<Database>;

/** Tasks the caller may be handed: unlabeled, not done by them, with room left beyond others' reservations (and assigned to them in `assigned_only` projects). */
function candidates(trx: Trx, projectId: number, userId: number, maximumAnnotations: number, assignedOnly: boolean) {
  const q = trx
    .selectFrom('tasks as t')
    .select('t.id')
    .where('t.project_id', '=', projectId)
    .where('t.is_labeled', '=', 0)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('annotations as a').select('a.id').whereRef('a.task_id', '=', 't.id').where('a.completed_by_id', '=', userId))))
    .where(sql<number>`t.total_annotations + (select count(*) from task_locks l where l.task_id = t.id and l.user_id <> ${userId})`, '<', maximumAnnotations)
    .limit(1);
  return assignedOnly ? q.where(assignedToCondition(userId, 't.id')) : q;
}

/**
 * The task of the caller's oldest rejected annotation in the project that they have not changed
 * since the rejection was last written (only the newest review of an annotation counts), or undefined.
 */
async function rejectedTask(trx: Trx, projectId: number, userId: number): Promise<number | undefined> {
  const row = await trx
    .selectFrom('annotations as a')
    .innerJoin('annotation_reviews as r', 'r.annotation_id', 'a.id')
    .select('a.task_id')
    .where('a.project_id', '=', projectId)
    .where('a.completed_by_id', '=', userId)
    .where('r.accepted', '=', 0)
    .where('r.id', '=', (eb) => eb.selectFrom('annotation_reviews as r2').select((e) => e.fn.max('r2.id').as('newest')).whereRef('r2.annotation_id', '=', 'a.id'))
    .whereRef('a.updated_at', '<=', 'r.updated_at')
    .orderBy('r.id')
    .limit(1)
    .executeTakeFirst();
  return row?.task_id;
}

/**
 * The next candidate: the first in inner-id order, or for uniform sampling the first at or after
 * a random inner id (wrapping around) — two index walks instead of sorting every candidate.
 */
async function pickCandidate(trx: Trx, projectId: number, userId: number, settings: ProjectSettings, assignedOnly: boolean): Promise<number | undefined> {
  const q = candidates(trx, projectId, userId, settings.maximum_annotations, assignedOnly).orderBy('t.inner_id');
  if (settings.sampling !== 'Uniform sampling') return (await q.executeTakeFirst())?.id;
  const range = await trx.selectFrom('tasks').select([sql<number | null>`min(inner_id)`.as('lo'), sql<number | null>`max(inner_id)`.as('hi')]).where('project_id', '=', projectId).executeTakeFirst();
  if (range?.lo == null || range.hi == null) return undefined;
  const lo = Number(range.lo);
  const pivot = lo + Math.floor(Math.random() * (Number(range.hi) - lo + 1));
  return (await q.where('t.inner_id', '>=', pivot).executeTakeFirst())?.id ?? (await q.where('t.inner_id', '<', pivot).executeTakeFirst())?.id;
}

/** Claims and returns the caller's next task; 404 when nothing is left for them. */
export async function nextTask(deps: AppDeps, actor: Actor, projectId: number) {
  const project = await getProjectRow(deps.db, actor, projectId);
  const settings = settingsOf(project);
  const assignedOnly = isAssignedOnly(project);
  const pg = deps.db.getExecutor().adapter instanceof PostgresAdapter;
  const taskId = await deps.db.transaction().execute(async (trx) => {
    // Claims in one project are serialised (PostgreSQL: a transaction-scoped advisory lock, so every
    // claim sees the reservations committed before it; SQLite: transactions are serial already).
    if (pg) await sql`select pg_advisory_xact_lock(7240312, ${projectId})`.execute(trx);
    const rejected = await rejectedTask(trx, projectId, actor.userId);
    if (rejected !== undefined) return rejected;
    const now = new Date();
    await trx.deleteFrom('task_locks').where('project_id', '=', projectId).where('expires_at', '<=', now.toISOString()).execute();
    let heldQuery = trx
      .selectFrom('task_locks as l')
      .innerJoin('tasks as t', 't.id', 'l.task_id')
      .select('l.task_id')
      .where('l.project_id', '=', projectId)
      .where('l.user_id', '=', actor.userId)
      .where('t.is_labeled', '=', 0)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('annotations as a').select('a.id').whereRef('a.task_id', '=', 'l.task_id').where('a.completed_by_id', '=', actor.userId))));
    if (assignedOnly) heldQuery = heldQuery.where(assignedToCondition(actor.userId, 'l.task_id'));
    const held = await heldQuery.executeTakeFirst();
    const chosen = held?.task_id ?? (await pickCandidate(trx, projectId, actor.userId, settings, assignedOnly));
    if (chosen === undefined) return undefined;
    const expires = new Date(now.getTime() + deps.config.labeling.taskLockTtlMs).toISOString();
    await trx.deleteFrom('task_locks').where('task_id', '=', chosen).where('user_id', '=', actor.userId).execute();
    await trx.insertInto('task_locks').values({ task_id: chosen, user_id: actor.userId, project_id: projectId, expires_at: expires }).execute();
    return chosen;
  });
  if (taskId === undefined) throw new AppError(404, 'NO_MORE_TASKS', 'No more tasks to label in this project.');
  const detail = await getTaskDetail(deps.db, actor, taskId);
  const predictions = project.model_version ? detail.predictions.filter((p) => p.model_version === project.model_version) : detail.predictions;
  return { ...detail, predictions, annotations: detail.annotations.filter((a) => a.completed_by === actor.userId) };
}

/** Ends a user's reservation of a task (after they submit or skip it), in the caller's transaction. */
export async function releaseTaskLock(db: AppDeps['db'] | Transaction<Database>, taskId: number, userId: number): Promise<void> {
  await db.deleteFrom('task_locks').where('task_id', '=', taskId).where('user_id', '=', userId).execute();
}
