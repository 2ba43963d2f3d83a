/** Tasks: read, list, change, delete, and the per-task counters annotations keep up to date. */
import { sql, type Transaction } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import type { Db } from '../../db/database.js';
import { fromJson, type Database, type ProjectRow, type TaskRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { pageWindow } from '../../http/common-schemas.js';
import { invalid, notFound } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { assertTaskVisible, listableTaskConditions, visibleAnnotationAuthors } from '../../authz/data-filters.js';
import type { LabelConfig } from '../label-config/label-config.parser.js';
import { dialectOf, parseQueryParam, resolveTaskQuery, taskConditions, taskOrdering } from '../data-manager/task-query.js';
import { configOf, getProjectRow } from '../projects/projects.service.js';
import { AnnotationExports } from '../storages/annotation-exports.js';
import { annotationOut, draftOut, predictionOut, taskOut } from './tasks.mapper.js';

type Q = Db | Transaction<Database>;

/** A task with its project, if the project is in the actor's organization; else not found. */
export async function getTaskWithProject(db: Db, actor: Actor, id: number): Promise<{ task: TaskRow; project: ProjectRow }> {
  const task = await db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!task) throw notFound('Task not found.');
  const project = await getProjectRow(db, actor, task.project_id).catch(() => {
    throw notFound('Task not found.');
  });
  return { task, project };
}

/** The message for data lacking a key the labeling config reads, or null. */
export function missingDataKey(config: LabelConfig, data: Record<string, unknown>): string | null {
  const missing = config.dataKeys.filter((k) => !(k in data));
  return missing.length ? `data lacks ${missing.map((k) => `"${k}"`).join(', ')}, which the labeling config uses` : null;
}

/**
 * Recounts annotations and predictions of tasks, and whether each is labeled (in the caller's
 * transaction). On PostgreSQL the task rows are locked first, in id order: each statement of a
 * READ COMMITTED transaction sees what committed before it began, so concurrent writers on one
 * task would otherwise count from stale snapshots. `for no key update` does not conflict with
 * the key-share locks the callers' inserts already took through foreign keys, so two writers
 * queue on the lock instead of deadlocking; the recount that follows sees the one before it.
 */
export async function refreshTaskCounters(db: Q, taskIds: number[], maximumAnnotations: number): Promise<void> {
  if (taskIds.length === 0) return;
  if (dialectOf(db) === 'postgres') {
    await db.selectFrom('tasks').select('id').where('id', 'in', taskIds).orderBy('id').forNoKeyUpdate().execute();
  }
  await db
    .updateTable('tasks')
    .set({
      total_annotations: sql<number>`(select count(*) from annotations a where a.task_id = tasks.id and a.was_cancelled = 0)`,
      cancelled_annotations: sql<number>`(select count(*) from annotations a where a.task_id = tasks.id and a.was_cancelled = 1)`,
      total_predictions: sql<number>`(select count(*) from predictions p where p.task_id = tasks.id)`,
    })
    .where('id', 'in', taskIds)
    .execute();
  await db
    .updateTable('tasks')
    .set({ is_labeled: sql<number>`case when total_annotations >= ${maximumAnnotations} then 1 else 0 end` })
    .where('id', 'in', taskIds)
    .execute();
}

/**
 * One task with the annotations the caller may see, its predictions and the caller's drafts.
 * A task the caller may not open (`assertTaskVisible`) is "not found".
 */
export async function getTaskDetail(db: Db, actor: Actor, id: number) {
  const { task, project } = await getTaskWithProject(db, actor, id);
  await assertTaskVisible(db, actor, id);
  const authors = visibleAnnotationAuthors(actor, project);
  let annotationQuery = db.selectFrom('annotations as a').leftJoin('users as u', 'u.id', 'a.completed_by_id').selectAll('a').select('u.email as username').where('a.task_id', '=', id);
  if (authors) annotationQuery = annotationQuery.where('a.completed_by_id', 'in', authors);
  const [annotations, predictions, drafts] = await Promise.all([
    annotationQuery.orderBy('a.id').execute(),
    db.selectFrom('predictions').selectAll().where('task_id', '=', id).orderBy('id').execute(),
    db.selectFrom('drafts').selectAll().where('task_id', '=', id).where('user_id', '=', actor.userId).orderBy('id').execute(),
  ]);
  return {
    ...taskOut(task),
    annotations: annotations.map((a) => annotationOut(a, a.username ?? '')),
    predictions: predictions.map(predictionOut),
    drafts: drafts.map(draftOut),
    annotators: [...new Set(annotations.map((a) => a.completed_by_id).filter((x): x is number => x !== null))],
  };
}

