/**
 * Data-manager actions (`/api/dm/actions`): the catalog, and running one on a selection of a
 * project's tasks. A bulk action runs in ONE transaction with ONE audit event carrying its
 * counts; the selection is `selectedItems` narrowed by the filters (a view's, when `view` is given).
 */
import { PostgresAdapter, sql } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import type { AuditAction } from '../../audit/actions.js';
import type { ProjectRow } from '../../db/schema.js';
import { can, type Permission } from '../../authz/permissions.js';
import { assertDataManagerShown, assignedToCondition, isAssignedOnly, seesAllTasks } from '../../authz/data-filters.js';
import type { Actor } from '../../http/actor.js';
import { AppError, forbidden, invalid } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { getProjectRow, settingsOf } from '../projects/projects.service.js';
import { AnnotationExports } from '../storages/annotation-exports.js';
import { getTaskDetail } from '../tasks/tasks.service.js';
import { deleteTasks, deleteTasksAnnotations, deleteTasksPredictions, predictionsToAnnotations, type BulkContext, type BulkOutcome } from './bulk-actions.js';
import { parseFilters, parseOrdering } from './filters.js';
import { dialectOf, parseSelection, resolveTaskQuery, taskConditions, taskOrdering, type TaskQuery } from './task-query.js';

interface Dialog {
  title: string | null;
  text: string | null;
  type: string | null;
  form: Record<string, unknown>[] | null;
}

interface BulkAction {
  id: string;
  title: string;
  order: number;
  permission: Permission;
  dialog: Dialog | null;
  /** Hidden actions are not listed (the UI calls them itself). */
  hidden?: boolean;
  /**
   * The action acts only on the caller's own work (e.g. claims a task for them). Callers without
   * `task.view_all` (Annotators) are offered and may run only these.
   */
  ownWork?: true;
  audit?: { action: AuditAction; objectType: string };
  run?: (ctx: BulkContext) => Promise<BulkOutcome>;
}

const confirm = (title: string, text: string): Dialog => ({ title, text, type: 'confirm', form: null });

/** The actions, Label Studio's ids and order. Permissions are from THE permission table. */
export const ACTIONS: readonly BulkAction[] = [
  { id: 'next_task', title: 'Generate Next Task', order: 0, permission: 'annotation.create', dialog: null, hidden: true, ownWork: true },
  {
    id: 'predictions_to_annotations',
    title: 'Create Annotations From Predictions',
    order: 91,
    permission: 'task.change',
    dialog: confirm('Create Annotations From Predictions', 'Each prediction of the selected tasks becomes an annotation owned by you. Please confirm.'),
    audit: { action: 'annotation.bulk_create', objectType: 'project' },
    run: predictionsToAnnotations,
  },
  {
    id: 'delete_tasks',
    title: 'Delete Tasks',
    order: 100,
    permission: 'task.change',
    dialog: confirm('Delete Tasks', 'The selected tasks will be deleted with their annotations and predictions. Please confirm.'),
    audit: { action: 'task.bulk_delete', objectType: 'project' },
    run: deleteTasks,
  },
  {
    id: 'delete_tasks_annotations',
    title: 'Delete Annotations',
    order: 101,
    permission: 'annotation.change_any',
    dialog: confirm('Delete Annotations', 'All annotations and drafts of the selected tasks will be deleted. Please confirm.'),
    audit: { action: 'annotation.bulk_delete', objectType: 'project' },
    run: deleteTasksAnnotations,
  },
  {
    id: 'delete_tasks_predictions',
    title: 'Delete Predictions',
    order: 102,
    permission: 'task.change',
    dialog: confirm('Delete Predictions', 'All predictions of the selected tasks will be deleted. Please confirm.'),
    audit: { action: 'prediction.bulk_delete', objectType: 'project' },
    run: deleteTasksPredictions,
  },
];

/** The audit actions POST /api/dm/actions may record. */
export const ACTION_AUDITS: readonly AuditAction[] = [...ACTIONS.flatMap((a) => (a.audit ? [a.audit.action] : [])), 'permission.denied'];

/** Whether the actor may run an action at all: its permission, and for callers without `task.view_all` only actions on their own work. */
const mayRun = (actor: Actor, a: BulkAction) => can(actor, a.permission) && (a.ownWork === true || seesAllTasks(actor));

/** The visible actions the actor may run in a project, in order (Label Studio's list shape). */
export async function listActions(deps: AppDeps, actor: Actor, projectId: number) {
  await getProjectRow(deps.db, actor, projectId);
  return ACTIONS.filter((a) => !a.hidden && mayRun(actor, a))
    .sort((a, b) => a.order - b.order)
    .map((a) => ({ id: a.id, title: a.title, order: a.order, permission: a.permission, experimental: false, dialog: a.dialog }));
}

/** The body of POST /api/dm/actions (shapes checked by the route; meaning checked here). */
export interface ActionInput {
  selectedItems?: unknown;
  filters?: unknown;
  ordering?: unknown;
  annotator?: number | null | undefined;
  model_version?: string | string[] | null | undefined;
}

