/** Projects: create, read, list, change (config changes checked against annotations), delete. */
import { sql, type Transaction } from 'kysely';
import sanitizeHtml from 'sanitize-html';
import { canSeeProject, whereProjectVisible } from '../../authz/scope.js';
import { containsText } from '../../db/sql-helpers.js';
import type { AppDeps } from '../../app-deps.js';
import type { Db } from '../../db/database.js';
import { fromJson, type Database, type ProjectRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { pageWindow } from '../../http/common-schemas.js';
import { invalid, notFound } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { removeProjectSnapshotFiles } from '../exports/snapshot.job.js';
import { removeProjectUploadFiles } from '../imports/upload-keys.js';
import { droppedInUse, labelsUsedIn, mergeLabelUsage, type LabelUsage } from '../label-config/config-change.js';
import { parseLabelConfig, type LabelConfig } from '../label-config/label-config.parser.js';
import { targetWorkspace } from '../workspaces/workspaces.repository.js';
import { countersOf, findProject, type ProjectCounters } from './projects.repository.js';
import { PROJECT_SETTING_DEFAULTS, SETTING_KEYS, type ProjectInput, type ProjectOut, type ProjectSettings } from './projects.schemas.js';

export const EMPTY_CONFIG = '<View></View>';

/**
 * Instructions are HTML shown to annotators: keep formatting, drop scripts, event handlers and
 * `style` (a positioned overlay could cover the labeling screen); links go only to http, https
 * or mailto, and only images may be inline `data:`.
 */
export function sanitizeInstruction(html: string): string {
  return sanitizeHtml(html, {
    allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img', 'h1', 'h2', 'span', 'u', 's'],
    allowedAttributes: { a: ['href', 'title', 'target', 'rel'], img: ['src', 'alt', 'width', 'height'], '*': ['class'] },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    allowProtocolRelative: false,
  });
}

/** The project if the actor works in it (see authz/scope.ts); otherwise "not found" (never "forbidden"). */
export async function getProjectRow(db: Db, actor: Actor, id: number): Promise<ProjectRow> {
  const p = await findProject(db, id);
  if (!p || !(await canSeeProject(db, actor, p))) throw notFound('Project not found.');
  return p;
}

/** A project's settings with Label Studio's defaults filled in. */
export const settingsOf = (p: ProjectRow): ProjectSettings => ({ ...PROJECT_SETTING_DEFAULTS, ...fromJson<Partial<ProjectSettings>>(p.settings) });
const parsedConfigs = new Map<string, Readonly<LabelConfig>>();
const PARSED_CONFIG_CACHE = 200;

/**
 * A project's parsed labeling config. Parsing the XML on every annotation showed in profiles, so
 * parsed configs are kept by their text (bounded; the text is the key, so an edited config is
 * simply a new entry). Callers only read the result.
 */
export function configOf(p: ProjectRow): LabelConfig {
  const hit = parsedConfigs.get(p.label_config);
  if (hit) return hit as LabelConfig;
  const parsed = parseLabelConfig(p.label_config);
  parsedConfigs.set(p.label_config, parsed);
  if (parsedConfigs.size > PARSED_CONFIG_CACHE) parsedConfigs.delete(parsedConfigs.keys().next().value!);
  return parsed;
}

/** A project row and its counters → Label Studio's project shape. */
export async function projectResponse(db: Db, p: ProjectRow, counters?: ProjectCounters): Promise<ProjectOut> {
  const c = counters ?? (await countersOf(db, [p.id])).get(p.id)!;
  const creator = p.created_by_id === null ? undefined : await db.selectFrom('users').select(['id', 'first_name', 'last_name', 'email']).where('id', '=', p.created_by_id).executeTakeFirst();
  const config = configOf(p);
  return {
    id: p.id,
    organization: p.organization_id,
    workspace: p.workspace_id,
    title: p.title,
    description: p.description,
    label_config: p.label_config,
    expert_instruction: p.expert_instruction,
    model_version: p.model_version,
    pinned_at: p.pinned_at,
    ...settingsOf(p),
    created_by: creator ? { ...creator, avatar: null } : null,
    created_at: p.created_at,
    updated_at: p.updated_at,
    start_training_on_annotation_update: false,
    task_data_login: null,
    task_data_password: null,
    parsed_label_config: config.parsed,
    config_has_control_tags: config.controls.length > 0,
    config_suitable_for_bulk_annotation: config.controls.length > 0 && config.controls.every((ctl) => ['choices', 'taxonomy'].includes(ctl.type.toLowerCase())),
    ...c,
    queue_total: c.task_number,
    queue_done: c.finished_task_number,
  };
}

function splitInput(input: ProjectInput) {
  const settings: Partial<ProjectSettings> = {};
  for (const k of SETTING_KEYS) if (input[k] !== undefined) (settings as Record<string, unknown>)[k] = input[k];
  return settings;
}

/** Creates a project in the actor's organization. The config is validated first (400 naming the problem). */
export async function createProject(deps: AppDeps, actor: Actor, audit: AuditFn, input: ProjectInput): Promise<ProjectOut> {
  const labelConfig = input.label_config?.trim() ? input.label_config : EMPTY_CONFIG;
  parseLabelConfig(labelConfig);
  const now = new Date().toISOString();
  const settings = { ...PROJECT_SETTING_DEFAULTS, ...splitInput(input) };
  const row = await deps.db.transaction().execute(async (trx) => {
    const workspace = await targetWorkspace(trx, actor, input.workspace);
    const p = await trx
      .insertInto('projects')
      .values({
        organization_id: actor.organizationId,
        workspace_id: workspace.id,
        title: input.title ?? '',
        description: input.description ?? '',
        label_config: labelConfig,
        expert_instruction: sanitizeInstruction(input.expert_instruction ?? ''),
        settings: JSON.stringify(settings),
        model_version: input.model_version ?? '',
        pinned_at: input.pinned_at ?? null,
        created_by_id: actor.userId,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, { action: 'project.create', objectType: 'project', objectId: p.id, projectId: p.id, changes: { title: p.title, label_config: labelConfig } });
    return p;
  });
  return projectResponse(deps.db, row);
}

/**
 * The controls, labels and objects existing annotations and drafts use in a project, read in
 * batches of results, each folded into one summary so memory stays flat.
 */
async function usageOf(db: Db, projectId: number): Promise<LabelUsage[]> {
  let usage: LabelUsage[] = [];
  for (const table of ['annotations', 'drafts'] as const) {
    let after = 0;
    for (;;) {
      const rows = await db.selectFrom(table).select(['id', 'result']).where('project_id', '=', projectId).where('id', '>', after).orderBy('id').limit(2000).execute();
      if (rows.length === 0) break;
      usage = mergeLabelUsage(usage, labelsUsedIn(rows.map((r) => fromJson(r.result))));
      after = rows[rows.length - 1]!.id;
    }
  }
  return usage;
}

/** Problems a new config would cause for existing annotations (empty when the change is safe). */
export async function configChangeProblems(db: Db, p: ProjectRow, newConfig: string): Promise<string[]> {
  const next = parseLabelConfig(newConfig);
  return droppedInUse(configOf(p), next, await usageOf(db, p.id));
}

/** Recomputes `is_labeled` of every task of a project for a new `maximum_annotations`, in one statement. */
async function relabelTasks(trx: Transaction<Database>, projectId: number, maximumAnnotations: number): Promise<void> {
  await trx
    .updateTable('tasks')
    .set({ is_labeled: sql<number>`case when total_annotations >= ${maximumAnnotations} then 1 else 0 end` })
    .where('project_id', '=', projectId)
    .execute();
}

/**
 * Changes a project; a config that would drop a label or control in use is refused, naming them.
 * A new `maximum_annotations` recomputes every task's `is_labeled` in the same transaction.
 */
export async function updateProject(deps: AppDeps, actor: Actor, audit: AuditFn, id: number, input: ProjectInput): Promise<ProjectOut> {
  const p = await getProjectRow(deps.db, actor, id);
  if (input.label_config !== undefined && input.label_config !== p.label_config) {
    const problems = await configChangeProblems(deps.db, p, input.label_config.trim() ? input.label_config : EMPTY_CONFIG);
    if (problems.length > 0) throw invalid({ label_config: problems });
  }
  const before = settingsOf(p);
  const settings = { ...before, ...splitInput(input) };
  const columns = {
    ...(input.title !== undefined && { title: input.title }),
    ...(input.description !== undefined && { description: input.description }),
    ...(input.label_config !== undefined && { label_config: input.label_config.trim() ? input.label_config : EMPTY_CONFIG }),
    ...(input.expert_instruction !== undefined && { expert_instruction: sanitizeInstruction(input.expert_instruction) }),
    ...(input.model_version !== undefined && { model_version: input.model_version }),
    ...(input.pinned_at !== undefined && { pinned_at: input.pinned_at }),
  };
  if (input.workspace !== undefined && input.workspace !== p.workspace_id) {
    const ws = await targetWorkspace(deps.db, actor, input.workspace);
    (columns as Record<string, unknown>).workspace_id = ws.id;
  }
  const diff: Record<string, { before: unknown; after: unknown }> = {};
  for (const [k, v] of Object.entries(columns)) if (v !== p[k as keyof ProjectRow]) diff[k] = { before: p[k as keyof ProjectRow], after: v };
  for (const k of SETTING_KEYS) if (JSON.stringify(settings[k]) !== JSON.stringify(before[k])) diff[k] = { before: before[k], after: settings[k] };
  const row = await deps.db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('projects')
      .set({ ...columns, settings: JSON.stringify(settings), updated_at: new Date().toISOString() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (diff.maximum_annotations) await relabelTasks(trx, id, settings.maximum_annotations);
    if (diff.label_config) await audit(trx, { action: 'project.config_change', objectType: 'project', objectId: id, projectId: id, changes: { label_config: diff.label_config } });
    const rest = Object.fromEntries(Object.entries(diff).filter(([k]) => k !== 'label_config'));
    if (Object.keys(rest).length > 0) await audit(trx, { action: 'project.update', objectType: 'project', objectId: id, projectId: id, changes: rest });
    return updated;
  });
  return projectResponse(deps.db, row);
}

/**
 * Deletes a project with its tasks, annotations and predictions; once that has committed, its
 * uploaded files and export snapshots go from the file store too.
 */
export async function deleteProject(deps: AppDeps, actor: Actor, audit: AuditFn, id: number): Promise<void> {
  const p = await getProjectRow(deps.db, actor, id);
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('projects').where('id', '=', id).execute();
    await audit(trx, { action: 'project.delete', objectType: 'project', objectId: id, projectId: id, changes: { title: p.title } });
  });
  // The project is gone whatever happens next: a file store that cannot be reached leaves its
  // uploaded and snapshot files behind (unreachable: no row points at them), said in a process warning.
  const warn = (what: string) => (err: unknown) =>
    process.emitWarning(`${what} of deleted project ${id} were not removed from the file store: ${err instanceof Error ? err.message : String(err)}`);
  await removeProjectUploadFiles(deps, id).catch(warn('Uploaded files'));
  await removeProjectSnapshotFiles(deps, id).catch(warn('Snapshot files'));
}

