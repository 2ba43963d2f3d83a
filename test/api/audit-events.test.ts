/**
 * One test per kind of audit event: each performs the action through the API and finds its event
 * (GET /api/audit-events, as the Owner) with the right actor, how they authenticated, object,
 * project and changes (secrets masked). One server per dialect; each case makes what it needs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditAction } from '../../src/audit/actions.js';
import { call, cookiesFrom, DIALECTS, startServer, type TestServer } from '../harness.js';
import { makeMember, makeOrganization, makeWorkspace, PASSWORD, type Member } from '../factories.js';

const CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>';
const CONFIG_2 = CONFIG.replace('<Choice value="B"/>', '<Choice value="B"/><Choice value="C"/>');
const UA = 'audit-events-test/1.0';
const choice = (v: string) => [{ from_name: 'c', to_name: 'text', type: 'choices', value: { choices: [v] } }];

/** What the event of a case must say. `actor` null: nobody authenticated (and none is named). */
interface Expected {
  actor: { id: number; email: string } | null;
  authMethod: 'session' | 'token' | 'anonymous';
  objectType: string;
  objectId: number | string | null;
  projectId?: number | null;
  changes: Record<string, unknown>;
}

interface Case {
  action: AuditAction;
  what: string;
  /** Performs the action through the API; returns what its event must say. */
  run: () => Promise<Expected>;
}