/** The tasks an action request means; a `view` wins over the body's filters and ordering (as in Label Studio). */
async function actionQuery(deps: AppDeps, projectId: number, viewId: number | undefined, body: ActionInput, requireSelection: boolean): Promise<TaskQuery> {
  const selection = parseSelection(body.selectedItems);
  if (requireSelection && !selection) throw invalid({ selectedItems: ['This field is required: {all: false, included: [ids]} or {all: true, excluded: [ids]}.'] });
  const fromBody = viewId === undefined ? { filters: parseFilters(body.filters), ordering: parseOrdering(body.ordering) } : {};
  return resolveTaskQuery(deps.db, projectId, { view: viewId, query: { ...fromBody, selection } });
}

/**
 * Runs an action on the selected tasks of a project: 400 for an unknown action or a bad
 * selection, 403 (recorded) without the action's permission, 404 for another organization's
 * project. Bulk actions answer `{processed_items, detail}`; `next_task` answers a task.
 */
export async function runAction(deps: AppDeps, actor: Actor, audit: AuditFn, q: { id: string; project: number; view?: number | undefined }, body: ActionInput) {
  const action = ACTIONS.find((a) => a.id === q.id);
  if (!action) throw invalid({ id: [`Unknown action "${q.id.slice(0, 100)}". Known: ${ACTIONS.map((a) => a.id).join(', ')}.`] });
  const project = await getProjectRow(deps.db, actor, q.project);
  if (!mayRun(actor, action)) {
    await audit(deps.db, { action: 'permission.denied', objectType: 'action', objectId: action.id, projectId: project.id, changes: { permission: action.permission, role: actor.role } });
    throw forbidden();
  }
  const query = await actionQuery(deps, project.id, q.view, body, action.run !== undefined);
  if (!action.run) return nextTaskAction(deps, actor, project, query);
  const run = action.run;
  const conditions = taskConditions(query, dialectOf(deps.db));
  const exports = await AnnotationExports.of(deps, project.id);
  const out = await deps.db.transaction().execute(async (trx) => {
    const { counts, ...result } = await run({ trx, actor, project, conditions, options: { annotator: body.annotator, model_version: body.model_version }, exports });
    await audit(trx, {
      action: action.audit!.action,
      objectType: action.audit!.objectType,
      objectId: project.id,
      projectId: project.id,
      changes: { data_manager_action: action.id, ...counts, selection: describeSelection(query), filter_items: query.filters?.items.length ?? 0 },
    });
    return result;
  });
  await exports.queue();
  return out;
}

const describeSelection = (q: TaskQuery) => (q.selection ? { all: q.selection.all, [q.selection.all ? 'excluded' : 'included']: q.selection.ids.length } : null);

/** The label stream's advisory-lock key: claims from here and from /next are serialised together. */
const CLAIM_LOCK_KEY = 7240312;

/**
 * `next_task`: the first selected task (in the request's ordering, then id) that still needs an
 * annotation, that the caller has not annotated, and that is not reserved up to capacity by
 * others (in `assigned_only` projects: assigned to the caller); it is reserved for the caller like
 * the label stream does. 404 when none is left. It is a data-manager feature: 403 for Annotators
 * while the project keeps the data manager from them (they use the label stream).
 */
async function nextTaskAction(deps: AppDeps, actor: Actor, project: ProjectRow, query: TaskQuery) {
  assertDataManagerShown(actor, project);
  const d = dialectOf(deps.db);
  const projectId = project.id;
  const maximum = settingsOf(project).maximum_annotations;
  const chosen = await deps.db.transaction().execute(async (trx) => {
    if (trx.getExecutor().adapter instanceof PostgresAdapter) await sql`select pg_advisory_xact_lock(${CLAIM_LOCK_KEY}, ${projectId})`.execute(trx);
    const now = new Date();
    await trx.deleteFrom('task_locks').where('project_id', '=', projectId).where('expires_at', '<=', now.toISOString()).execute();
    let q = trx
      .selectFrom('tasks')
      .select('id')
      .where('project_id', '=', projectId)
      .where('is_labeled', '=', 0)
      .where(sql<boolean>`not exists (select 1 from annotations a where a.task_id = tasks.id and a.completed_by_id = ${actor.userId})`)
      .where(sql<boolean>`tasks.total_annotations + (select count(*) from task_locks l where l.task_id = tasks.id and l.user_id <> ${actor.userId}) < ${maximum}`);
    if (isAssignedOnly(project)) q = q.where(assignedToCondition(actor.userId));
    for (const c of taskConditions(query, d)) q = q.where(c);
    for (const term of taskOrdering(query, d)) q = q.orderBy(term);
    const row = await q.orderBy('id').limit(1).executeTakeFirst();
    if (!row) return undefined;
    await trx.deleteFrom('task_locks').where('task_id', '=', row.id).where('user_id', '=', actor.userId).execute();
    await trx.insertInto('task_locks').values({ task_id: row.id, user_id: actor.userId, project_id: projectId, expires_at: new Date(now.getTime() + deps.config.labeling.taskLockTtlMs).toISOString() }).execute();
    return row.id;
  });
  if (chosen === undefined) throw new AppError(404, 'NO_MORE_TASKS', 'No more tasks to label in this selection.');
  const detail = await getTaskDetail(deps.db, actor, chosen);
  return { ...detail, annotations: detail.annotations.filter((a) => a.completed_by === actor.userId), queue: 'Data manager queue' };
}
