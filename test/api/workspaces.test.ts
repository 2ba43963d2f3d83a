/**
 * Workspaces and project members over HTTP, on SQLite and PostgreSQL: who sees which workspace
 * and project, how membership gives and takes access (on the very next request), sandboxes kept
 * private, and deletion only of empty workspaces. Refused cases sit next to the allowed ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/chain.js';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { makeMember, makeOrganization, makeWorkspace, type Member } from '../factories.js';

describe.each(DIALECTS)('workspaces API on %s', (dialect) => {
  let s: TestServer;
  let orgId: number;
  let owner: Member;
  let admin: Member;
  let manager: Member;
  let annotator: Member;
  let other: { id: number; owner: Member };
  let teamWs: number;

  beforeAll(async () => {
    s = await startServer(dialect);
    const org = await makeOrganization(s.deps);
    orgId = org.id;
    owner = org.owner;
    [admin, manager, annotator, other] = await Promise.all([makeMember(s.deps, orgId, 'AD'), makeMember(s.deps, orgId, 'MA'), makeMember(s.deps, orgId, 'AN'), makeOrganization(s.deps)]);
    teamWs = await makeWorkspace(s.deps, orgId, [manager, annotator]);
  });
  afterAll(async () => s?.close());

  const createProject = async (token: string, workspace: number, title = 'P') => {
    const r = await call(s, 'POST', '/api/projects', { token, body: { workspace, title } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id as number;
  };
  const createWorkspace = async (token: string, title = 'W') => {
    const r = await call(s, 'POST', '/api/workspaces/', { token, body: { title } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id as number;
  };
  const auditActions = async (action: string, objectId: number) =>
    s.deps.db.selectFrom('audit_events').select(['action', 'changes', 'project_id']).where('action', '=', action).where('object_id', '=', String(objectId)).execute();

  describe('create and list', () => {
    it('refuses anonymous callers, bad bodies and roles without workspace.create', async () => {
      expect((await call(s, 'GET', '/api/workspaces')).status).toBe(401);
      expect((await call(s, 'POST', '/api/workspaces', { body: { title: 'x' } })).status).toBe(401);
      const denied = await call(s, 'POST', '/api/workspaces', { token: annotator.token, body: { title: 'x' } });
      expect(denied.status).toBe(403);
      expect(denied.body.detail).toContain('workspace.create');
      const blank = await call(s, 'POST', '/api/workspaces', { token: manager.token, body: { title: '' } });
      expect(blank.status).toBe(400);
      expect(blank.body.validation_errors).toHaveProperty('title');
      const personal = await call(s, 'POST', '/api/workspaces', { token: manager.token, body: { title: 'x', is_personal: true } });
      expect(personal.status).toBe(400);
      expect(personal.body.validation_errors).toHaveProperty('is_personal');
      const ordering = await call(s, 'GET', '/api/workspaces?ordering=password', { token: manager.token });
      expect(ordering.status).toBe(400);
      expect(ordering.body.validation_errors).toHaveProperty('ordering');
    });

    it('creates a workspace whose creator is a member; members and view_all holders list it, others do not', async () => {
      const r = await call(s, 'POST', '/api/workspaces', { token: manager.token, body: { title: ' Team Alpha ', description: 'd', color: '#FF0000' } });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ title: 'Team Alpha', description: 'd', color: '#FF0000', is_personal: false, is_archived: false, created_by: manager.id });
      const id = r.body.id as number;
      const members = await call(s, 'GET', `/api/workspaces/${id}/memberships/`, { token: manager.token });
      expect(members.status).toBe(200);
      expect(members.body.map((m: any) => m.user.id)).toEqual([manager.id]);
      expect(members.body[0]).toMatchObject({ workspace: id, user: { email: manager.email } });
      const ids = async (token: string) => (await call(s, 'GET', '/api/workspaces/', { token })).body.map((w: any) => w.id);
      expect(await ids(manager.token)).toContain(id);
      expect(await ids(admin.token)).toContain(id);
      expect(await ids(annotator.token)).not.toContain(id);
      expect((await call(s, 'GET', `/api/workspaces/${id}`, { token: annotator.token })).status).toBe(404);
      expect((await call(s, 'GET', `/api/workspaces/${id}`, { token: admin.token })).status).toBe(200);
      expect(await auditActions('workspace.create', id)).toHaveLength(1);
    });

    it('creates the caller’s sandbox on first list; other users’ sandboxes stay private, even to the Owner', async () => {
      const mine = await call(s, 'GET', '/api/workspaces?is_personal=true', { token: manager.token });
      expect(mine.status).toBe(200);
      expect(mine.body).toHaveLength(1);
      expect(mine.body[0]).toMatchObject({ is_personal: true, created_by: manager.id });
      const sandbox = mine.body[0].id as number;
      const again = await call(s, 'GET', '/api/workspaces?is_personal=True', { token: manager.token });
      expect(again.body.map((w: any) => w.id)).toEqual([sandbox]);
      const shared = await call(s, 'GET', '/api/workspaces?is_personal=false', { token: manager.token });
      expect(shared.body.every((w: any) => w.is_personal === false)).toBe(true);
      expect(shared.body.map((w: any) => w.id)).toContain(teamWs);
      expect((await call(s, 'GET', `/api/workspaces/${sandbox}`, { token: manager.token })).status).toBe(200);
      for (const m of [owner, admin, annotator]) {
        const listed = await call(s, 'GET', '/api/workspaces', { token: m.token });
        expect(listed.body.map((w: any) => w.id)).not.toContain(sandbox);
        expect(listed.body.filter((w: any) => w.is_personal).every((w: any) => w.created_by === m.id)).toBe(true);
        expect((await call(s, 'GET', `/api/workspaces/${sandbox}`, { token: m.token })).status).toBe(404);
        expect((await call(s, 'GET', `/api/workspaces/${sandbox}/projects`, { token: m.token })).status).toBe(404);
      }
      // Nobody else can be added to a sandbox, and its owner cannot leave or delete it.
      const add = await call(s, 'POST', `/api/workspaces/${sandbox}/memberships`, { token: manager.token, body: { user: annotator.id } });
      expect(add.status).toBe(409);
      expect((await call(s, 'DELETE', `/api/workspaces/${sandbox}/memberships`, { token: manager.token, body: { user_id: manager.id } })).status).toBe(409);
      const del = await call(s, 'DELETE', `/api/workspaces/${sandbox}`, { token: manager.token });
      expect(del.status).toBe(409);
      expect(del.body.detail).toMatch(/sandbox/);
    });

    it('answers 404 for another organization’s workspace, whatever the verb', async () => {
      const theirs = await makeWorkspace(s.deps, other.id, [other.owner], 'Theirs');
      for (const [method, path, body] of [
        ['GET', `/api/workspaces/${theirs}`, undefined],
        ['PATCH', `/api/workspaces/${theirs}`, { title: 'mine now' }],
        ['DELETE', `/api/workspaces/${theirs}`, undefined],
        ['GET', `/api/workspaces/${theirs}/memberships`, undefined],
        ['POST', `/api/workspaces/${theirs}/memberships`, { user: owner.id }],
        ['GET', `/api/workspaces/${theirs}/projects`, undefined],
      ] as const) {
        const r = await call(s, method, path, { token: owner.token, body });
        expect(r.status, `${method} ${path}`).toBe(404);
      }
      expect((await call(s, 'GET', '/api/workspaces', { token: owner.token })).body.map((w: any) => w.id)).not.toContain(theirs);
      expect((await call(s, 'GET', `/api/workspaces/${theirs}`, { token: other.owner.token })).status).toBe(200);
    });
  });

  describe('change and delete', () => {
    it('renames with workspace.change (audited), refuses Annotators and changing is_personal', async () => {
      const id = await createWorkspace(manager.token, 'Before');
      await call(s, 'POST', `/api/workspaces/${id}/memberships`, { token: manager.token, body: { user: annotator.id } });
      const denied = await call(s, 'PATCH', `/api/workspaces/${id}`, { token: annotator.token, body: { title: 'x' } });
      expect(denied.status).toBe(403);
      expect(denied.body.detail).toContain('workspace.change');
      const flip = await call(s, 'PATCH', `/api/workspaces/${id}/`, { token: manager.token, body: { is_personal: true } });
      expect(flip.status).toBe(400);
      expect(flip.body.validation_errors).toHaveProperty('is_personal');
      const ok = await call(s, 'PATCH', `/api/workspaces/${id}/`, { token: manager.token, body: { title: 'After', is_archived: true } });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ id, title: 'After', is_archived: true });
      const events = await auditActions('workspace.update', id);
      expect(events).toHaveLength(1);
      expect(JSON.parse(events[0]!.changes as string)).toMatchObject({ title: { before: 'Before', after: 'After' } });
    });

    it('deletes a workspace only when empty, saying why otherwise', async () => {
      const id = await createWorkspace(manager.token, 'Doomed');
      const p = await createProject(manager.token, id);
      expect((await call(s, 'DELETE', `/api/workspaces/${id}`, { token: annotator.token })).status).toBe(404);
      const full = await call(s, 'DELETE', `/api/workspaces/${id}`, { token: manager.token });
      expect(full.status).toBe(409);
      expect(full.body).toMatchObject({ code: 'WORKSPACE_NOT_EMPTY' });
      expect(full.body.detail).toMatch(/1 project/);
      expect((await call(s, 'GET', `/api/workspaces/${id}`, { token: manager.token })).status).toBe(200);
      // Taking the project out sends it to the manager's sandbox; the workspace is then empty.
      const out = await call(s, 'DELETE', `/api/workspaces/${id}/projects`, { token: manager.token, body: { project: p } });
      expect(out.status).toBe(204);
      const moved = await call(s, 'GET', `/api/projects/${p}`, { token: manager.token });
      const sandbox = (await call(s, 'GET', '/api/workspaces?is_personal=true', { token: manager.token })).body[0].id;
      expect(moved.body.workspace).toBe(sandbox);
      const gone = await call(s, 'DELETE', `/api/workspaces/${id}/`, { token: manager.token });
      expect(gone.status).toBe(204);
      expect((await call(s, 'GET', `/api/workspaces/${id}`, { token: manager.token })).status).toBe(404);
      expect(await auditActions('workspace.delete', id)).toHaveLength(1);
    });
  });

  describe('membership gives and takes access', () => {
    it('an Annotator added to a workspace sees its projects; removed, the next request is a 404', async () => {
      const ws = await createWorkspace(manager.token, 'Labeling');
      const p = await createProject(manager.token, ws);
      const newcomer = await makeMember(s.deps, orgId, 'AN');
      expect((await call(s, 'GET', `/api/projects/${p}`, { token: newcomer.token })).status).toBe(404);
      expect((await call(s, 'GET', `/api/workspaces/${ws}/projects`, { token: newcomer.token })).status).toBe(404);

      const add = await call(s, 'POST', `/api/workspaces/${ws}/memberships/`, { token: manager.token, body: { user: newcomer.id } });
      expect(add.status).toBe(200);
      expect(add.body).toEqual({ user: newcomer.id, workspace: ws });
      expect((await call(s, 'GET', `/api/projects/${p}`, { token: newcomer.token })).status).toBe(200);
      expect((await call(s, 'GET', '/api/workspaces', { token: newcomer.token })).body.map((w: any) => w.id)).toContain(ws);
      const listed = await call(s, 'GET', `/api/workspaces/${ws}/projects/`, { token: newcomer.token });
      expect(listed.status).toBe(200);
      expect(listed.body.map((x: any) => x.id)).toEqual([p]);
      // Adding twice changes nothing and records nothing more.
      expect((await call(s, 'POST', `/api/workspaces/${ws}/memberships`, { token: manager.token, body: { user: newcomer.id } })).status).toBe(200);
      expect(await auditActions('workspace.member_add', ws)).toHaveLength(1);
      // An Annotator member may look but not manage.
      expect((await call(s, 'POST', `/api/workspaces/${ws}/memberships`, { token: newcomer.token, body: { user: annotator.id } })).status).toBe(403);

      const remove = await call(s, 'DELETE', `/api/workspaces/${ws}/memberships`, { token: manager.token, body: { user_id: newcomer.id } });
      expect(remove.status).toBe(204);
      expect((await call(s, 'GET', `/api/projects/${p}`, { token: newcomer.token })).status).toBe(404);
      expect((await call(s, 'GET', `/api/workspaces/${ws}`, { token: newcomer.token })).status).toBe(404);
      const again = await call(s, 'DELETE', `/api/workspaces/${ws}/memberships`, { token: manager.token, body: { user_id: newcomer.id } });
      expect(again.status).toBe(400);
      expect(again.body.validation_errors).toHaveProperty('user_id');
      // The SDK's `{"user": id}` form works too.
      await call(s, 'POST', `/api/workspaces/${ws}/memberships`, { token: manager.token, body: { user: newcomer.id } });
      expect((await call(s, 'DELETE', `/api/workspaces/${ws}/memberships`, { token: manager.token, body: { user: newcomer.id } })).status).toBe(204);
      const none = await call(s, 'DELETE', `/api/workspaces/${ws}/memberships`, { token: manager.token });
      expect(none.status).toBe(400);
      expect(none.body.validation_errors).toHaveProperty('user_id');
      expect(await auditActions('workspace.member_remove', ws)).toHaveLength(2);
    });

    it('takes only active members of the same organization (400 naming user)', async () => {
      const ws = await createWorkspace(manager.token, 'Strict');
      const deactivated = await makeMember(s.deps, orgId, 'DI');
      for (const user of [other.owner.id, deactivated.id, 999_999]) {
        const r = await call(s, 'POST', `/api/workspaces/${ws}/memberships`, { token: manager.token, body: { user } });
        expect(r.status, String(user)).toBe(400);
        expect(r.body.validation_errors).toHaveProperty('user');
      }
      const bad = await call(s, 'POST', `/api/workspaces/${ws}/memberships`, { token: manager.token, body: { user: 'x' } });
      expect(bad.status).toBe(400);
      expect(bad.body.validation_errors).toHaveProperty('user');
    });

    it('a Manager outside a workspace gets 404 on it and on its projects, not 403', async () => {
      const ws = await createWorkspace(manager.token, 'Closed');
      const p = await createProject(manager.token, ws);
      const outsider = await makeMember(s.deps, orgId, 'MA');
      expect((await call(s, 'GET', `/api/projects/${p}`, { token: outsider.token })).status).toBe(404);
      expect((await call(s, 'PATCH', `/api/projects/${p}`, { token: outsider.token, body: { title: 'x' } })).status).toBe(404);
      expect((await call(s, 'GET', `/api/workspaces/${ws}/projects`, { token: outsider.token })).status).toBe(404);
      expect((await call(s, 'POST', `/api/workspaces/${ws}/memberships`, { token: outsider.token, body: { user: outsider.id } })).status).toBe(404);
      const listed = await call(s, 'GET', '/api/projects?page_size=-1', { token: outsider.token });
      expect(listed.body.results.map((x: any) => x.id)).not.toContain(p);
      // The Administrator sees it without being a member.
      expect((await call(s, 'GET', `/api/projects/${p}`, { token: admin.token })).status).toBe(200);
    });
  });

  describe('workspace projects', () => {
    it('moves visible projects in ({project} or {projects}); unseen or foreign ones are a 400 naming the field', async () => {
      const from = await createWorkspace(manager.token, 'From');
      const to = await createWorkspace(manager.token, 'To');
      const [a, b] = [await createProject(manager.token, from, 'A'), await createProject(manager.token, from, 'B')];
      const hidden = await createProject(owner.token, await makeWorkspace(s.deps, orgId, [owner], 'Owners only'));
      const foreign = await createProject(other.owner.token, await makeWorkspace(s.deps, other.id, [other.owner], 'Foreign'));
      const one = await call(s, 'POST', `/api/workspaces/${to}/projects`, { token: manager.token, body: { project: a } });
      expect(one.status).toBe(201);
      const many = await call(s, 'POST', `/api/workspaces/${to}/projects/`, { token: manager.token, body: { projects: [a, b] } });
      expect(many.status).toBe(201);
      const inTo = await call(s, 'GET', `/api/workspaces/${to}/projects`, { token: manager.token });
      expect(inTo.body.map((x: any) => x.id).sort()).toEqual([a, b].sort());
      expect((await call(s, 'GET', `/api/workspaces/${from}/projects`, { token: manager.token })).body).toEqual([]);
      expect((await auditActions('workspace.project_add', to)).map((e) => e.project_id).sort()).toEqual([a, b].sort());
      for (const id of [hidden, foreign]) {
        const r = await call(s, 'POST', `/api/workspaces/${to}/projects`, { token: manager.token, body: { projects: [a, id] } });
        expect(r.status).toBe(400);
        expect(r.body.validation_errors).toHaveProperty('projects');
      }
      expect((await call(s, 'GET', `/api/projects/${a}`, { token: manager.token })).body.workspace).toBe(to);
      const missing = await call(s, 'POST', `/api/workspaces/${to}/projects`, { token: manager.token, body: {} });
      expect(missing.status).toBe(400);
      expect(missing.body.validation_errors).toHaveProperty('project');
      const notHere = await call(s, 'DELETE', `/api/workspaces/${from}/projects`, { token: manager.token, body: { project: a } });
      expect(notHere.status).toBe(400);
      expect(notHere.body.validation_errors).toHaveProperty('project');
      expect((await call(s, 'POST', `/api/workspaces/${to}/projects`, { token: annotator.token, body: { project: a } })).status).toBe(404);
    });
  });

  describe('project members', () => {
    it('adds a user to one project: they see it and nothing else of the workspace, until removed', async () => {
      const ws = await createWorkspace(manager.token, 'Members');
      const p = await createProject(manager.token, ws, 'Shared');
      const sibling = await createProject(manager.token, ws, 'Sibling');
      const guest = await makeMember(s.deps, orgId, 'AN');
      expect((await call(s, 'GET', `/api/projects/${p}/members`)).status).toBe(401);
      expect((await call(s, 'GET', `/api/projects/${p}/members`, { token: other.owner.token })).status).toBe(404);
      const teamProject = await createProject(manager.token, teamWs, 'Team');
      const an = await call(s, 'POST', `/api/projects/${teamProject}/members`, { token: annotator.token, body: { user: guest.id } });
      expect(an.status).toBe(403);
      expect(an.body.detail).toContain('project.members');

      expect((await call(s, 'GET', `/api/projects/${p}/members/`, { token: manager.token })).body).toEqual([]);
      const add = await call(s, 'POST', `/api/projects/${p}/members/`, { token: manager.token, body: { user: guest.id } });
      expect(add.status).toBe(201);
      expect(add.body).toEqual({ user: guest.id, project: p });
      const listed = await call(s, 'GET', `/api/projects/${p}/members`, { token: manager.token });
      expect(listed.body.map((u: any) => u.id)).toEqual([guest.id]);
      expect(listed.body[0]).toMatchObject({ email: guest.email });
      expect(listed.body[0]).not.toHaveProperty('password_hash');
      expect((await call(s, 'GET', `/api/projects/${p}/members?user_ids=${manager.id}`, { token: manager.token })).body).toEqual([]);
      expect((await call(s, 'GET', `/api/projects/${p}/members?user_ids=x`, { token: manager.token })).status).toBe(400);
      expect((await call(s, 'GET', `/api/projects/${p}`, { token: guest.token })).status).toBe(200);
      expect((await call(s, 'GET', `/api/projects/${sibling}`, { token: guest.token })).status).toBe(404);
      expect((await call(s, 'GET', `/api/workspaces/${ws}`, { token: guest.token })).status).toBe(404);

      for (const user of [other.owner.id, 999_999]) {
        const r = await call(s, 'POST', `/api/projects/${p}/members`, { token: manager.token, body: { user } });
        expect(r.status).toBe(400);
        expect(r.body.validation_errors).toHaveProperty('user');
      }
      const remove = await call(s, 'DELETE', `/api/projects/${p}/members`, { token: manager.token, body: { user: guest.id } });
      expect(remove.status).toBe(204);
      expect((await call(s, 'GET', `/api/projects/${p}`, { token: guest.token })).status).toBe(404);
      const again = await call(s, 'DELETE', `/api/projects/${p}/members`, { token: manager.token, body: { user: guest.id } });
      expect(again.status).toBe(400);
      expect(again.body.validation_errors).toHaveProperty('user');
      const events = await s.deps.db.selectFrom('audit_events').select('action').where('project_id', '=', p).where('action', 'in', ['project.member_add', 'project.member_remove']).execute();
      expect(events.map((e) => e.action).sort()).toEqual(['project.member_add', 'project.member_remove']);
    });

    it('keeps the audit chain intact', async () => {
      expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: true });
    });
  });
});
