/**
 * What the data manager reads about a project: `GET /api/dm/project` (the project with its
 * counts and what the caller may do) and `GET /api/projects/{id}/summary` (which data columns
 * the tasks have), both computed in the database, never by loading tasks.
 */
import { sql } from 'kysely';
import { can } from '../../authz/permissions.js';
import type { Db } from '../../db/database.js';
import type { Actor } from '../../http/actor.js';
import { countersOf } from '../projects/projects.repository.js';
import { getProjectRow, projectResponse } from '../projects/projects.service.js';
import { dialectOf } from './task-query.js';

/** Most distinct data keys a summary reports (the most frequent first). */
export const MAX_SUMMARY_COLUMNS = 10_000;

/**
 * `GET /api/dm/project?project=`: Label Studio's project shape (with `parsed_label_config` and
 * `config_has_control_tags`) plus `task_count`, `annotation_count` and the caller's abilities.
 */
export async function dmProject(db: Db, actor: Actor, projectId: number) {
  const p = await getProjectRow(db, actor, projectId);
  const counters = (await countersOf(db, [p.id])).get(p.id)!;
  return {
    ...(await projectResponse(db, p, counters)),
    task_count: counters.task_number,
    // Label Studio counts every annotation here, skipped ones included.
    annotation_count: counters.total_annotations_number + counters.skipped_annotations_number,
    can_delete_tasks: can(actor, 'task.change'),
    can_manage_annotations: can(actor, 'annotation.change_any'),
    can_manage_tasks: can(actor, 'task.change'),
  };
}

/** Top-level data keys → number of tasks having each, in one grouped query (json_each / jsonb_object_keys). */
async function dataColumnCounts(db: Db, projectId: number): Promise<{ key: string; n: number }[]> {
  const query =
    dialectOf(db) === 'postgres'
      ? sql<{ key: string; n: number }>`select k.key as key, count(*) as n from tasks t cross join lateral jsonb_object_keys(case when jsonb_typeof(t.data) = 'object' then t.data else '{}'::jsonb end) as k(key) where t.project_id = ${projectId} group by k.key order by n desc, key limit ${MAX_SUMMARY_COLUMNS}`
      : sql<{ key: string; n: number }>`select j.key as key, count(*) as n from tasks t, json_each(t.data) j where t.project_id = ${projectId} and json_type(t.data) = 'object' group by j.key order by n desc, key limit ${MAX_SUMMARY_COLUMNS}`;
  return (await query.execute(db)).rows.map((r) => ({ key: r.key, n: Number(r.n) }));
}

/**
 * `GET /api/projects/{id}/summary`: `all_data_columns` (data key → how many tasks have it) and
 * `common_data_columns` (the keys every task has).
 */
export async function projectSummary(db: Db, actor: Actor, projectId: number) {
  const p = await getProjectRow(db, actor, projectId);
  const total = Number((await db.selectFrom('tasks').select(sql<number>`count(*)`.as('n')).where('project_id', '=', p.id).executeTakeFirstOrThrow()).n);
  const columns = await dataColumnCounts(db, p.id);
  return {
    project: p.id,
    created_at: p.created_at,
    all_data_columns: Object.fromEntries(columns.map((c) => [c.key, c.n])),
    common_data_columns: total === 0 ? [] : columns.filter((c) => c.n === total).map((c) => c.key).sort(),
  };
}
