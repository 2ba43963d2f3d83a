/**
 * The access matrix: every route × every role × (own project, another project of the same
 * organization, another organization), against the real server on SQLite and PostgreSQL.
 *
 * The expected answer is computed from the permission table (GRANTS) and the route's declared
 * scope, never written per case: Not activated / Deactivated → 401; an object in another
 * organization, or in a project the role does not work in → 404; a role without the route's
 * permission → 403; otherwise the request succeeds. Each route has a recipe below that builds a
 * valid request for a given place and caller (fresh objects for destructive calls); a route
 * without a recipe fails the test, so new routes cannot escape the matrix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANTS, type Permission, type Role } from '../../src/authz/permissions.js';
import { objectRule } from '../../src/authz/scope.js';
import type { AnyRoute } from '../../src/http/route.js';
import { allRoutes } from '../../src/routes.js';
import { call, DIALECTS, inPool, startServer, type Res, type TestServer } from '../harness.js';
import { makeMember, makeOrganization, makeWorkspace, PASSWORD, type Member } from '../factories.js';
import { makeServiceAccount, startGcsDouble, type GcsDouble } from '../storage/gcs-double.js';
import { storageRecipes } from './access-matrix.storages.js';

const CONFIG = '<View><Image name="image" value="$image"/><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>';
const choice = [{ id: 'r1', from_name: 'c', to_name: 'text', type: 'choices', value: { choices: ['A'] } }];
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082', 'hex');

type Rel = 'own' | 'sibling' | 'foreign';
const ROLES: Role[] = ['OW', 'AD', 'MA', 'RE', 'AN', 'NO', 'DI'];

/** A project with the people around it: `owner` administers its organization, `labeler` annotates in it. */
interface Place {
  rel: Rel;
  orgId: number;
  workspaceId: number;
  projectId: number;
  owner: Member;
  labeler: Member;
  /** Path of an uploaded image served by /data/upload. */
  media: string;
}

interface Req {
  path: string;
  method?: string;
  body?: unknown;
  form?: FormData;
  /** Call as this member instead (a fresh member of the same role, for calls that spend the caller's credentials). */
  as?: Member;
  /** Success statuses when access is granted (default 200, 201, 204). */
  ok?: number[];
  anonymous?: boolean;
}

interface Ctx {
  place: Place;
  caller: Member;
  role: Role;
  /** Whether the caller works in the place's project (then objects are authored by the caller). */
  sees: boolean;
  /** The caller, or the place's labeler when the caller cannot work there. */
  author: Member;
  fresh: Fresh;
  orgA: number;
}

const holds = (role: Role, p: Permission) => (GRANTS[role] as readonly string[]).includes(p);

/** The answer the permission table and the route's scope rule call for. */
function expected(route: AnyRoute, role: Role, rel: Rel): 'allowed' | 401 | 403 | 404 {
  if (role === 'NO' || role === 'DI') return 401;
  const rule = objectRule(route.scope);
  if (rule && rel === 'foreign') return 404;
  if (rule && rel === 'sibling' && rule.kind !== 'organization' && !holds(role, 'workspace.view_all')) return 404;
  if (!holds(role, route.access as Permission)) return 403;
  return 'allowed';
}

/** The places a route is tried in: object routes in all three, organization objects in two, the rest once. */
function relsOf(route: AnyRoute): Rel[] {
  const rule = objectRule(route.scope);
  if (!rule) return ['own'];
  if (rule.kind === 'organization') return ['own', 'foreign'];
  return ['own', 'sibling', 'foreign'];
}

/** Makers of fresh objects, through the API as the place's owner (or the given author). */
class Fresh {
  constructor(
    private s: TestServer,
    private members: Record<Role, Member>,
  ) {}

