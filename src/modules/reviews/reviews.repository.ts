/** Queries over `annotation_reviews`. Nothing here decides access. */
import type { RawBuilder, SqlBool, Transaction } from 'kysely';
import type { Db } from '../../db/database.js';
import type { AnnotationReviewRow, Database } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { visibleProjectIds } from '../../authz/scope.js';

type Conn = Db | Transaction<Database>;

/** One review. */
export async function findReview(db: Conn, id: number): Promise<AnnotationReviewRow | undefined> {
  return db.selectFrom('annotation_reviews').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The fields of a new review. */
export interface NewReview {
  annotationId: number;
  taskId: number;
  projectId: number;
  createdBy: number;
  accepted: boolean;
  comment: string;
  now: string;
}

/** Inserts a review and returns it. */
export async function insertReview(trx: Conn, r: NewReview): Promise<AnnotationReviewRow> {
  return trx
    .insertInto('annotation_reviews')
    .values({ annotation_id: r.annotationId, task_id: r.taskId, project_id: r.projectId, created_by_id: r.createdBy, accepted: r.accepted ? 1 : 0, comment: r.comment, created_at: r.now, updated_at: r.now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Changes a review's verdict and comment; returns it. */
export async function updateReviewRow(trx: Conn, id: number, set: { accepted?: boolean | undefined; comment?: string | undefined; now: string }): Promise<AnnotationReviewRow> {
  return trx
    .updateTable('annotation_reviews')
    .set({ ...(set.accepted !== undefined && { accepted: set.accepted ? 1 : 0 }), ...(set.comment !== undefined && { comment: set.comment }), updated_at: set.now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Marks a task changed (Label Studio's `updated_at` moves when a review is added). */
export async function touchTask(trx: Conn, taskId: number, now: string): Promise<void> {
  await trx.updateTable('tasks').set({ updated_at: now }).where('id', '=', taskId).execute();
}

/** Orderings the list accepts. */
export const REVIEW_ORDERINGS = ['id', 'created_at', 'updated_at'] as const;

/**
 * Reviews by annotation and/or project, narrowed by the caller's extra conditions; without a
 * project, only those of projects the actor sees.
 */
export async function listReviewRows(
  db: Db,
  actor: Actor,
  f: {
    annotationId?: number | undefined;
    projectId?: number | undefined;
    conditions?: RawBuilder<SqlBool>[] | undefined;
    order: { column: (typeof REVIEW_ORDERINGS)[number]; desc: boolean };
  },
): Promise<AnnotationReviewRow[]> {
  let q = db.selectFrom('annotation_reviews').selectAll();
  for (const c of f.conditions ?? []) q = q.where(c);
  if (f.annotationId !== undefined) q = q.where('annotation_id', '=', f.annotationId);
  q = f.projectId !== undefined ? q.where('project_id', '=', f.projectId) : q.where('project_id', 'in', visibleProjectIds(db, actor));
  const dir = f.order.desc ? 'desc' : 'asc';
  q = q.orderBy(f.order.column, dir);
  if (f.order.column !== 'id') q = q.orderBy('id', dir);
  return q.execute();
}