export interface TaskListQuery {
  project: number;
  page?: number | undefined;
  page_size?: number | undefined;
  fields?: string | undefined;
  /** A data-manager view whose filters and ordering apply. */
  view?: number | undefined;
  /** JSON `{filters, ordering, selectedItems}`; each key present overrides the view's. */
  query?: string | undefined;
}

/**
 * `GET /api/tasks?project=`: Label Studio's `{tasks, total, total_annotations, total_predictions}`,
 * 404 past the end. `view` and `query` filter, select and order the tasks (400 naming a bad
 * column, operator or value); totals count the filtered tasks.
 */
export async function listTasks(db: Db, actor: Actor, q: TaskListQuery) {
  const project = await getProjectRow(db, actor, q.project);
  const visible = listableTaskConditions(actor, project);
  const d = dialectOf(db);
  const tq = await resolveTaskQuery(db, q.project, { view: q.view, query: q.query === undefined ? undefined : parseQueryParam(q.query, d) });
  let base = db.selectFrom('tasks').where('project_id', '=', q.project);
  for (const condition of [...visible, ...taskConditions(tq, d)]) base = base.where(condition);
  const totals = await base
    .select([sql<number>`count(*)`.as('n'), sql<number>`coalesce(sum(total_annotations), 0)`.as('a'), sql<number>`coalesce(sum(total_predictions), 0)`.as('p')])
    .executeTakeFirstOrThrow();
  const total = Number(totals.n);
  const w = pageWindow(q, total);
  let page = base.selectAll();
  for (const term of taskOrdering(tq, d)) page = page.orderBy(term);
  const rows = await page.orderBy('id').limit(w.size).offset(w.offset).execute();
  const tasks = rows.map(taskOut);
  if (q.fields === 'all' && rows.length > 0) await addAllFields(db, tasks, visibleAnnotationAuthors(actor, project));
  return { tasks, total, total_annotations: Number(totals.a), total_predictions: Number(totals.p) };
}

/** Ids per `in (…)` list: well under SQLite's limit on bound variables. */
const ID_BATCH = 1000;

type TaskAnnotationBits = { task_id: number; completed_by_id: number | null; result: unknown; lead_time: number | null };
type TaskPredictionBits = { task_id: number; result: unknown; score: number | null };

/** Rows grouped by task id. */
function groupByTask<T extends { task_id: number }>(rows: T[], into: Map<number, T[]>): void {
  for (const r of rows) {
    const list = into.get(r.task_id);
    if (list) list.push(r);
    else into.set(r.task_id, [r]);
  }
}

/** Annotations (of some authors, or all when null) and predictions of tasks, grouped by task, read in batches of ids. */
async function resultsByTask(db: Db, ids: number[], authors: number[] | null) {
  const anns = new Map<number, TaskAnnotationBits[]>();
  const preds = new Map<number, TaskPredictionBits[]>();
  for (let i = 0; i < ids.length; i += ID_BATCH) {
    const slice = ids.slice(i, i + ID_BATCH);
    let annotations = db.selectFrom('annotations').select(['task_id', 'completed_by_id', 'result', 'lead_time']).where('task_id', 'in', slice);
    if (authors) annotations = annotations.where('completed_by_id', 'in', authors);
    const [a, p] = await Promise.all([
      annotations.orderBy('id').execute(),
      db.selectFrom('predictions').select(['task_id', 'result', 'score']).where('task_id', 'in', slice).orderBy('id').execute(),
    ]);
    groupByTask(a, anns);
    groupByTask(p, preds);
  }
  return { anns, preds };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);