describe.each(DIALECTS)('audit events per kind on %s', (dialect) => {
  let s: TestServer;
  let orgId: number;
  let owner: Member;
  let manager: Member;
  let workspaceId: number;
  beforeAll(async () => {
    s = await startServer(dialect);
    const org = await makeOrganization(s.deps);
    [orgId, owner] = [org.id, org.owner];
    manager = await makeMember(s.deps, orgId, 'MA');
    workspaceId = await makeWorkspace(s.deps, orgId, [manager]);
  });
  afterAll(async () => s?.close());

  /** The newest event of an action on an object, as the Owner reads it. */
  const newestEvent = async (action: string, objectId: number | string | null) => {
    const q = new URLSearchParams({ action, page_size: '-1', ...(objectId !== null && { object_id: String(objectId) }) });
    const r = await call(s, 'GET', `/api/audit-events?${q}`, { token: owner.token });
    expect(r.status).toBe(200);
    expect(r.body.results.length, `no ${action} event on ${objectId} in the Owner's log`).toBeGreaterThan(0);
    return r.body.results.at(-1);
  };
  const asToken = (m: Member, method: string, path: string, body?: unknown) => call(s, method, path, { token: m.token, headers: { 'user-agent': UA }, ...(body !== undefined && { body }) });
  const check = (r: { status: number; body: unknown }, status: number) => {
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    return r.body as any;
  };
  const newProject = async () => check(await asToken(manager, 'POST', '/api/projects', { title: 'Audited', label_config: CONFIG, workspace: workspaceId }), 201).id as number;
  const newTask = async (projectId: number) => check(await asToken(manager, 'POST', `/api/projects/${projectId}/import?return_task_ids=true`, [{ text: 'x' }]), 201).task_ids[0] as number;
  const newAnnotation = async (taskId: number, value = 'A') => check(await asToken(manager, 'POST', `/api/tasks/${taskId}/annotations`, { result: choice(value) }), 201).id as number;
  const login = async (m: Member) => {
    const r = await call(s, 'POST', '/api/auth/login', { headers: { 'user-agent': UA }, body: { email: m.email, password: PASSWORD } });
    return { cookie: cookiesFrom(r), csrf: check(r, 200).csrf_token as string };
  };
  const lastSessionOf = async (userId: number) => (await s.deps.db.selectFrom('sessions').select('id').where('user_id', '=', userId).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow()).id;
  const who = (m: Member) => ({ id: m.id, email: m.email });

  const cases: Case[] = [
    {
      action: 'auth.login',
      what: 'a password login opens a session',
      run: async () => {
        const m = await makeMember(s.deps, orgId, 'AN');
        await login(m);
        return { actor: who(m), authMethod: 'session', objectType: 'session', objectId: await lastSessionOf(m.id), changes: {} };
      },
    },
    {
      action: 'auth.login_failed',
      what: "a wrong password for a member, under the member's organization",
      run: async () => {
        const m = await makeMember(s.deps, orgId, 'AN');
        check(await call(s, 'POST', '/api/auth/login', { headers: { 'user-agent': UA }, body: { email: m.email.toUpperCase(), password: 'not-the-password' } }), 401);
        return { actor: who(m), authMethod: 'anonymous', objectType: 'user', objectId: m.id, changes: { email: m.email, reason: 'bad credentials' } };
      },
    },
    {
      action: 'auth.logout',
      what: 'logging out ends the session',
      run: async () => {
        const m = await makeMember(s.deps, orgId, 'AN');
        const session = await login(m);
        const sessionId = await lastSessionOf(m.id);
        check(await call(s, 'POST', '/api/auth/logout', { ...session, headers: { 'user-agent': UA } }), 204);
        return { actor: who(m), authMethod: 'session', objectType: 'session', objectId: sessionId, changes: {} };
      },
    },
    {
      action: 'auth.signup',
      what: 'signing up through the invite link',
      run: async () => {
        const invite = check(await asToken(owner, 'GET', '/api/invite'), 200);
        const email = `joiner${Date.now()}@example.test`;
        const user = check(await call(s, 'POST', '/api/auth/signup', { headers: { 'user-agent': UA }, body: { email, password: 'Sturdy-Passphrase-1', token: invite.token } }), 201);
        return { actor: null, authMethod: 'anonymous', objectType: 'user', objectId: user.id, changes: { email, role: 'NO', via: 'invite' } };
      },
    },
    {
      action: 'token.reset',
      what: 'resetting one’s API token',
      run: async () => {
        const m = await makeMember(s.deps, orgId, 'AN');
        check(await asToken(m, 'POST', '/api/current-user/reset-token'), 201);
        return { actor: who(m), authMethod: 'token', objectType: 'user', objectId: m.id, changes: {} };
      },
    },
    {
      action: 'auth.password_change',
      what: 'changing one’s password',
      run: async () => {
        const m = await makeMember(s.deps, orgId, 'AN');
        check(await asToken(m, 'POST', '/api/current-user/change-password', { old_password: PASSWORD, new_password: 'Another-Sturdy-Passphrase-9' }), 204);
        return { actor: who(m), authMethod: 'token', objectType: 'user', objectId: m.id, changes: {} };
      },
    },
    {
      action: 'invite.reset',
      what: 'replacing the invite link',
      run: async () => {
        check(await asToken(owner, 'POST', '/api/invite/reset-token'), 200);
        return { actor: who(owner), authMethod: 'token', objectType: 'organization', objectId: orgId, changes: {} };
      },
    },
    {
      action: 'membership.role_change',
      what: "changing a member's role",
      run: async () => {
        const m = await makeMember(s.deps, orgId, 'AN');
        const membership = check(await asToken(owner, 'PATCH', `/api/organizations/${orgId}/memberships`, { user_id: m.id, role: 'RE' }), 200);
        return { actor: who(owner), authMethod: 'token', objectType: 'membership', objectId: membership.id, changes: { user_id: m.id, role: { before: 'AN', after: 'RE' } } };
      },
    },
    {
      action: 'project.create',
      what: 'creating a project',
      run: async () => {
        const id = await newProject();
        return { actor: who(manager), authMethod: 'token', objectType: 'project', objectId: id, projectId: id, changes: { title: 'Audited', label_config: CONFIG } };
      },
    },
    {
      action: 'project.update',
      what: 'changing project settings',
      run: async () => {
        const id = await newProject();
        check(await asToken(manager, 'PATCH', `/api/projects/${id}`, { title: 'Renamed', maximum_annotations: 2 }), 200);
        return { actor: who(manager), authMethod: 'token', objectType: 'project', objectId: id, projectId: id, changes: { title: { before: 'Audited', after: 'Renamed' }, maximum_annotations: { before: 1, after: 2 } } };
      },
    },
    {
      action: 'project.config_change',
      what: 'changing the labeling config',
      run: async () => {
        const id = await newProject();
        check(await asToken(manager, 'PATCH', `/api/projects/${id}`, { label_config: CONFIG_2 }), 200);
        return { actor: who(manager), authMethod: 'token', objectType: 'project', objectId: id, projectId: id, changes: { label_config: { before: CONFIG, after: CONFIG_2 } } };
      },
    },
    {
      action: 'task.import',
      what: 'importing tasks',
      run: async () => {
        const id = await newProject();
        const taskId = await newTask(id);
        return { actor: who(manager), authMethod: 'token', objectType: 'project', objectId: id, projectId: id, changes: { task_count: 1, annotation_count: 0, prediction_count: 0, first_task: taskId, last_task: taskId } };
      },
    },
    {
      action: 'annotation.create',
      what: 'submitting an annotation',
      run: async () => {
        const id = await newProject();
        const taskId = await newTask(id);
        const annotationId = await newAnnotation(taskId);
        return { actor: who(manager), authMethod: 'token', objectType: 'annotation', objectId: annotationId, projectId: id, changes: { task: taskId, was_cancelled: false, result_count: 1 } };
      },
    },
    {
      action: 'annotation.update',
      what: 'changing an annotation',
      run: async () => {
        const id = await newProject();
        const annotationId = await newAnnotation(await newTask(id));
        check(await asToken(manager, 'PATCH', `/api/annotations/${annotationId}`, { result: choice('B') }), 200);
        const event = await newestEvent('annotation.update', annotationId);
        expect(event.changes.result.before[0].value).toEqual({ choices: ['A'] });
        expect(event.changes.result.after[0].value).toEqual({ choices: ['B'] });
        return { actor: who(manager), authMethod: 'token', objectType: 'annotation', objectId: annotationId, projectId: id, changes: { result: event.changes.result } };
      },
    },
    {
      action: 'annotation.delete',
      what: 'deleting an annotation',
      run: async () => {
        const id = await newProject();
        const taskId = await newTask(id);
        const annotationId = await newAnnotation(taskId);
        check(await asToken(manager, 'DELETE', `/api/annotations/${annotationId}`), 204);
        return { actor: who(manager), authMethod: 'token', objectType: 'annotation', objectId: annotationId, projectId: id, changes: { task: taskId, completed_by: manager.id } };
      },
    },
    {
      action: 'export.download',
      what: 'downloading a project export directly',
      run: async () => {
        const id = await newProject();
        await newTask(id);
        const r = await fetch(`${s.url}/api/projects/${id}/export?exportType=CSV&download_all_tasks=true`, { headers: { authorization: `Token ${manager.token}`, 'user-agent': UA } });
        expect(r.status).toBe(200);
        expect(await r.text()).toContain('x');
        return { actor: who(manager), authMethod: 'token', objectType: 'project', objectId: id, projectId: id, changes: { format: 'CSV', all_tasks: true, ids: null } };
      },
    },
  ];

  it.each(cases.map((c) => [c.action, c.what, c] as const))('%s: %s', async (action, _what, c) => {
    const want = await c.run();
    const event = await newestEvent(action, want.objectId);
    expect(event).toMatchObject({
      organization_id: orgId,
      actor_user_id: want.actor?.id ?? null,
      actor_email: want.actor?.email ?? 'anonymous',
      auth_method: want.authMethod,
      ip: '127.0.0.1',
      user_agent: UA,
      object_type: want.objectType,
      object_id: want.objectId === null ? null : String(want.objectId),
      project_id: want.projectId ?? null,
    });
    expect(event.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.changes).toEqual(want.changes);
    expect(JSON.stringify(event)).not.toContain(PASSWORD);
  });

  it("shows a member's failed login in the Owner's activity log with email, IP and user agent", async () => {
    const m = await makeMember(s.deps, orgId, 'AN');
    check(await call(s, 'POST', '/api/auth/login', { headers: { 'user-agent': 'stolen-laptop/2.0' }, body: { email: m.email, password: 'guessing-wrong' } }), 401);
    const log = check(await call(s, 'GET', `/api/activity-logs?user=${m.id}&search=login`, { token: owner.token }), 200);
    expect(log.data).toHaveLength(1);
    expect(log.data[0]).toMatchObject({ email: m.email, user_id: m.id, organization_id: orgId, request_method: 'POST', request_url: '/api/auth/login', response_code: '401', ip_address: '127.0.0.1', user_agent: 'stolen-laptop/2.0', auth_method: 'anonymous' });
    expect(log.data[0].extra_data.events).toEqual([{ action: 'auth.login_failed', object_type: 'user', object_id: String(m.id), project_id: null, changes: { email: m.email, reason: 'bad credentials' } }]);
    // Another organization's Owner sees nothing of it.
    const stranger = await makeOrganization(s.deps);
    expect(check(await call(s, 'GET', `/api/activity-logs?user=${m.id}`, { token: stranger.owner.token }), 200).recordsFiltered).toBe(0);
  });

  it('keeps a failed login of an unknown email out of every organization', async () => {
    const email = `nobody-${Date.now()}@example.test`;
    check(await call(s, 'POST', '/api/auth/login', { body: { email, password: 'whatever-it-is' } }), 401);
    await s.app.requestLog.flush();
    const events = await s.deps.db.selectFrom('audit_events').select(['organization_id', 'actor_user_id', 'actor_email', 'changes']).where('action', '=', 'auth.login_failed').where('changes', 'like', `%${email}%`).execute();
    expect(events).toEqual([{ organization_id: null, actor_user_id: null, actor_email: 'anonymous', changes: JSON.stringify({ email, reason: 'bad credentials' }) }]);
    const logged = await s.deps.db.selectFrom('request_logs').select(['organization_id', 'user_id', 'email']).where('url', '=', '/api/auth/login').where('status', '=', 401).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(logged).toEqual({ organization_id: null, user_id: null, email: '' });
  });

  it("records a flood of throttled logins once per window in the account's organization (a count in the event); the rest stay org-less", async () => {
    const m = await makeMember(s.deps, orgId, 'AN');
    const attempt = () => call(s, 'POST', '/api/auth/login', { headers: { 'user-agent': 'x'.repeat(512) }, body: { email: m.email, password: 'guessing-wrong' } });
    for (let i = 0; i < s.deps.config.login.maxFailuresPerAccount; i++) check(await attempt(), 401);
    const firstLog = (await s.deps.db.selectFrom('request_logs').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst())?.id ?? 0;
    for (let i = 0; i < 6; i++) check(await attempt(), 429);
    const throttledEvents = async () =>
      (await s.deps.db.selectFrom('audit_events').select(['organization_id', 'actor_user_id', 'changes']).where('action', '=', 'auth.login_failed').where('object_id', '=', String(m.id)).where('changes', 'like', '%throttled%').orderBy('id').execute()).map((e) => ({ ...e, changes: JSON.parse(e.changes) }));
    const max = s.deps.config.login.maxFailuresPerAccount;
    expect(await throttledEvents()).toEqual([{ organization_id: orgId, actor_user_id: m.id, changes: { email: m.email, reason: 'throttled', attempts_in_window: max + 1 } }]);
    const logged = async () => {
      await s.app.requestLog.flush();
      return s.deps.db.selectFrom('request_logs').select(['organization_id', 'user_id']).where('url', '=', '/api/auth/login').where('status', '=', 429).where('id', '>', Number(firstLog)).orderBy('id').execute();
    };
    // Every request is still logged; only the first is the organization's.
    expect(await logged()).toEqual([{ organization_id: orgId, user_id: m.id }, ...Array.from({ length: 5 }, () => ({ organization_id: null, user_id: null }))]);
    // The next window (its record aged out) records one again, counting the refusals it did not record.
    await s.deps.db.updateTable('login_failures').set({ at: new Date(Date.now() - s.deps.config.login.windowMs - 1000).toISOString() }).where('key', '=', `reported:email:${m.email}`).execute();
    check(await attempt(), 429);
    check(await attempt(), 429);
    expect((await throttledEvents()).map((e) => e.changes.attempts_in_window)).toEqual([max + 1, max + 7]);
    expect((await logged()).filter((r) => r.organization_id === orgId)).toHaveLength(2);
  });

  it('attributes a successful login request to the account, not to a session the browser already had', async () => {
    const [first, second] = [await makeMember(s.deps, orgId, 'AN'), await makeMember(s.deps, orgId, 'AN')];
    const session = await login(first);
    check(await call(s, 'POST', '/api/auth/login', { cookie: session.cookie, body: { email: second.email, password: PASSWORD } }), 200);
    const log = check(await call(s, 'GET', `/api/activity-logs?user=${second.id}`, { token: owner.token }), 200);
    expect(log.data.map((d: { request_url: string; auth_method: string; email: string }) => [d.request_url, d.auth_method, d.email])).toEqual([['/api/auth/login', 'session', second.email]]);
  });
});
