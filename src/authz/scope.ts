/**
 * Object-level access: how a route finds the organization, workspace and project of the object
 * it acts on, and who may see that project. With `permissions.ts` this is the whole of the
 * access logic: routes declare a `ScopeRule`, `registerRoutes` resolves it before the handler
 * runs, and list queries narrow themselves with `visibleProjectIds`.
 *
 * Rules: an object outside the caller's active organization, or inside it but in a project the
 * caller does not work in, is "not found" (404, its existence is not revealed). Holders of
 * `workspace.view_all` (Administrators, Owners) see every project of the organization; everyone
 * else sees the projects of the workspaces they are members of and the projects they were added to.
 */
import type { ExpressionBuilder, SelectQueryBuilder } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database, ProjectRow, WorkspaceRow } from '../db/schema.js';
import type { Actor } from '../http/actor.js';
import { can, type Role } from './permissions.js';

/** Where a route reads an object's id: a path parameter, a query parameter or a body field. */
export type Locator = { param: string } | { query: string } | { body: string };

/** The kinds of objects a route can be scoped to, each resolved to its project or organization. */
export const SCOPED_KINDS = ['organization', 'workspace', 'project', 'task', 'annotation', 'prediction', 'draft', 'view', 'review', 'storage', 'export_storage'] as const;
export type ScopedKind = (typeof SCOPED_KINDS)[number];

/**
 * A route's scope declaration:
 * - `'account'`: the caller's own account (profile, tokens); no organization object.
 * - `'organization'`: the caller's active organization as a whole (lists filter by visibility).
 * - `{ <kind>: locator }`: one object, found through the locator; `optional` lets the id be absent
 *   (the route then acts on the whole organization and filters by visibility).
 */
export type ScopeRule = 'account' | 'organization' | ({ [K in ScopedKind]?: Locator } & { optional?: true });

/** What a scope resolved to. */
export interface ResolvedScope {
  organizationId: number;
  workspaceId: number | null;
  project: ProjectRow | null;
}

/** The kind and locator of an object rule (exactly one kind), or null for account/organization rules. */
export function objectRule(rule: ScopeRule | undefined): { kind: ScopedKind; locator: Locator; optional: boolean } | null {
  if (rule === undefined || typeof rule === 'string') return null;
  const kinds = SCOPED_KINDS.filter((k) => rule[k] !== undefined);
  if (kinds.length !== 1) throw new Error(`A scope rule names exactly one kind of object (got ${kinds.join(', ') || 'none'})`);
  return { kind: kinds[0]!, locator: rule[kinds[0]!]!, optional: rule.optional === true };
}

/** The largest id any route accepts (the `Id()` schema's bound), so no database sees an out-of-range integer. */
const MAX_ID = 2_147_483_647;

/** Reads a locator's value from a request's parts: a positive integer, `undefined` when absent, NaN when malformed or out of range. */
export function locate(locator: Locator, parts: { params: unknown; query: unknown; body: unknown }): number | undefined {
  const [source, key] = 'param' in locator ? [parts.params, locator.param] : 'query' in locator ? [parts.query, locator.query] : [parts.body, locator.body];
  const raw = source && typeof source === 'object' ? (source as Record<string, unknown>)[key] : undefined;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,15}$/.test(raw.trim()) ? Number(raw) : NaN;
  return Number.isSafeInteger(n) && n > 0 && n <= MAX_ID ? n : NaN;
}

/** Table holding each object kind, and the project id column on it. */
const PROJECT_OF = {
  task: 'tasks',
  annotation: 'annotations',
  prediction: 'predictions',
  draft: 'drafts',
  view: 'dm_views',
  review: 'annotation_reviews',
  storage: 'import_storages',
  export_storage: 'export_storages',
} as const;

/** Whether the actor works in the project (membership or `workspace.view_all`); false for other organizations. */
export async function canSeeProject(db: Db, actor: Actor, p: Pick<ProjectRow, 'id' | 'organization_id' | 'workspace_id'>): Promise<boolean> {
  if (p.organization_id !== actor.organizationId) return false;
  if (can(actor, 'workspace.view_all')) return true;
  const direct = await db.selectFrom('project_members').select('id').where('project_id', '=', p.id).where('user_id', '=', actor.userId).executeTakeFirst();
  if (direct) return true;
  if (p.workspace_id === null) return false;
  return isWorkspaceMember(db, actor.userId, p.workspace_id);
}

/**
 * Whether another user (not the caller) works in a project, by the same rules as `canSeeProject`:
 * `role` is that user's role in the project's organization (the caller looks it up, so a user
 * of another organization never gets here). Used to check assignees before work is given to them.
 */
export async function userCanSeeProject(db: Db, userId: number, role: Role, p: Pick<ProjectRow, 'id' | 'workspace_id'>): Promise<boolean> {
  if (can({ role }, 'workspace.view_all')) return true;
  const direct = await db.selectFrom('project_members').select('id').where('project_id', '=', p.id).where('user_id', '=', userId).executeTakeFirst();
  if (direct) return true;
  return p.workspace_id !== null && isWorkspaceMember(db, userId, p.workspace_id);
}

/** Whether a user is a member of a workspace. */
export async function isWorkspaceMember(db: Db, userId: number, workspaceId: number): Promise<boolean> {
  const row = await db.selectFrom('workspace_members').select('id').where('workspace_id', '=', workspaceId).where('user_id', '=', userId).executeTakeFirst();
  return row !== undefined;
}

