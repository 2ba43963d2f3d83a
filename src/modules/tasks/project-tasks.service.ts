/** Whole-project task operations: create one task (`POST /api/tasks`) and delete them all. */
import type { AppDeps } from '../../app-deps.js';
import { isForbiddenKey } from '../imports/task-shape.js';
import type { Actor } from '../../http/actor.js';
import { invalid } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { importTasks } from '../imports/import.service.js';
import { getProjectRow } from '../projects/projects.service.js';
import { AnnotationExports } from '../storages/annotation-exports.js';
import { getTaskDetail } from './tasks.service.js';

/** Creates one task from `{project, data, meta?}` through the import path (same checks, same audit). */
export async function createTask(deps: AppDeps, actor: Actor, audit: AuditFn, input: { project: number; data: Record<string, unknown>; meta?: Record<string, unknown> | undefined }) {
  const project = await getProjectRow(deps.db, actor, input.project).catch(() => {
    throw invalid({ project: ['No such project in your organization.'] });
  });
  const bad = Object.keys(input.data).find(isForbiddenKey);
  if (bad) throw invalid({ data: [`The key "${bad}" is not allowed.`] });
  const summary = await importTasks(deps, actor, audit, project, [{ index: 0, data: input.data, meta: input.meta ?? {}, annotations: [], predictions: [] }], { returnTaskIds: true });
  return getTaskDetail(deps.db, actor, summary.task_ids![0]!);
}

/** Deletes every task of a project (with annotations, predictions and drafts), in one transaction. */
export async function deleteAllTasks(deps: AppDeps, actor: Actor, audit: AuditFn, projectId: number): Promise<number> {
  await getProjectRow(deps.db, actor, projectId);
  const exports = await AnnotationExports.of(deps, projectId);
  const deleted = await deps.db.transaction().execute(async (trx) => {
    await exports.deleting(() => trx.selectFrom('annotations').select('id').where('project_id', '=', projectId).execute());
    const res = await trx.deleteFrom('tasks').where('project_id', '=', projectId).executeTakeFirst();
    const n = Number(res.numDeletedRows);
    await audit(trx, { action: 'task.bulk_delete', objectType: 'project', objectId: projectId, projectId, changes: { deleted: n } });
    return n;
  });
  await exports.queue();
  return deleted;
}
