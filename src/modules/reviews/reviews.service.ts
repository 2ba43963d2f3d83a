/**
 * Annotation reviews (Label Studio Enterprise's `/api/annotation-reviews/`): a Reviewer (or above)
 * accepts or rejects someone else's annotation, optionally with a comment. Each review is kept (a
 * later one does not replace an earlier one), so the history of verdicts stays readable; the
 * newest review of an annotation is its current verdict (the label stream reads it).
 *
 * Choices, documented for clients:
 * - Nobody reviews their own annotation, whatever their role: 403 `OWN_ANNOTATION` (the object is
 *   visible and the request well-formed; the caller may just not do this to it).
 * - A skipped (cancelled) annotation has nothing to review: 400 naming `annotation`.
 * - `result` (the reviewer's fix of the annotation) is refused unless null: 400 naming `result`;
 *   fixes go through PATCH /api/annotations/:id, which records who changed what.
 * - `accepted` is required on create (Label Studio silently defaults it to a rejection).
 * - A comment is optional, also when rejecting (Label Studio's default).
 * - Only a review's author, or holders of `annotation.change_any`, change or delete it (403).
 * - Annotators (without `task.view_all`) read the reviews of their own annotations, to see why
 *   one was rejected (`project.view` on the two GET routes, narrowed by `data-filters.ts`).
 */
import type { AppDeps } from '../../app-deps.js';
import { canReadReviewsOf, readableReviewConditions } from '../../authz/data-filters.js';
import { can } from '../../authz/permissions.js';
import type { Db } from '../../db/database.js';
import type { AnnotationReviewRow, ProjectRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { AppError, forbidden, invalid, notFound } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { getProjectRow } from '../projects/projects.service.js';
import { findReview, insertReview, listReviewRows, REVIEW_ORDERINGS, touchTask, updateReviewRow } from './reviews.repository.js';

/** A review as the API shows it (Label Studio's `AnnotationReview`). */
export function reviewOut(r: AnnotationReviewRow) {
  return {
    id: r.id,
    annotation: r.annotation_id,
    task: r.task_id,
    created_by: r.created_by_id,
    accepted: r.accepted === 1,
    comment: r.comment === '' ? null : r.comment,
    result: null,
    created_at: r.created_at,
    updated_at: r.updated_at,
    fixed_annotation_history: null,
    previous_annotation_history: null,
    last_annotation_history: null,
    remove_from_queue: null,
    started_at: null,
  };
}

/** What a create, PUT or PATCH may carry (shapes checked by the route). */
export interface ReviewInput {
  annotation?: number | undefined;
  accepted?: boolean | undefined;
  comment?: string | null | undefined;
  result?: unknown;
}

function assertNoResult(input: ReviewInput): void {
  if (input.result !== undefined && input.result !== null) {
    throw invalid({ result: ['Fixing the annotation while reviewing is not supported: send null, and change the annotation with PATCH /api/annotations/{id}.'] });
  }
}

/** Creates a review of a visible annotation (the route resolved it); see the module's choices. */
export async function createReview(deps: AppDeps, actor: Actor, audit: AuditFn, input: ReviewInput & { annotation: number; accepted: boolean }) {
  assertNoResult(input);
  const annotation = await deps.db.selectFrom('annotations').select(['id', 'task_id', 'project_id', 'completed_by_id', 'was_cancelled']).where('id', '=', input.annotation).executeTakeFirst();
  if (!annotation) throw notFound('Annotation not found.');
  if (annotation.completed_by_id === actor.userId) throw new AppError(403, 'OWN_ANNOTATION', 'You cannot review your own annotation.');
  if (annotation.was_cancelled === 1) throw invalid({ annotation: ['This annotation was skipped: there is nothing to review.'] });
  return deps.db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    const row = await insertReview(trx, { annotationId: annotation.id, taskId: annotation.task_id, projectId: annotation.project_id, createdBy: actor.userId, accepted: input.accepted, comment: input.comment ?? '', now });
    await touchTask(trx, annotation.task_id, now);
    await audit(trx, {
      action: 'annotation.review',
      objectType: 'annotation',
      objectId: annotation.id,
      projectId: annotation.project_id,
      changes: { review: row.id, task: annotation.task_id, annotator: annotation.completed_by_id, accepted: input.accepted, comment: row.comment || null },
    });
    return reviewOut(row);
  });
}

