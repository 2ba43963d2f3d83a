/**
 * Data-manager views (tabs): a project's saved filters, ordering and column settings. Filters
 * are checked on save (a view can never hold a filter that `GET /api/tasks?view=` would refuse).
 * Any member who sees the project sees its views; changing them needs `task.change`.
 */
import { visibleProjectIds } from '../../authz/scope.js';
import type { AppDeps } from '../../app-deps.js';
import type { Db } from '../../db/database.js';
import { fromJson, type DmViewRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { invalid, notFound } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { getProjectRow } from '../projects/projects.service.js';
import { parseFilters, parseOrdering, type Filters } from './filters.js';
import { assertTaskQueryValid, parseSelection } from './task-query.js';

/** Largest view `data` (JSON bytes) and the title of a view created without one. */
export const MAX_VIEW_DATA_BYTES = 64 * 1024;
export const DEFAULT_VIEW_TITLE = 'Default';

/** Body of create, PATCH and PUT. */
export interface ViewInput {
  project?: number | undefined;
  data?: Record<string, unknown> | undefined;
  order?: number | undefined;
  selected_items?: Record<string, unknown> | null | undefined;
}

/** A view row → Label Studio's view shape; each filter item echoes `child_filters: []`. */
export function viewOut(row: DmViewRow) {
  const data = fromJson<Record<string, unknown>>(row.data);
  const filters = data.filters as Filters | null | undefined;
  return {
    id: row.id,
    project: row.project_id,
    user: row.user_id,
    order: row.order,
    data: filters ? { ...data, filters: { ...filters, items: filters.items.map((i) => ({ ...i, child_filters: [] })) } } : data,
    ordering: (data.ordering as string[] | undefined) ?? [],
    selected_items: row.selected_items === null ? null : fromJson<Record<string, unknown>>(row.selected_items),
  };
}

/** Checks a view's data (filters and ordering compile; size) and returns it canonical, as JSON text. */
async function viewDataJson(db: Db, data: Record<string, unknown>): Promise<string> {
  const filters = parseFilters(data.filters, 'data.filters');
  const ordering = parseOrdering(data.ordering, 'data.ordering');
  await assertTaskQueryValid(db, { filters, ordering, selection: null }).catch((err: unknown) => {
    throw prefixed(err, 'data.');
  });
  const canonical = { ...data, title: typeof data.title === 'string' ? data.title : DEFAULT_VIEW_TITLE, filters: filters ?? { conjunction: 'and', items: [] }, ordering };
  const text = JSON.stringify(canonical);
  if (Buffer.byteLength(text) > MAX_VIEW_DATA_BYTES) throw invalid({ data: [`A view's data is at most ${MAX_VIEW_DATA_BYTES} bytes.`] });
  return text;
}

/** Names validation fields as the request sent them (`data.filters.items[0]…`). */
function prefixed(err: unknown, prefix: string): unknown {
  const e = err as { validationErrors?: Record<string, string[]> };
  if (!e.validationErrors) return err;
  const fields = Object.fromEntries(Object.entries(e.validationErrors).map(([k, v]) => [k.startsWith(prefix) ? k : `${prefix}${k}`, v]));
  return invalid(fields);
}

const selectionJson = (s: Record<string, unknown> | null | undefined) => {
  if (s === undefined || s === null) return null;
  parseSelection(s, 'selected_items');
  return JSON.stringify(s);
};

/** A view the actor may see (its project in their organization), else 404. */
async function getViewRow(db: Db, actor: Actor, id: number): Promise<DmViewRow> {
  const row = await db.selectFrom('dm_views').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('View not found.');
  await getProjectRow(db, actor, row.project_id).catch(() => {
    throw notFound('View not found.');
  });
  return row;
}

/** One view. */
export const getView = async (db: Db, actor: Actor, id: number) => viewOut(await getViewRow(db, actor, id));

/** Views of a project, in tab order; without `project`, every view of the actor's organization. */
export async function listViews(db: Db, actor: Actor, projectId: number | undefined) {
  if (projectId !== undefined) await getProjectRow(db, actor, projectId);
  let q = db.selectFrom('dm_views as v').selectAll('v').where('v.project_id', 'in', visibleProjectIds(db, actor));
  if (projectId !== undefined) q = q.where('v.project_id', '=', projectId);
  const rows = await q.orderBy('v.project_id').orderBy('v.order').orderBy('v.id').limit(10_000).execute();
  return rows.map(viewOut);
}

/** Creates a view in a project (filters checked; 400 naming a bad column or operator). */
export async function createView(deps: AppDeps, actor: Actor, audit: AuditFn, input: ViewInput) {
  if (input.project === undefined) throw invalid({ project: ['This field is required.'] });
  const project = await getProjectRow(deps.db, actor, input.project);
  const data = await viewDataJson(deps.db, input.data ?? {});
  const selected = selectionJson(input.selected_items);
  return deps.db.transaction().execute(async (trx) => {
    const last = await trx.selectFrom('dm_views').select((eb) => eb.fn.max('order').as('m')).where('project_id', '=', project.id).executeTakeFirst();
    const now = new Date().toISOString();
    const row = await trx
      .insertInto('dm_views')
      .values({ project_id: project.id, user_id: actor.userId, order: input.order ?? Number(last?.m ?? -1) + 1, data, selected_items: selected, created_at: now, updated_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, { action: 'view.create', objectType: 'view', objectId: row.id, projectId: project.id, changes: { data: JSON.parse(data) } });
    return viewOut(row);
  });
}

/** Changes a view: PATCH merges the keys of `data` it sends, PUT replaces `data` whole. */
export async function updateView(deps: AppDeps, actor: Actor, audit: AuditFn, id: number, input: ViewInput, mode: 'merge' | 'replace') {
  const row = await getViewRow(deps.db, actor, id);
  if (input.project !== undefined && input.project !== row.project_id) throw invalid({ project: ['A view cannot move to another project.'] });
  const before = fromJson<Record<string, unknown>>(row.data);
  const next = input.data === undefined ? undefined : await viewDataJson(deps.db, mode === 'merge' ? { ...before, ...input.data } : input.data);
  const selected = input.selected_items === undefined ? undefined : selectionJson(input.selected_items);
  return deps.db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('dm_views')
      .set({
        ...(next !== undefined && { data: next }),
        ...(input.order !== undefined && { order: input.order }),
        ...(selected !== undefined && { selected_items: selected }),
        updated_at: new Date().toISOString(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, {
      action: 'view.update',
      objectType: 'view',
      objectId: id,
      projectId: row.project_id,
      changes: { ...(next !== undefined && { data: { before, after: JSON.parse(next) } }), ...(input.order !== undefined && { order: { before: row.order, after: input.order } }) },
    });
    return viewOut(updated);
  });
}

/** Deletes one view. */
export async function deleteView(deps: AppDeps, actor: Actor, audit: AuditFn, id: number): Promise<void> {
  const row = await getViewRow(deps.db, actor, id);
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('dm_views').where('id', '=', id).execute();
    await audit(trx, { action: 'view.delete', objectType: 'view', objectId: id, projectId: row.project_id, changes: { title: fromJson<Record<string, unknown>>(row.data).title } });
  });
}

/** Deletes every view of a project (`DELETE /api/dm/views/reset?project=`); one audit event with the count. */
export async function resetViews(deps: AppDeps, actor: Actor, audit: AuditFn, projectId: number): Promise<void> {
  const project = await getProjectRow(deps.db, actor, projectId);
  await deps.db.transaction().execute(async (trx) => {
    const gone = await trx.deleteFrom('dm_views').where('project_id', '=', project.id).executeTakeFirst();
    await audit(trx, { action: 'view.delete', objectType: 'project', objectId: project.id, projectId: project.id, changes: { reset: true, deleted_views: Number(gone.numDeletedRows) } });
  });
}