/** The data manager's extra columns (`fields=all`): results, annotators, scores, lead times (of the annotations the caller sees). */
async function addAllFields(db: Db, tasks: ReturnType<typeof taskOut>[], authors: number[] | null) {
  const { anns, preds } = await resultsByTask(db, tasks.map((t) => t.id), authors);
  for (const t of tasks as (ReturnType<typeof taskOut> & Record<string, unknown>)[]) {
    const a = anns.get(t.id) ?? [];
    const p = preds.get(t.id) ?? [];
    t.annotators = [...new Set(a.map((x) => x.completed_by_id).filter((x): x is number => x !== null))];
    t.annotations_results = JSON.stringify(a.map((x) => fromJson(x.result)));
    t.predictions_results = JSON.stringify(p.map((x) => fromJson(x.result)));
    t.predictions_score = mean(p.map((x) => x.score).filter((x): x is number => x !== null));
    t.avg_lead_time = mean(a.map((x) => x.lead_time).filter((x): x is number => x !== null));
  }
}

/** `GET /api/projects/{id}/tasks`: a plain array, newest first; page_size 0 or a page past the end is 404. */
const PROJECT_TASK_ORDERINGS = { id: ['id', 'asc'], '-id': ['id', 'desc'], inner_id: ['inner_id', 'asc'], '-inner_id': ['inner_id', 'desc'], created_at: ['created_at', 'asc'], '-created_at': ['created_at', 'desc'], updated_at: ['updated_at', 'asc'], '-updated_at': ['updated_at', 'desc'] } as const;

/** `GET /api/projects/{id}/tasks`: a plain array (newest first by default); page_size 0 or a page past the end is 404. */
export async function listProjectTasks(db: Db, actor: Actor, projectId: number, q: { page?: number | undefined; page_size?: number | undefined; start?: number | undefined; ordering?: string | undefined }) {
  const order = PROJECT_TASK_ORDERINGS[(q.ordering ?? '-id') as keyof typeof PROJECT_TASK_ORDERINGS];
  if (!order) throw invalid({ ordering: [`One of ${Object.keys(PROJECT_TASK_ORDERINGS).join(', ')}.`] });
  const project = await getProjectRow(db, actor, projectId);
  let base = db.selectFrom('tasks').where('project_id', '=', projectId);
  for (const condition of listableTaskConditions(actor, project)) base = base.where(condition);
  const total = Number((await base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
  const size = q.page_size === undefined ? 100 : q.page_size === -1 ? Math.max(total, 1) : q.page_size;
  const offset = q.start ?? ((q.page ?? 1) - 1) * size;
  if (size === 0 || (offset >= total && offset > 0)) throw notFound('Invalid page.');
  const rows = await base.selectAll().orderBy(order[0], order[1]).orderBy('id', 'desc').limit(size).offset(offset).execute();
  return rows.map(taskOut);
}

/** Changes a task's data or meta; data must still carry every key the config reads. */
export async function updateTask(deps: AppDeps, actor: Actor, audit: AuditFn, id: number, body: { data?: Record<string, unknown> | undefined; meta?: Record<string, unknown> | undefined }) {
  const { task, project } = await getTaskWithProject(deps.db, actor, id);
  if (body.data) {
    const problem = missingDataKey(configOf(project), body.data);
    if (problem) throw invalid({ data: [problem] });
  }
  return deps.db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('tasks')
      .set({
        ...(body.data && { data: JSON.stringify(body.data) }),
        ...(body.meta && { meta: JSON.stringify(body.meta) }),
        updated_at: new Date().toISOString(),
        updated_by_id: actor.userId,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, { action: 'task.update', objectType: 'task', objectId: id, projectId: task.project_id, changes: { ...(body.data && { data: { before: taskOut(task).data, after: body.data } }), ...(body.meta && { meta: { before: taskOut(task).meta, after: body.meta } }) } });
    return taskOut(updated);
  });
}

/** Deletes a task with its annotations, predictions and drafts. */
export async function deleteTask(deps: AppDeps, actor: Actor, audit: AuditFn, id: number): Promise<void> {
  const { task } = await getTaskWithProject(deps.db, actor, id);
  const exports = await AnnotationExports.of(deps, task.project_id);
  await deps.db.transaction().execute(async (trx) => {
    await exports.deleting(() => trx.selectFrom('annotations').select('id').where('task_id', '=', id).execute());
    await trx.deleteFrom('tasks').where('id', '=', id).execute();
    await audit(trx, { action: 'task.delete', objectType: 'task', objectId: id, projectId: task.project_id });
  });
  await exports.queue();
}