export interface ListQuery {
  page?: number | undefined;
  page_size?: number | undefined;
  ids?: string | undefined;
  ordering?: string | undefined;
  title?: string | undefined;
  search?: string | undefined;
  filter?: string | undefined;
}

const ORDERINGS: Record<string, ['id' | 'created_at' | 'title' | 'pinned_at', 'asc' | 'desc']> = {
  id: ['id', 'asc'],
  '-id': ['id', 'desc'],
  created_at: ['created_at', 'asc'],
  '-created_at': ['created_at', 'desc'],
  title: ['title', 'asc'],
  '-title': ['title', 'desc'],
  pinned_at: ['pinned_at', 'asc'],
  '-pinned_at': ['pinned_at', 'desc'],
};

/** Projects of the actor's organization, filtered and paged as Label Studio pages them (404 past the end). */
export async function listProjects(db: Db, actor: Actor, q: ListQuery) {
  let base = whereProjectVisible(db.selectFrom('projects'), actor);
  if (q.ids) {
    const ids = q.ids.split(',').map((s) => Number(s.trim()));
    if (ids.some((n) => !Number.isInteger(n) || n < 1)) throw invalid({ ids: ['A comma-separated list of project ids.'] });
    base = base.where('id', 'in', ids);
  }
  const text = q.title ?? q.search;
  if (text) base = base.where(containsText('title', text));
  if (q.filter === 'pinned_only') base = base.where('pinned_at', 'is not', null);
  else if (q.filter === 'exclude_pinned') base = base.where('pinned_at', 'is', null);
  const order = ORDERINGS[q.ordering ?? '-created_at'];
  if (!order) throw invalid({ ordering: [`One of ${Object.keys(ORDERINGS).join(', ')}.`] });
  const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const window = pageWindow(q, total);
  const rows = await base.selectAll().orderBy(order[0], order[1]).orderBy('id', 'desc').limit(window.size).offset(window.offset).execute();
  const counters = await countersOf(db, rows.map((r) => r.id));
  const items = await Promise.all(rows.map((r) => projectResponse(db, r, counters.get(r.id))));
  return { total, window, items };
}