/**
 * Whether the actor sees a workspace: its organization, and membership or `workspace.view_all`.
 * A personal sandbox is private to the user it belongs to: everyone else, Administrators and
 * Owners included, gets "not found" (its projects are reached through the projects themselves).
 */
export async function canSeeWorkspace(db: Db, actor: Actor, ws: Pick<WorkspaceRow, 'id' | 'organization_id' | 'is_personal' | 'created_by_id'>): Promise<boolean> {
  if (ws.organization_id !== actor.organizationId) return false;
  if (ws.is_personal === 1) return ws.created_by_id === actor.userId;
  return can(actor, 'workspace.view_all') || isWorkspaceMember(db, actor.userId, ws.id);
}

/** The set form of `canSeeWorkspace`: narrows a query over `workspaces` to those the actor sees. */
export function whereWorkspaceVisible<O>(qb: SelectQueryBuilder<Database, 'workspaces', O>, actor: Actor): SelectQueryBuilder<Database, 'workspaces', O> {
  const viewAll = can(actor, 'workspace.view_all');
  return qb.where('workspaces.organization_id', '=', actor.organizationId).where((eb) =>
    eb.or([
      eb.and([eb('workspaces.is_personal', '=', 1), eb('workspaces.created_by_id', '=', actor.userId)]),
      eb.and([
        eb('workspaces.is_personal', '=', 0),
        ...(viewAll ? [] : [eb('workspaces.id', 'in', eb.selectFrom('workspace_members').select('workspace_members.workspace_id').where('workspace_members.user_id', '=', actor.userId))]),
      ]),
    ]),
  );
}

/**
 * Narrows a query over `projects` to those the actor sees. Use it in every list that spans
 * projects (project lists, predictions without a project filter, workspace project lists).
 */
export function whereProjectVisible<O>(qb: SelectQueryBuilder<Database, 'projects', O>, actor: Actor): SelectQueryBuilder<Database, 'projects', O> {
  const inOrg = qb.where('projects.organization_id', '=', actor.organizationId);
  if (can(actor, 'workspace.view_all')) return inOrg;
  return inOrg.where((eb) =>
    eb.or([
      eb('projects.workspace_id', 'in', eb.selectFrom('workspace_members').select('workspace_members.workspace_id').where('workspace_members.user_id', '=', actor.userId)),
      eb('projects.id', 'in', eb.selectFrom('project_members').select('project_members.project_id').where('project_members.user_id', '=', actor.userId)),
    ]),
  );
}

/** A subquery of the ids of the projects the actor sees, for `where('project_id', 'in', …)`. */
export function visibleProjectIds(db: Db, actor: Actor) {
  return whereProjectVisible(db.selectFrom('projects'), actor).select('projects.id');
}

/** An expression-builder form of `visibleProjectIds`, for use inside a `where` callback. */
export function projectVisibleIn(eb: ExpressionBuilder<Database, any>, actor: Actor) {
  return whereProjectVisible(eb.selectFrom('projects'), actor).select('projects.id');
}

/** The project an object of a kind belongs to, or undefined. */
async function projectOfObject(db: Db, kind: ScopedKind, id: number): Promise<ProjectRow | undefined> {
  if (kind === 'project') return db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
  const table = PROJECT_OF[kind as keyof typeof PROJECT_OF];
  return db
    .selectFrom('projects')
    .selectAll('projects')
    .where('projects.id', '=', (eb) => eb.selectFrom(table).select(`${table}.project_id` as any).where(`${table}.id` as any, '=', id))
    .executeTakeFirst();
}

const NOT_FOUND_NAMES: Record<ScopedKind, string> = {
  organization: 'Organization',
  workspace: 'Workspace',
  project: 'Project',
  task: 'Task',
  annotation: 'Annotation',
  prediction: 'Prediction',
  draft: 'Draft',
  view: 'View',
  review: 'Review',
  storage: 'Storage',
  export_storage: 'Storage',
};

/** How resolving a scope ended: the scope, or why the object is hidden (and whether it exists). */
export type ScopeOutcome = { ok: ResolvedScope } | { hidden: string; exists: boolean };

/**
 * Resolves an object rule for an actor: finds the object, its project and organization, and
 * decides visibility. The caller turns `hidden` into a 404.
 */
export async function resolveObjectScope(db: Db, actor: Actor, kind: ScopedKind, id: number | undefined): Promise<ScopeOutcome> {
  const missing = { hidden: `${NOT_FOUND_NAMES[kind]} not found.`, exists: false };
  if (id === undefined) return { ok: { organizationId: actor.organizationId, workspaceId: null, project: null } };
  if (kind === 'organization') {
    if (id !== actor.organizationId) return { ...missing, exists: true };
    return { ok: { organizationId: id, workspaceId: null, project: null } };
  }
  if (kind === 'workspace') {
    const ws = await db.selectFrom('workspaces').select(['id', 'organization_id', 'is_personal', 'created_by_id']).where('id', '=', id).executeTakeFirst();
    if (!ws) return missing;
    if (!(await canSeeWorkspace(db, actor, ws))) return { ...missing, exists: true };
    return { ok: { organizationId: ws.organization_id, workspaceId: ws.id, project: null } };
  }
  const project = await projectOfObject(db, kind, id);
  if (!project) return missing;
  if (!(await canSeeProject(db, actor, project))) return { ...missing, exists: true };
  return { ok: { organizationId: project.organization_id, workspaceId: project.workspace_id, project } };
}
