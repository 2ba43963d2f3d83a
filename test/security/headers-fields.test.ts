/**
 * Mass assignment: POST/PATCH bodies on users, projects and memberships that carry privileged or
 * read-only fields (role, organization, created_by, is_superuser, token_hash, …) are refused with
 * 400 naming the field, and nothing changes; the same body without the field is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { makeMember, makeTeam } from '../factories.js';

const PRIVILEGED = {
  role: 'OW',
  organization: 999,
  created_by: 1,
  is_superuser: true,
  token_hash: 'x',
  password_hash: 'scrypt$1$1$1$a$b',
  is_active: true,
  id: 424242,
};

describe.each(DIALECTS)('mass assignment on %s', (dialect) => {
  let s: TestServer;
  let team: Awaited<ReturnType<typeof makeTeam>>;
  let projectId: number;
  beforeAll(async () => {
    s = await startServer(dialect);
    team = await makeTeam(s.deps);
    const p = await call(s, 'POST', '/api/projects', { token: team.manager.token, body: { title: 'fields', workspace: team.workspaceId } });
    projectId = p.body.id;
  });
  afterAll(async () => s?.close());

  const refusedNaming = (r: { status: number; body: any }, field: string, what: string) => {
    expect(r.status, `${what} ${field}: ${JSON.stringify(r.body)}`).toBe(400);
    expect(Object.keys(r.body.validation_errors ?? {}), `${what} ${field}`).toContain(field);
  };

  it('refuses privileged fields in PATCH /api/current-user and PATCH /api/users/:id, and changes nothing', async () => {
    const me = team.annotator;
    for (const [field, value] of Object.entries(PRIVILEGED)) {
      refusedNaming(await call(s, 'PATCH', '/api/current-user', { token: me.token, body: { first_name: 'A', [field]: value } }), field, 'PATCH /api/current-user');
      refusedNaming(await call(s, 'PATCH', `/api/users/${me.id}`, { token: me.token, body: { first_name: 'A', [field]: value } }), field, 'PATCH /api/users/:id');
    }
    const row = await s.deps.db.selectFrom('users').select(['is_superuser', 'first_name']).where('id', '=', me.id).executeTakeFirstOrThrow();
    expect(Boolean(row.is_superuser)).toBe(false);
    expect(row.first_name).not.toBe('A');
    const role = await s.deps.db.selectFrom('memberships').select('role').where('user_id', '=', me.id).where('organization_id', '=', team.organizationId).executeTakeFirstOrThrow();
    expect(role.role).toBe('AN');
    expect((await call(s, 'PATCH', '/api/current-user', { token: me.token, body: { first_name: 'A' } })).status).toBe(200);
  });

  it('refuses privileged fields in POST /api/users', async () => {
    const admin = await makeMember(s.deps, team.organizationId, 'AD');
    for (const field of ['role', 'organization', 'is_superuser', 'token_hash', 'created_by']) {
      refusedNaming(await call(s, 'POST', '/api/users', { token: admin.token, body: { email: `n${field.length}x${Date.now()}@example.test`, [field]: PRIVILEGED[field as keyof typeof PRIVILEGED] } }), field, 'POST /api/users');
    }
  });

  it('refuses organization, created_by and other read-only fields on projects', async () => {
    for (const field of ['organization', 'created_by', 'id', 'is_superuser', 'token_hash']) {
      const value = PRIVILEGED[field as keyof typeof PRIVILEGED];
      refusedNaming(await call(s, 'POST', '/api/projects', { token: team.manager.token, body: { title: 'x', workspace: team.workspaceId, [field]: value } }), field, 'POST /api/projects');
      refusedNaming(await call(s, 'PATCH', `/api/projects/${projectId}`, { token: team.manager.token, body: { title: 'y', [field]: value } }), field, 'PATCH /api/projects/:id');
    }
    const p = await call(s, 'GET', `/api/projects/${projectId}`, { token: team.manager.token });
    expect(p.body.title).toBe('fields');
    expect(p.body.organization).toBe(team.organizationId);
  });

  it('refuses extra fields on memberships (a role change cannot also make a superuser or move organizations)', async () => {
    const adminToken = (await makeMember(s.deps, team.organizationId, 'AD')).token;
    for (const field of ['is_superuser', 'organization', 'token_hash', 'created_by']) {
      refusedNaming(
        await call(s, 'PATCH', `/api/organizations/${team.organizationId}/memberships`, { token: adminToken, body: { user_id: team.annotator.id, role: 'RE', [field]: PRIVILEGED[field as keyof typeof PRIVILEGED] } }),
        field,
        'PATCH memberships',
      );
      refusedNaming(await call(s, 'POST', `/api/projects/${projectId}/members`, { token: team.manager.token, body: { user: team.annotator.id, [field]: PRIVILEGED[field as keyof typeof PRIVILEGED] } }), field, 'POST project members');
    }
    const role = await s.deps.db.selectFrom('memberships').select('role').where('user_id', '=', team.annotator.id).where('organization_id', '=', team.organizationId).executeTakeFirstOrThrow();
    expect(role.role).toBe('AN');
  });

  it('never lets a Manager raise a role through the memberships route (403 naming the permission)', async () => {
    const r = await call(s, 'PATCH', `/api/organizations/${team.organizationId}/memberships`, { token: team.manager.token, body: { user_id: team.manager.id, role: 'OW' } });
    expect(r.status).toBe(403);
    expect(r.body.detail).toContain('members.change_role');
  });
});
