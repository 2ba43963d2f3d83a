/**
 * Organizations over HTTP (and the CLI), on SQLite and PostgreSQL: the superuser creates
 * organizations for existing owners, a member of several organizations switches between them
 * (per request by header, or durably), and the Owner hands ownership over in one transaction.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/chain.js';
import type { Role } from '../../src/authz/permissions.js';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { makeMember, makeOrganization, makeWorkspace, type Member } from '../factories.js';

const SUPER_EMAIL = 'root@example.test';
const SUPER_TOKEN = 'superuser-token-0123456789abcdef';
const HEADER = 'X-Labelvault-Organization';

describe.each(DIALECTS)('organizations API on %s', (dialect) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(dialect, { LABEL_STUDIO_USERNAME: SUPER_EMAIL, LABEL_STUDIO_PASSWORD: 'Tr1cky-Root-Passphrase', LABEL_STUDIO_USER_TOKEN: SUPER_TOKEN });
  });
  afterAll(async () => s?.close());

  /** Gives an existing user a (further) membership. */
  const join = async (orgId: number, user: Member, role: Role) => {
    const now = new Date().toISOString();
    await s.deps.db.insertInto('memberships').values({ organization_id: orgId, user_id: user.id, role, created_at: now, updated_at: now }).execute();
  };
  const roleOf = async (orgId: number, userId: number) =>
    (await s.deps.db.selectFrom('memberships').select('role').where('organization_id', '=', orgId).where('user_id', '=', userId).executeTakeFirstOrThrow()).role;
  const auditOf = (action: string, objectId: number) =>
    s.deps.db.selectFrom('audit_events').selectAll().where('action', '=', action).where('object_id', '=', String(objectId)).execute();

  describe('creation by the superuser', () => {
    it('refuses anonymous callers and every non-superuser, Owners included (403 naming the permission)', async () => {
      const { owner } = await makeOrganization(s.deps);
      expect((await call(s, 'POST', '/api/organizations', { body: { title: 'x', owner: owner.email } })).status).toBe(401);
      const denied = await call(s, 'POST', '/api/organizations/', { token: owner.token, body: { title: 'x', owner: owner.email } });
      expect(denied.status).toBe(403);
      expect(denied.body.detail).toContain('organization.create');
    });

    it('names the field at fault: unknown owner, missing title', async () => {
      const unknown = await call(s, 'POST', '/api/organizations', { token: SUPER_TOKEN, body: { title: 'x', owner: 'nobody@example.test' } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.validation_errors).toHaveProperty('owner');
      const byMissingId = await call(s, 'POST', '/api/organizations', { token: SUPER_TOKEN, body: { title: 'x', owner: 999_999 } });
      expect(byMissingId.status).toBe(400);
      expect(byMissingId.body.validation_errors).toHaveProperty('owner');
      const noTitle = await call(s, 'POST', '/api/organizations', { token: SUPER_TOKEN, body: { owner: SUPER_EMAIL } });
      expect(noTitle.status).toBe(400);
      expect(noTitle.body.validation_errors).toHaveProperty('title');
    });

    it('creates an organization whose named owner (by email or id) becomes its Owner, audited', async () => {
      const { owner: someone } = await makeOrganization(s.deps);
      const r = await call(s, 'POST', '/api/organizations', { token: SUPER_TOKEN, body: { title: 'Acme Labs', owner: someone.email.toUpperCase() } });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ id: expect.any(Number), title: 'Acme Labs' });
      expect(await roleOf(r.body.id, someone.id)).toBe('OW');
      const listed = await call(s, 'GET', '/api/organizations', { token: someone.token });
      expect(listed.body.map((o: any) => o.id)).toContain(r.body.id);
      const [event] = await auditOf('organization.create', r.body.id);
      expect(event).toMatchObject({ organization_id: r.body.id, actor_email: SUPER_EMAIL });
      const byId = await call(s, 'POST', '/api/organizations', { token: SUPER_TOKEN, body: { title: 'Second', owner: someone.id } });
      expect(byId.status).toBe(201);
      expect(await roleOf(byId.body.id, someone.id)).toBe('OW');
      // The superuser named nobody but the owner: it is no member of the new organization.
      expect((await call(s, 'GET', `/api/organizations/${r.body.id}`, { token: SUPER_TOKEN })).status).toBe(404);
    });

    it('labelvault org create --title --owner does the same from the command line', async () => {
      const { owner: someone } = await makeOrganization(s.deps);
      const run = promisify(execFile);
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'org', 'create', '--title', 'From CLI', '--owner', someone.email], {
        env: { ...process.env, ...s.env },
        cwd: process.cwd(),
      });
      const id = Number(/created organization (\d+)/.exec(stdout)?.[1]);
      expect(id).toBeGreaterThan(0);
      expect(await roleOf(id, someone.id)).toBe('OW');
      expect(await auditOf('organization.create', id)).toHaveLength(1);
      const refused = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'org', 'create', '--title', 'X', '--owner', 'nobody@example.test'], { env: { ...process.env, ...s.env } }).catch((e: { code: number; stderr: string }) => e);
      expect(refused).toMatchObject({ code: 2 });
      expect((refused as { stderr: string }).stderr).toMatch(/owner/);
    }, 30_000);
  });

  describe('active organization', () => {
    let a: { id: number; owner: Member };
    let b: { id: number; owner: Member };
    let user: Member;
    let projectA: number;
    let projectB: number;
    beforeAll(async () => {
      [a, b] = await Promise.all([makeOrganization(s.deps), makeOrganization(s.deps)]);
      user = await makeMember(s.deps, a.id, 'MA');
      await join(b.id, user, 'MA');
      const wsA = await makeWorkspace(s.deps, a.id, [user], 'A team');
      const wsB = await makeWorkspace(s.deps, b.id, [b.owner, user], 'B team');
      projectA = (await call(s, 'POST', '/api/projects', { token: user.token, body: { workspace: wsA, title: 'In A' } })).body.id;
      projectB = (await call(s, 'POST', '/api/projects', { token: b.owner.token, body: { workspace: wsB, title: 'In B' } })).body.id;
    });
    const listedIds = async (headers?: Record<string, string>) => (await call(s, 'GET', '/api/projects?page_size=-1', { token: user.token, headers })).body.results.map((p: any) => p.id);

    it('acts in the active organization; the header switches one request to another the user is active in', async () => {
      expect((await call(s, 'GET', `/api/projects/${projectA}`, { token: user.token })).status).toBe(200);
      expect((await call(s, 'GET', `/api/projects/${projectB}`, { token: user.token })).status).toBe(404);
      expect(await listedIds()).toEqual([projectA]);
      const h = { [HEADER]: String(b.id) };
      expect((await call(s, 'GET', `/api/projects/${projectB}`, { token: user.token, headers: h })).status).toBe(200);
      expect((await call(s, 'GET', `/api/projects/${projectA}`, { token: user.token, headers: h })).status).toBe(404);
      expect(await listedIds(h)).toEqual([projectB]);
      const who = await call(s, 'GET', '/api/current-user/whoami', { token: user.token, headers: h });
      expect(who.body.active_organization).toBe(a.id);
      // The header lasts one request.
      expect((await call(s, 'GET', `/api/projects/${projectB}`, { token: user.token })).status).toBe(404);
    });

    it('refuses a header naming an organization the user is not active in (403) or not an id (400)', async () => {
      const stranger = await makeOrganization(s.deps);
      const refused = await call(s, 'GET', '/api/projects', { token: user.token, headers: { [HEADER]: String(stranger.id) } });
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ code: 'ORGANIZATION_NOT_AVAILABLE' });
      expect(refused.body.detail).toContain(HEADER);
      expect((await call(s, 'GET', '/api/projects', { token: user.token, headers: { [HEADER]: 'abc' } })).status).toBe(400);
      const deactivatedIn = await makeOrganization(s.deps);
      await join(deactivatedIn.id, user, 'DI');
      expect((await call(s, 'GET', '/api/projects', { token: user.token, headers: { [HEADER]: String(deactivatedIn.id) } })).status).toBe(403);
      expect((await call(s, 'GET', '/api/projects', { headers: { [HEADER]: String(a.id) } })).status).toBe(401);
    });

    it('switches durably through POST /api/current-user/active-organization (audited)', async () => {
      const stranger = await makeOrganization(s.deps);
      const bad = await call(s, 'POST', '/api/current-user/active-organization', { token: user.token, body: { organization: stranger.id } });
      expect(bad.status).toBe(400);
      expect(bad.body.validation_errors).toHaveProperty('organization');
      expect((await call(s, 'POST', '/api/current-user/active-organization', { token: user.token, body: {} })).status).toBe(400);

      const ok = await call(s, 'POST', '/api/current-user/active-organization/', { token: user.token, body: { organization: b.id } });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ id: user.id, active_organization: b.id });
      expect((await call(s, 'GET', `/api/projects/${projectB}`, { token: user.token })).status).toBe(200);
      expect((await call(s, 'GET', `/api/projects/${projectA}`, { token: user.token })).status).toBe(404);
      expect(await listedIds()).toEqual([projectB]);
      expect((await call(s, 'GET', `/api/projects/${projectA}`, { token: user.token, headers: { [HEADER]: String(a.id) } })).status).toBe(200);
      const [event] = await auditOf('user.active_organization', user.id);
      expect(JSON.parse(event!.changes)).toEqual({ active_organization: { before: a.id, after: b.id } });

      // Deactivated in the active organization, the user still works in the other one.
      await s.deps.db.updateTable('memberships').set({ role: 'DI' }).where('organization_id', '=', b.id).where('user_id', '=', user.id).execute();
      expect((await call(s, 'GET', `/api/projects/${projectA}`, { token: user.token })).status).toBe(200);
      expect((await call(s, 'GET', `/api/projects/${projectB}`, { token: user.token })).status).toBe(404);
      expect((await call(s, 'GET', '/api/projects', { token: user.token, headers: { [HEADER]: String(b.id) } })).status).toBe(403);
      await s.deps.db.updateTable('memberships').set({ role: 'MA' }).where('organization_id', '=', b.id).where('user_id', '=', user.id).execute();
    });
  });

  describe('ownership transfer', () => {
    it('only the Owner transfers, to an active member; the old Owner becomes an Administrator', async () => {
      const org = await makeOrganization(s.deps);
      const [admin, annotator, deactivated] = await Promise.all([makeMember(s.deps, org.id, 'AD'), makeMember(s.deps, org.id, 'AN'), makeMember(s.deps, org.id, 'DI')]);
      const outsider = await makeOrganization(s.deps);
      const url = `/api/organizations/${org.id}/transfer-ownership`;

      expect((await call(s, 'POST', url, { body: { user: admin.id } })).status).toBe(401);
      expect((await call(s, 'POST', url, { token: outsider.owner.token, body: { user: admin.id } })).status).toBe(404);
      const byAdmin = await call(s, 'POST', url, { token: admin.token, body: { user: admin.id } });
      expect(byAdmin.status).toBe(403);
      expect(byAdmin.body.detail).toContain('members.transfer_ownership');
      for (const user of [org.owner.id, outsider.owner.id, deactivated.id]) {
        const r = await call(s, 'POST', url, { token: org.owner.token, body: { user } });
        expect(r.status, String(user)).toBe(400);
        expect(r.body.validation_errors).toHaveProperty('user');
      }
      expect(await roleOf(org.id, org.owner.id)).toBe('OW');

      const ok = await call(s, 'POST', `${url}/`, { token: org.owner.token, body: { user: annotator.id } });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ organization: org.id, owner: annotator.id, previous_owner: org.owner.id });
      expect(await roleOf(org.id, annotator.id)).toBe('OW');
      expect(await roleOf(org.id, org.owner.id)).toBe('AD');
      const [event] = await auditOf('organization.ownership_transfer', org.id);
      expect(JSON.parse(event!.changes)).toMatchObject({ owner: { before: org.owner.id, after: annotator.id } });
      // The former Owner is an Administrator now: no second transfer.
      expect((await call(s, 'POST', url, { token: org.owner.token, body: { user: admin.id } })).status).toBe(403);
      const who = await call(s, 'GET', '/api/current-user/whoami', { token: annotator.token });
      expect(who.body.permissions).toContain('members.transfer_ownership');
    });

    it('role changes still never assign Owner nor touch the Owner', async () => {
      const org = await makeOrganization(s.deps);
      const [admin, manager] = await Promise.all([makeMember(s.deps, org.id, 'AD'), makeMember(s.deps, org.id, 'MA')]);
      const url = `/api/organizations/${org.id}/memberships`;
      const assign = await call(s, 'PATCH', url, { token: admin.token, body: { user_id: manager.id, role: 'OW' } });
      expect(assign.status).toBe(400);
      expect(assign.body.validation_errors).toHaveProperty('role');
      expect((await call(s, 'PATCH', url, { token: org.owner.token, body: { user_id: manager.id, role: 'OW' } })).status).toBe(400);
      expect((await call(s, 'PATCH', url, { token: admin.token, body: { user_id: org.owner.id, role: 'AN' } })).status).toBe(403);
      expect(await roleOf(org.id, org.owner.id)).toBe('OW');
      expect((await call(s, 'PATCH', url, { token: admin.token, body: { user_id: manager.id, role: 'RE' } })).status).toBe(200);
    });

    it('keeps the audit chain intact', async () => {
      expect(await verifyAuditChain(s.deps.db, s.deps.secrets)).toMatchObject({ ok: true });
    });
  });
});