/**
 * One review (the route resolved its project's visibility); without `task.view_all` only a review
 * of the actor's own annotation (`canReadReviewsOf`), else "not found".
 */
export async function getReview(db: Db, actor: Actor, id: number) {
  const row = await findReview(db, id);
  if (!row) throw notFound('Review not found.');
  const annotation = await db.selectFrom('annotations').select('completed_by_id').where('id', '=', row.annotation_id).executeTakeFirst();
  if (!annotation || !canReadReviewsOf(actor, annotation)) throw notFound('Review not found.');
  return reviewOut(row);
}

/** A review the actor may change: their own, or anyone's with `annotation.change_any`. */
async function changeableReview(db: Db, actor: Actor, id: number): Promise<AnnotationReviewRow> {
  const row = await findReview(db, id);
  if (!row) throw notFound('Review not found.');
  if (row.created_by_id !== actor.userId && !can(actor, 'annotation.change_any')) throw forbidden('Only the reviewer (or a Manager and above) may change or delete this review.');
  return row;
}

/** Changes a review's verdict or comment (PATCH; PUT gives every field). */
export async function updateReview(deps: AppDeps, actor: Actor, audit: AuditFn, id: number, input: ReviewInput) {
  assertNoResult(input);
  const before = await changeableReview(deps.db, actor, id);
  if (input.annotation !== undefined && input.annotation !== before.annotation_id) throw invalid({ annotation: ['A review stays with its annotation; create a new review instead.'] });
  const comment = input.comment === undefined ? undefined : (input.comment ?? '');
  return deps.db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    const row = await updateReviewRow(trx, id, { accepted: input.accepted, comment, now });
    await touchTask(trx, row.task_id, now);
    await audit(trx, {
      action: 'annotation.review_update',
      objectType: 'review',
      objectId: id,
      projectId: row.project_id,
      changes: { annotation: row.annotation_id, accepted: [before.accepted === 1, row.accepted === 1], comment_changed: before.comment !== row.comment },
    });
    return reviewOut(row);
  });
}

/** Deletes a review (its author, or a Manager and above). */
export async function deleteReview(deps: AppDeps, actor: Actor, audit: AuditFn, id: number): Promise<void> {
  const row = await changeableReview(deps.db, actor, id);
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('annotation_reviews').where('id', '=', id).execute();
    await audit(trx, { action: 'annotation.review_delete', objectType: 'review', objectId: id, projectId: row.project_id, changes: { annotation: row.annotation_id, accepted: row.accepted === 1, reviewer: row.created_by_id } });
  });
}

/** Parses `ordering` (`id`, `-created_at`, …) or names it in a 400. */
function parseReviewOrdering(text: string | undefined) {
  if (text === undefined || text === '') return { column: 'id' as const, desc: false };
  const desc = text.startsWith('-');
  const column = REVIEW_ORDERINGS.find((c) => c === (desc ? text.slice(1) : text));
  if (!column) throw invalid({ ordering: [`One of ${REVIEW_ORDERINGS.join(', ')} (prefix "-" for descending).`] });
  return { column, desc };
}

/**
 * Reviews, as a plain array (Label Studio's list is not paged): of one annotation (the route
 * resolved its project), of one project (it must be visible: else 404), or of every project the
 * actor sees. Without `task.view_all` only reviews of the actor's own annotations: naming another's
 * annotation is "not found" (as `GET /api/annotations/{id}` answers for it).
 */
export async function listReviews(db: Db, actor: Actor, q: { annotation?: number | undefined; annotation__task__project?: number | undefined; ordering?: string | undefined }) {
  const order = parseReviewOrdering(q.ordering);
  if (q.annotation !== undefined) {
    const annotation = await db.selectFrom('annotations').select('completed_by_id').where('id', '=', q.annotation).executeTakeFirst();
    if (!annotation || !canReadReviewsOf(actor, annotation)) throw notFound('Annotation not found.');
  }
  let project: ProjectRow | undefined;
  if (q.annotation__task__project !== undefined) project = await getProjectRow(db, actor, q.annotation__task__project);
  const rows = await listReviewRows(db, actor, { annotationId: q.annotation, projectId: project?.id, order, conditions: readableReviewConditions(actor) });
  return rows.map(reviewOut);
}