  private async ok(r: Res, what: string) {
    if (r.status >= 300) throw new Error(`fixture ${what} failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async project(p: Place): Promise<number> {
    const body = { title: 'M', label_config: CONFIG, workspace: p.workspaceId, show_data_manager_to_annotators: true };
    return (await this.ok(await call(this.s, 'POST', '/api/projects', { token: p.owner.token, body }), 'project')).id;
  }
  async task(p: Place, projectId = p.projectId): Promise<number> {
    return (await this.ok(await call(this.s, 'POST', '/api/tasks', { token: p.owner.token, body: { project: projectId, data: { text: 'hello', image: p.media } } }), 'task')).id;
  }
  /** Assigns a task to a member for annotation, as the place's owner (Annotators write only on tasks they may open). */
  async assign(p: Place, task: number, member: Member): Promise<void> {
    await this.ok(await call(this.s, 'POST', `/api/projects/${p.projectId}/tasks/${task}/assignees`, { token: p.owner.token, body: { type: 'AN', users: [member.id] } }), 'assignment');
  }
  /** A fresh task of the place's project, assigned to `member` for annotation. */
  async taskFor(p: Place, member: Member): Promise<number> {
    const task = await this.task(p);
    await this.assign(p, task, member);
    return task;
  }
  async annotation(p: Place, author: Member): Promise<{ task: number; id: number }> {
    const task = await this.taskFor(p, author);
    const a = await this.ok(await call(this.s, 'POST', `/api/tasks/${task}/annotations`, { token: author.token, body: { result: choice } }), 'annotation');
    return { task, id: a.id };
  }
  async draft(p: Place, author: Member): Promise<{ task: number; id: number }> {
    const task = await this.taskFor(p, author);
    return { task, id: (await this.ok(await call(this.s, 'POST', `/api/tasks/${task}/drafts`, { token: author.token, body: { result: choice } }), 'draft')).id };
  }
  /** A review of `annotator`'s annotation (by default the labeler's), written by `reviewer`. */
  async review(p: Place, reviewer: Member, annotator: Member = p.labeler): Promise<number> {
    const a = await this.annotation(p, annotator);
    return (await this.ok(await call(this.s, 'POST', '/api/annotation-reviews', { token: reviewer.token, body: { annotation: a.id, accepted: true } }), 'review')).id;
  }
  /** An empty workspace of the place's organization, with the caller as member when it works there. */
  async workspace(c: Ctx): Promise<number> {
    return makeWorkspace(this.s.deps, c.place.orgId, c.sees && c.place.rel === 'own' ? [c.caller, c.place.labeler] : [c.place.labeler], 'Fresh');
  }
  /** A fresh member of the place's organization added to the place's project only. */
  async projectMember(p: Place): Promise<Member> {
    const m = await makeMember(this.s.deps, p.orgId, 'AN');
    await this.s.deps.db.insertInto('project_members').values({ project_id: p.projectId, user_id: m.id, created_at: new Date().toISOString() }).execute();
    return m;
  }
  async prediction(p: Place): Promise<number> {
    const task = await this.task(p);
    return (await this.ok(await call(this.s, 'POST', '/api/predictions', { token: p.owner.token, body: { task, result: choice, score: 0.5 } }), 'prediction')).id;
  }
  async view(p: Place): Promise<number> {
    return (await this.ok(await call(this.s, 'POST', '/api/dm/views', { token: p.owner.token, body: { project: p.projectId, data: { title: 'Tab' } } }), 'view')).id;
  }
  async snapshot(p: Place): Promise<number> {
    const id = (await this.ok(await call(this.s, 'POST', `/api/projects/${p.projectId}/exports`, { token: p.owner.token, body: { title: 'snap' } }), 'snapshot')).id;
    for (let i = 0; i < 200; i++) {
      const r = await call(this.s, 'GET', `/api/projects/${p.projectId}/exports/${id}`, { token: p.owner.token });
      if (r.body.status === 'completed') return id;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error('snapshot did not complete');
  }
  async upload(p: Place, projectId = p.projectId, commit = false): Promise<{ ids: number[]; taskIds: number[] }> {
    const form = new FormData();
    form.append('file', new Blob([commit ? PNG : JSON.stringify([{ text: 'u', image: p.media }])], { type: commit ? 'image/png' : 'application/json' }), commit ? 'pic.png' : 'rows.json');
    const res = await fetch(`${this.s.url}/api/projects/${projectId}/import?commit_to_project=${commit}&return_task_ids=true`, { method: 'POST', headers: { authorization: `Token ${p.owner.token}` }, body: form });
    const body = (await res.json()) as { file_upload_ids: number[]; task_ids?: number[] };
    if (res.status !== 201) throw new Error(`fixture upload failed: ${res.status} ${JSON.stringify(body)}`);
    return { ids: body.file_upload_ids, taskIds: body.task_ids ?? [] };
  }
  /** A fresh member of the place's organization with a role, in the place's workspace. */
  async member(p: Place, role: Role): Promise<Member> {
    const m = await makeMember(this.s.deps, p.orgId, role);
    await this.s.deps.db.insertInto('workspace_members').values({ workspace_id: p.workspaceId, user_id: m.id, created_at: new Date().toISOString() }).execute();
    return m;
  }
  /** A fresh caller of the same role as `role`, in organization A's shared workspace. */
  caller(c: Ctx): Promise<Member> {
    return this.member({ ...c.place, orgId: c.orgA, workspaceId: this.ownWorkspace }, c.role);
  }
  ownWorkspace = 0;
  get all() {
    return this.members;
  }
}

type Recipe = (c: Ctx) => Promise<Req>;
const p = (c: Ctx) => c.place.projectId;

/** One valid request per route (keyed "METHOD url"). */
const RECIPES: Record<string, Recipe> = {
  // Public routes: called anonymously.
  'GET /health': async () => ({ path: '/health', anonymous: true }),
  'GET /ready': async () => ({ path: '/ready', anonymous: true }),
  // Metrics are off on the matrix's server: 404 (test/scale/probes.test.ts covers the token when on).
  'GET /metrics': async () => ({ path: '/metrics', anonymous: true, ok: [404] }),
  'GET /api/version': async () => ({ path: '/api/version', anonymous: true }),
  'GET /api/schema': async () => ({ path: '/api/schema', anonymous: true }),
  'POST /api/auth/login': async (c) => {
    const m = await c.fresh.member(c.place, 'AN');
    return { path: '/api/auth/login', body: { email: m.email, password: PASSWORD }, anonymous: true };
  },
  'POST /api/auth/signup': async (c) => {
    const invite = await call(current, 'GET', '/api/invite', { token: c.place.owner.token });
    return { path: '/api/auth/signup', body: { email: `new${Math.random().toString(36).slice(2)}@example.test`, password: 'Sturdy-Passphrase-1', token: invite.body.token }, anonymous: true, ok: [201] };
  },
  'POST /api/auth/setup': async () => ({ path: '/api/auth/setup', body: { setup_token: 'x'.repeat(32), email: 'setup@example.test', password: 'Sturdy-Passphrase-1' }, anonymous: true, ok: [400, 403] }),
  'GET /user/setup': async () => ({ path: '/user/setup?token=nothing', anonymous: true, ok: [200] }),
  'POST /user/setup': async () => ({ path: '/user/setup', body: { setup_token: 'x'.repeat(32), email: 'setup@example.test', password: 'Sturdy-Passphrase-1' }, anonymous: true, ok: [400, 403] }),
  'POST /api/token/refresh': async (c) => ({ path: '/api/token/refresh', ...(await withPat(c, (refresh) => ({ refresh }))), anonymous: true, ok: [200] }),

  // The caller's own account.
  'POST /api/auth/logout': async (c) => ({ path: '/api/auth/logout', as: await c.fresh.caller(c) }),
  'POST /api/current-user/change-password': async (c) => ({ path: '/api/current-user/change-password', as: await c.fresh.caller(c), body: { old_password: PASSWORD, new_password: 'Another-Sturdy-Passphrase-2' } }),
  'GET /api/current-user/whoami': async () => ({ path: '/api/current-user/whoami' }),
  'GET /api/current-user': async () => ({ path: '/api/current-user' }),
  'PATCH /api/current-user': async () => ({ path: '/api/current-user', body: { first_name: 'Matrix' } }),
  'GET /api/current-user/token': async () => ({ path: '/api/current-user/token' }),
  'POST /api/current-user/reset-token': async (c) => ({ path: '/api/current-user/reset-token', as: await c.fresh.caller(c) }),
  'POST /api/current-user/active-organization': async (c) => ({ path: '/api/current-user/active-organization', body: { organization: c.orgA } }),
  'GET /api/token': async () => ({ path: '/api/token' }),
  'POST /api/token': async () => ({ path: '/api/token' }),
  'POST /api/token/blacklist': async (c) => ({ path: '/api/token/blacklist', ...(await withPat(c, (refresh) => ({ refresh }))) }),
  'POST /api/token/rotate': async (c) => ({ path: '/api/token/rotate', ...(await withPat(c, (refresh) => ({ refresh }))) }),
  'GET /api/organizations': async () => ({ path: '/api/organizations' }),
  'GET /api/users/:id': async (c) => ({ path: `/api/users/${c.caller.id}` }),
  'PATCH /api/users/:id': async (c) => ({ path: `/api/users/${c.caller.id}`, body: { last_name: 'Matrix' } }),

  // The organization.
  'GET /api/users': async () => ({ path: '/api/users' }),
  'POST /api/users': async () => ({ path: '/api/users', body: { email: `made${Math.random().toString(36).slice(2)}@example.test` } }),
  'POST /api/organizations': async (c) => ({ path: '/api/organizations', body: { title: 'New org', owner: c.caller.id } }),
  'GET /api/organizations/:id': async (c) => ({ path: `/api/organizations/${c.place.orgId}` }),
  'GET /api/organizations/:id/memberships': async (c) => ({ path: `/api/organizations/${c.place.orgId}/memberships` }),
  'PATCH /api/organizations/:id/memberships': async (c) => ({ path: `/api/organizations/${c.place.orgId}/memberships`, body: { user_id: (await c.fresh.member(c.place, 'AN')).id, role: 'RE' } }),
  'POST /api/organizations/:id/transfer-ownership': async (c) => ({
    path: `/api/organizations/${c.place.orgId}/transfer-ownership`,
    as: c.role === 'OW' && c.place.rel === 'own' ? await c.fresh.caller(c) : undefined,
    body: { user: (await c.fresh.member(c.place, 'AD')).id },
  }),
  'GET /api/invite': async () => ({ path: '/api/invite' }),
  'POST /api/invite/reset-token': async () => ({ path: '/api/invite/reset-token' }),
  'GET /api/permissions': async () => ({ path: '/api/permissions' }),
  'GET /api/activity-logs': async (c) => ({ path: `/api/activity-logs?workspace_id=${c.place.workspaceId}` }),
  'GET /api/audit-events': async () => ({ path: '/api/audit-events' }),
  'GET /api/audit-events/export': async () => ({ path: '/api/audit-events/export?format=jsonl' }),
  'GET /api/usage': async () => ({ path: '/api/usage' }),
  'POST /api/usage/page-visits': async () => ({ path: '/api/usage/page-visits', body: { path: '/projects/1/label' }, anonymous: true }),

  // Projects.
  'GET /api/projects': async () => ({ path: '/api/projects' }),
  'POST /api/projects': async () => ({ path: '/api/projects', body: { title: 'Mine', label_config: CONFIG } }),
  'POST /api/projects/validate': async () => ({ path: '/api/projects/validate', body: { label_config: CONFIG } }),
  'GET /api/projects/:id': async (c) => ({ path: `/api/projects/${p(c)}` }),
  'PATCH /api/projects/:id': async (c) => ({ path: `/api/projects/${p(c)}`, body: { description: 'changed' } }),
  'DELETE /api/projects/:id': async (c) => ({ path: `/api/projects/${await c.fresh.project(c.place)}` }),
  'POST /api/projects/:id/validate': async (c) => ({ path: `/api/projects/${p(c)}/validate`, body: { label_config: CONFIG } }),
  'GET /api/projects/:id/summary': async (c) => ({ path: `/api/projects/${p(c)}/summary` }),
  'GET /api/projects/:id/model-versions': async (c) => ({ path: `/api/projects/${p(c)}/model-versions` }),

  // Workspaces and project members.
  'GET /api/workspaces': async () => ({ path: '/api/workspaces' }),
  'POST /api/workspaces': async () => ({ path: '/api/workspaces', body: { title: 'Team B' } }),
  'GET /api/workspaces/:id': async (c) => ({ path: `/api/workspaces/${c.place.workspaceId}` }),
  'PATCH /api/workspaces/:id': async (c) => ({ path: `/api/workspaces/${c.place.workspaceId}`, body: { description: 'changed' } }),
  'DELETE /api/workspaces/:id': async (c) => ({ path: `/api/workspaces/${await c.fresh.workspace(c)}` }),
  'GET /api/workspaces/:id/memberships': async (c) => ({ path: `/api/workspaces/${c.place.workspaceId}/memberships` }),
  'POST /api/workspaces/:id/memberships': async (c) => ({ path: `/api/workspaces/${c.place.workspaceId}/memberships`, body: { user: (await makeMember(current.deps, c.place.orgId, 'AN')).id } }),
  'DELETE /api/workspaces/:id/memberships': async (c) => ({ path: `/api/workspaces/${c.place.workspaceId}/memberships`, body: { user: (await c.fresh.member(c.place, 'AN')).id } }),
  'GET /api/workspaces/:id/projects': async (c) => ({ path: `/api/workspaces/${c.place.workspaceId}/projects` }),
  'POST /api/workspaces/:id/projects': async (c) => ({ path: `/api/workspaces/${c.place.workspaceId}/projects`, body: { project: await c.fresh.project(c.place) } }),
  'DELETE /api/workspaces/:id/projects': async (c) => ({ path: `/api/workspaces/${c.place.workspaceId}/projects`, body: { project: await c.fresh.project(c.place) } }),
  'GET /api/projects/:id/members': async (c) => ({ path: `/api/projects/${p(c)}/members` }),
  'POST /api/projects/:id/members': async (c) => ({ path: `/api/projects/${p(c)}/members`, body: { user: (await makeMember(current.deps, c.place.orgId, 'AN')).id } }),
  'DELETE /api/projects/:id/members': async (c) => ({ path: `/api/projects/${p(c)}/members`, body: { user: (await c.fresh.projectMember(c.place)).id } }),

  // Tasks.
  'GET /api/tasks': async (c) => ({ path: `/api/tasks?project=${p(c)}` }),
  'GET /api/projects/:id/tasks': async (c) => ({ path: `/api/projects/${p(c)}/tasks` }),
  'GET /api/tasks/:id': async (c) => ({ path: `/api/tasks/${(await c.fresh.annotation(c.place, c.author)).task}` }),
  'PATCH /api/tasks/:id': async (c) => ({ path: `/api/tasks/${await c.fresh.task(c.place)}`, body: { data: { text: 'edited', image: c.place.media } } }),
  'DELETE /api/tasks/:id': async (c) => ({ path: `/api/tasks/${await c.fresh.task(c.place)}` }),
  'GET /api/projects/:id/next': async (c) => ({ path: `/api/projects/${p(c)}/next` }),
  'POST /api/tasks': async (c) => ({ path: '/api/tasks', body: { project: p(c), data: { text: 'one', image: c.place.media } } }),
  'DELETE /api/projects/:id/tasks': async (c) => ({ path: `/api/projects/${await c.fresh.project(c.place)}/tasks` }),

  // Import, uploads and media.
  'POST /api/projects/:id/import': async (c) => ({ path: `/api/projects/${p(c)}/import`, body: [{ text: 'imported', image: c.place.media }] }),
  'POST /api/projects/:id/tasks/bulk': async (c) => ({ path: `/api/projects/${p(c)}/tasks/bulk`, body: [{ text: 'imported', image: c.place.media }] }),
  'POST /api/projects/:id/tasks': async (c) => ({ path: `/api/projects/${p(c)}/tasks`, body: [{ text: 'imported', image: c.place.media }] }),
  'POST /api/projects/:id/reimport': async (c) => {
    const project = await c.fresh.project(c.place);
    const up = await c.fresh.upload(c.place, project);
    return { path: `/api/projects/${project}/reimport`, body: { file_upload_ids: up.ids } };
  },
  'GET /data/upload/:project/:file': async (c) => {
    await c.fresh.taskFor(c.place, c.author); // a task using the file that the caller may open (Annotators get only such files)
    return { path: c.place.media };
  },
  'GET /api/projects/:id/file-uploads': async (c) => ({ path: `/api/projects/${p(c)}/file-uploads` }),
  'DELETE /api/projects/:id/file-uploads': async (c) => {
    const project = await c.fresh.project(c.place);
    await c.fresh.upload(c.place, project);
    return { path: `/api/projects/${project}/file-uploads` };
  },
  'POST /api/projects/:id/import/predictions': async (c) => ({ path: `/api/projects/${p(c)}/import/predictions`, body: [{ task: await c.fresh.task(c.place), result: choice, score: 0.9 }] }),

  // Export.
  'GET /api/projects/:id/export/formats': async (c) => ({ path: `/api/projects/${p(c)}/export/formats` }),
  'GET /api/projects/:id/export': async (c) => ({ path: `/api/projects/${p(c)}/export?exportType=JSON_MIN` }),
  'GET /api/projects/:id/exports': async (c) => ({ path: `/api/projects/${p(c)}/exports` }),
  'POST /api/projects/:id/exports': async (c) => ({ path: `/api/projects/${p(c)}/exports`, body: { title: 'by matrix' } }),
  'GET /api/projects/:id/exports/:export_pk': async (c) => ({ path: `/api/projects/${p(c)}/exports/${await c.fresh.snapshot(c.place)}` }),
  'DELETE /api/projects/:id/exports/:export_pk': async (c) => ({ path: `/api/projects/${p(c)}/exports/${await c.fresh.snapshot(c.place)}` }),
  'GET /api/projects/:id/exports/:export_pk/download': async (c) => ({ path: `/api/projects/${p(c)}/exports/${await c.fresh.snapshot(c.place)}/download` }),
  'POST /api/projects/:id/exports/:export_pk/convert': async (c) => ({ path: `/api/projects/${p(c)}/exports/${await c.fresh.snapshot(c.place)}/convert`, body: { export_type: 'CSV' } }),

  // Data manager.
  'GET /api/dm/views': async (c) => ({ path: `/api/dm/views?project=${p(c)}` }),
  'POST /api/dm/views': async (c) => ({ path: '/api/dm/views', body: { project: p(c), data: { title: 'Mine' } } }),
  'DELETE /api/dm/views/reset': async (c) => ({ path: `/api/dm/views/reset?project=${await c.fresh.project(c.place)}` }),
  'GET /api/dm/views/:id': async (c) => ({ path: `/api/dm/views/${await c.fresh.view(c.place)}` }),
  'PATCH /api/dm/views/:id': async (c) => ({ path: `/api/dm/views/${await c.fresh.view(c.place)}`, body: { data: { title: 'Renamed' } } }),
  'PUT /api/dm/views/:id': async (c) => ({ path: `/api/dm/views/${await c.fresh.view(c.place)}`, body: { project: p(c), data: { title: 'Replaced' } } }),
  'DELETE /api/dm/views/:id': async (c) => ({ path: `/api/dm/views/${await c.fresh.view(c.place)}` }),
  'GET /api/dm/actions': async (c) => ({ path: `/api/dm/actions?project=${p(c)}` }),
  'POST /api/dm/actions': async (c) => ({ path: `/api/dm/actions?id=next_task&project=${p(c)}`, body: {} }),
  'GET /api/dm/project': async (c) => ({ path: `/api/dm/project?project=${p(c)}` }),

  // Assignment and review.
  'POST /api/projects/:id/tasks/assignees': async (c) => ({
    path: `/api/projects/${p(c)}/tasks/assignees`,
    body: { type: 'AN', users: [c.place.labeler.id], selectedItems: { all: false, included: [await c.fresh.task(c.place)] } },
  }),
  'GET /api/projects/:id/tasks/:task_pk/assignees': async (c) => ({ path: `/api/projects/${p(c)}/tasks/${await c.fresh.task(c.place)}/assignees` }),
  'POST /api/projects/:id/tasks/:task_pk/assignees': async (c) => ({ path: `/api/projects/${p(c)}/tasks/${await c.fresh.task(c.place)}/assignees`, body: { type: 'AN', users: [c.place.labeler.id] } }),
  'PATCH /api/projects/:id/tasks/:task_pk/assignees': async (c) => ({ path: `/api/projects/${p(c)}/tasks/${await c.fresh.task(c.place)}/assignees`, body: { type: 'AN', users: [c.place.labeler.id] } }),
  'DELETE /api/projects/:id/tasks/:task_pk/assignees': async (c) => ({ path: `/api/projects/${p(c)}/tasks/${await c.fresh.task(c.place)}/assignees?type=AN&users=${c.place.labeler.id}` }),
  'GET /api/annotation-reviews': async (c) => ({ path: `/api/annotation-reviews?annotation=${(await c.fresh.annotation(c.place, reviewedAuthor(c))).id}` }),
  'POST /api/annotation-reviews': async (c) => ({ path: '/api/annotation-reviews', body: { annotation: (await c.fresh.annotation(c.place, c.place.labeler)).id, accepted: false, comment: 'redo' } }),
  'GET /api/annotation-reviews/:id': async (c) => ({ path: `/api/annotation-reviews/${await c.fresh.review(c.place, reviewerFor(c), reviewedAuthor(c))}` }),
  'PATCH /api/annotation-reviews/:id': async (c) => ({ path: `/api/annotation-reviews/${await c.fresh.review(c.place, reviewerFor(c))}`, body: { accepted: false, comment: 'changed my mind' } }),
  'PUT /api/annotation-reviews/:id': async (c) => {
    const id = await c.fresh.review(c.place, reviewerFor(c));
    const r = await call(current, 'GET', `/api/annotation-reviews/${id}`, { token: c.place.owner.token });
    return { path: `/api/annotation-reviews/${id}`, body: { annotation: r.body.annotation, accepted: false } };
  },
  'DELETE /api/annotation-reviews/:id': async (c) => ({ path: `/api/annotation-reviews/${await c.fresh.review(c.place, reviewerFor(c))}` }),

  // Annotations, drafts, predictions.
  'GET /api/tasks/:id/annotations': async (c) => ({ path: `/api/tasks/${(await c.fresh.annotation(c.place, c.author)).task}/annotations` }),
  'POST /api/tasks/:id/annotations': async (c) => ({ path: `/api/tasks/${await c.fresh.taskFor(c.place, c.author)}/annotations`, body: { result: choice } }),
  'GET /api/annotations/:id': async (c) => ({ path: `/api/annotations/${(await c.fresh.annotation(c.place, c.author)).id}` }),
  'PATCH /api/annotations/:id': async (c) => ({ path: `/api/annotations/${(await c.fresh.annotation(c.place, c.author)).id}`, body: { result: choice, lead_time: 2 } }),
  'DELETE /api/annotations/:id': async (c) => ({ path: `/api/annotations/${(await c.fresh.annotation(c.place, c.author)).id}` }),
  'POST /api/annotations/bulk': async (c) => ({ path: '/api/annotations/bulk', body: { project: p(c), tasks: [await c.fresh.taskFor(c.place, c.author)], result: choice } }),
  'GET /api/tasks/:id/drafts': async (c) => ({ path: `/api/tasks/${(await c.fresh.draft(c.place, c.author)).task}/drafts` }),
  'POST /api/tasks/:id/drafts': async (c) => ({ path: `/api/tasks/${await c.fresh.taskFor(c.place, c.author)}/drafts`, body: { result: choice } }),
  'POST /api/tasks/:id/annotations/:annotation/drafts': async (c) => {
    const a = await c.fresh.annotation(c.place, c.author);
    return { path: `/api/tasks/${a.task}/annotations/${a.id}/drafts`, body: { result: choice } };
  },
  'GET /api/drafts/:id': async (c) => ({ path: `/api/drafts/${(await c.fresh.draft(c.place, c.author)).id}` }),
  'PATCH /api/drafts/:id': async (c) => ({ path: `/api/drafts/${(await c.fresh.draft(c.place, c.author)).id}`, body: { result: choice, lead_time: 1 } }),
  'DELETE /api/drafts/:id': async (c) => ({ path: `/api/drafts/${(await c.fresh.draft(c.place, c.author)).id}` }),
  'GET /api/predictions': async (c) => ({ path: `/api/predictions?project=${p(c)}` }),
  'POST /api/predictions': async (c) => ({ path: '/api/predictions', body: { task: await c.fresh.task(c.place), result: choice, score: 0.7 } }),
  'GET /api/predictions/:id': async (c) => ({ path: `/api/predictions/${await c.fresh.prediction(c.place)}` }),
  'PATCH /api/predictions/:id': async (c) => ({ path: `/api/predictions/${await c.fresh.prediction(c.place)}`, body: { score: 0.1 } }),
  'DELETE /api/predictions/:id': async (c) => ({ path: `/api/predictions/${await c.fresh.prediction(c.place)}` }),
  ...storageRecipes(() => current, () => gcs.endpoint),
};

/** Who writes a review the caller then reads or changes: the caller when it may review there, else the place's owner. */
const reviewerFor = (c: Ctx) => (c.sees && holds(c.role, 'annotation.review') ? c.caller : c.place.owner);

/**
 * Whose annotation a review the caller reads is of: the labeler's for those who review (they read
 * every review), else the caller's own (without `task.view_all`, one reads only reviews of one's own annotations).
 */
const reviewedAuthor = (c: Ctx) => (holds(c.role, 'annotation.review') ? c.place.labeler : c.author);

/** A personal access token of a fresh caller, and the body built from its refresh token. */
async function withPat(c: Ctx, body: (refresh: string) => unknown): Promise<Partial<Req>> {
  const as = await c.fresh.caller(c);
  const made = await call(serverOf(c), 'POST', '/api/token', { token: as.token });
  return { as, body: body(made.status === 201 ? made.body.token : 'none') };
}
let current: TestServer;
/** The GCS double the GCS recipes point at; it holds no bucket, so their connection checks fail at once. */
let gcs: GcsDouble;
const serverOf = (_c: Ctx): TestServer => current;

const keyOf = (r: AnyRoute) => `${r.method} ${r.url}`;

describe('the access matrix covers every route', () => {
  it('has a request recipe for every route', () => {
    const missing = allRoutes.map(keyOf).filter((k) => !RECIPES[k]);
    expect(missing, 'routes without a recipe in the access matrix').toEqual([]);
  });
});

beforeAll(async () => {
  gcs = await startGcsDouble(makeServiceAccount());
});
afterAll(async () => {
  await gcs?.stop();
});

describe.each(DIALECTS)('access matrix on %s', (dialect) => {
  let s: TestServer;
  let fresh: Fresh;
  let members: Record<Role, Member>;
  let places: Record<Rel, Place>;
  let orgA: number;
  let cells = 0;

  /** A project in a workspace of an organization, with a labeler and an uploaded image. */
  async function place(rel: Rel, orgId: number, owner: Member, workspaceMembers: Member[]): Promise<Place> {
    const labeler = await makeMember(s.deps, orgId, 'AN');
    const workspaceId = await makeWorkspace(s.deps, orgId, [...workspaceMembers, labeler], `W-${rel}`);
    // Media files import against an image-only config; the text control comes after.
    const body = { title: `P-${rel}`, label_config: '<View><Image name="image" value="$image"/></View>', workspace: workspaceId, show_data_manager_to_annotators: true };
    const made = await call(s, 'POST', '/api/projects', { token: owner.token, body });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const pl: Place = { rel, orgId, workspaceId, projectId: made.body.id, owner, labeler, media: '' };
    const up = await fresh.upload(pl, pl.projectId, true);
    const task = await call(s, 'GET', `/api/tasks/${up.taskIds[0]}`, { token: owner.token });
    pl.media = task.body.data.image;
    expect((await call(s, 'PATCH', `/api/projects/${pl.projectId}`, { token: owner.token, body: { label_config: CONFIG } })).status).toBe(200);
    await call(s, 'POST', `/api/projects/${pl.projectId}/import`, { token: owner.token, body: Array.from({ length: 40 }, (_, i) => ({ text: `t${i}`, image: pl.media })) });
    return pl;
  }

  beforeAll(async () => {
    s = await startServer(dialect);
    current = s;
    const a = await makeOrganization(s.deps);
    const b = await makeOrganization(s.deps);
    orgA = a.id;
    const others = await Promise.all((['AD', 'MA', 'RE', 'AN', 'NO', 'DI'] as const).map((r) => makeMember(s.deps, a.id, r)));
    members = { OW: a.owner, AD: others[0]!, MA: others[1]!, RE: others[2]!, AN: others[3]!, NO: others[4]!, DI: others[5]! };
    fresh = new Fresh(s, members);
    places = {
      own: await place('own', a.id, a.owner, [members.MA, members.RE, members.AN]),
      sibling: await place('sibling', a.id, a.owner, []),
      foreign: await place('foreign', b.id, b.owner, []),
    };
    fresh.ownWorkspace = places.own.workspaceId;
    expect(places.own.media).toMatch(/^\/data\/upload\//);
  }, 120_000);
  afterAll(async () => {
    process.stdout.write(`access matrix on ${dialect}: ${allRoutes.length} routes × ${ROLES.length} roles × up to 3 scopes = ${cells} requests checked\n`);
    await s?.close();
  });

  for (const route of allRoutes) {
    const key = keyOf(route);
    it(key, async () => {
      const recipe = RECIPES[key];
      if (!recipe) throw new Error(`${key} has no recipe`);
      if (typeof route.access === 'object') {
        const req = await recipe({ place: places.own, caller: members.AN, role: 'AN', sees: true, author: members.AN, fresh, orgA });
        const r = await send(s, route, req, undefined);
        expect(req.ok ?? [200, 201, 204], `${key} anonymously: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`).toContain(r.status);
        cells++;
        return;
      }
      // The cases are independent (fresh objects, callers of their own): 8 in flight at once (PostgreSQL's round trips overlap).
      const cases = relsOf(route).flatMap((rel) => ROLES.map((role) => ({ rel, role })));
      const failures = await inPool(cases, 8, async ({ rel, role }) => {
        const want = expected(route, role, rel);
        const sees = want !== 404 && want !== 401;
        const ctx: Ctx = { place: places[rel], caller: members[role], role, sees, author: sees ? members[role] : places[rel].labeler, fresh, orgA };
        const req = await recipe(ctx).catch((err: Error) => err);
        if (req instanceof Error) return `${role} ${rel}: the recipe failed: ${req.message}`;
        const r = await send(s, route, req, req.as ?? members[role]);
        cells++;
        const ok = req.ok ?? [200, 201, 204];
        const good = want === 'allowed' ? ok.includes(r.status) : r.status === want;
        if (!good) return `${role} ${rel}: wanted ${want === 'allowed' ? `allowed (${ok.join('/')})` : want}, got ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`;
        if (want === 403 && !String(r.body?.detail ?? '').includes(String(route.access))) return `${role} ${rel}: the 403 does not name ${String(route.access)}: ${JSON.stringify(r.body).slice(0, 200)}`;
        return null;
      });
      expect(failures.filter((f) => f !== null), key).toEqual([]);
    }, 60_000);
  }
});

/** Sends a recipe's request as a member (or anonymously). */
async function send(s: TestServer, route: AnyRoute, req: Req, as: Member | undefined): Promise<Res> {
  const method = req.method ?? route.method;
  if (req.form) {
    const res = await fetch(`${s.url}${req.path}`, { method, headers: as ? { authorization: `Token ${as.token}` } : {}, body: req.form });
    return { status: res.status, body: await res.json().catch(() => null), headers: res.headers };
  }
  return call(s, method, req.path, { ...(as && !req.anonymous && { token: as.token }), ...(req.body !== undefined && { body: req.body }) });
}
