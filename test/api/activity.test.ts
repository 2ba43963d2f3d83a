/**
 * The activity log and audit events over HTTP: each kind of action is found with the right actor,
 * object and changes; a refused import leaves no event; only Administrators and the Owner read
 * them, for their own organization; exports stream JSONL and CSV.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, cookiesFrom, DIALECTS, startServer, type TestServer } from '../harness.js';
import { addToProject, makeMember, makeOrganization, makeWorkspace, PASSWORD, type Member } from '../factories.js';

const CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>';

describe.each(DIALECTS)('activity log on %s', (dialect) => {
  let s: TestServer;
  let admin: Member;
  let manager: Member;
  let annotator: Member;
  let projectId: number;
  beforeAll(async () => {
    s = await startServer(dialect);
    const org = await makeOrganization(s.deps);
    admin = await makeMember(s.deps, org.id, 'AD');
    manager = await makeMember(s.deps, org.id, 'MA');
    annotator = await makeMember(s.deps, org.id, 'AN');
    projectId = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { title: 'Audited', label_config: CONFIG } })).body.id;
    await addToProject(s.deps, projectId, annotator);
  });
  afterAll(async () => s?.close());

  const events = async (query: string) => (await call(s, 'GET', `/api/audit-events?${query}`, { token: admin.token })).body;

  it('records project, import, annotation and settings changes with actor, object and changes', async () => {
    const imp = await call(s, 'POST', `/api/projects/${projectId}/import?return_task_ids=true`, { token: manager.token, body: [{ text: 'x' }] });
    const taskId = imp.body.task_ids[0];
    expect((await call(s, 'GET', `/api/projects/${projectId}/next`, { token: annotator.token })).body.id).toBe(taskId); // the annotator takes it from the label stream
    const ann = await call(s, 'POST', `/api/tasks/${taskId}/annotations`, { token: annotator.token, body: { result: [{ from_name: 'c', to_name: 'text', type: 'choices', value: { choices: ['A'] } }] } });
    await call(s, 'PATCH', `/api/annotations/${ann.body.id}`, { token: annotator.token, body: { result: [{ from_name: 'c', to_name: 'text', type: 'choices', value: { choices: ['B'] } }] } });
    await call(s, 'PATCH', `/api/projects/${projectId}`, { token: manager.token, body: { title: 'Renamed', maximum_annotations: 2 } });

    const created = (await events(`action=project.create&project=${projectId}`)).results[0];
    expect(created).toMatchObject({ actor_user_id: manager.id, actor_email: manager.email, auth_method: 'token', object_type: 'project', object_id: String(projectId), ip: '127.0.0.1' });
    expect(created.request_id).toMatch(/[0-9a-f-]{36}/);
    expect((await events('action=task.import')).results[0].changes).toMatchObject({ task_count: 1 });
    const update = (await events(`action=annotation.update&object_id=${ann.body.id}`)).results[0];
    expect(update.actor_user_id).toBe(annotator.id);
    expect(update.changes.result.before[0].value.choices).toEqual(['A']);
    expect(update.changes.result.after[0].value.choices).toEqual(['B']);
    const settings = (await events('action=project.update')).results[0];
    expect(settings.changes).toMatchObject({ title: { before: 'Audited', after: 'Renamed' }, maximum_annotations: { before: 1, after: 2 } });
  });

  it('writes no event for an import that was refused and rolled back', async () => {
    const before = (await events('action=task.import')).count;
    const bad = await call(s, 'POST', `/api/projects/${projectId}/import`, { token: manager.token, body: [{ text: 'ok' }, { other: 'missing text' }] });
    expect(bad.status).toBe(400);
    expect((await events('action=task.import')).count).toBe(before);
  });

  it('lists requests in Label Studio’s activity-log shape with the events each recorded', async () => {
    await call(s, 'GET', `/api/projects/${projectId}`, { token: annotator.token });
    const r = await call(s, 'GET', `/api/activity-logs?project=${projectId}&method=PATCH`, { token: admin.token });
    expect(r.status).toBe(200);
    expect(r.body.recordsFiltered).toBeGreaterThan(0);
    expect(r.body.recordsTotal).toBeGreaterThanOrEqual(r.body.recordsFiltered);
    const patch = r.body.data.find((d: { request_url: string }) => d.request_url === `/api/projects/${projectId}`);
    expect(patch).toMatchObject({ request_method: 'PATCH', response_code: '200', email: manager.email, user_id: manager.id });
    expect(patch.extra_data.events.map((e: { action: string }) => e.action)).toContain('project.update');
    const byAction = await call(s, 'GET', '/api/activity-logs?action=annotation.create', { token: admin.token });
    expect(byAction.body.data.length).toBeGreaterThan(0); // the annotation submitted in the first test
    expect(byAction.body.data.every((d: { request_method: string; request_url: string }) => d.request_method === 'POST' && /^\/api\/tasks\/\d+\/annotations$/.test(d.request_url))).toBe(true);
    expect((await call(s, 'GET', '/api/activity-logs?page=1000', { token: admin.token })).status).toBe(404);
    expect((await call(s, 'GET', '/api/activity-logs?start_date=yesterday-ish', { token: admin.token })).status).toBe(400);
  });

  it('shows logs to Administrators and the Owner of the organization only', async () => {
    expect((await call(s, 'GET', '/api/activity-logs', { token: manager.token })).status).toBe(403);
    expect((await call(s, 'GET', '/api/audit-events', { token: annotator.token })).status).toBe(403);
    const stranger = await makeOrganization(s.deps);
    const theirs = await call(s, 'GET', `/api/audit-events?project=${projectId}`, { token: stranger.owner.token });
    expect(theirs.body.count).toBe(0);
    const denied = await events(`action=permission.denied&user=${manager.id}`);
    expect(denied.results[0].changes).toMatchObject({ permission: 'audit.view', role: 'MA' });
  });

  it('filters by workspace_id: the requests about its projects only; a workspace the caller cannot see is 404', async () => {
    const org = await s.deps.db.selectFrom('projects').select(['organization_id', 'workspace_id']).where('id', '=', projectId).executeTakeFirstOrThrow();
    const [wsA, wsB] = [await makeWorkspace(s.deps, org.organization_id, [manager], 'A'), await makeWorkspace(s.deps, org.organization_id, [manager], 'B')];
    const inA = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { title: 'In A', label_config: CONFIG, workspace: wsA } })).body.id;
    const inB = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { title: 'In B', label_config: CONFIG, workspace: wsB } })).body.id;
    await call(s, 'PATCH', `/api/projects/${inA}`, { token: manager.token, body: { title: 'A renamed' } });
    await call(s, 'PATCH', `/api/projects/${inB}`, { token: manager.token, body: { title: 'B renamed' } });

    const a = await call(s, 'GET', `/api/activity-logs?workspace_id=${wsA}`, { token: admin.token });
    expect(a.status).toBe(200);
    expect(a.body.recordsFiltered).toBeGreaterThan(0);
    expect(new Set(a.body.data.map((d: { project_id: number }) => d.project_id))).toEqual(new Set([inA]));
    const patchA = await call(s, 'GET', `/api/activity-logs?workspace_id=${wsA}&method=PATCH`, { token: admin.token });
    expect(patchA.body.data.map((d: { request_url: string }) => d.request_url)).toEqual([`/api/projects/${inA}`]);
    expect((await call(s, 'GET', `/api/activity-logs?workspace_id=${wsA}&project=${inB}`, { token: admin.token })).body.recordsFiltered).toBe(0);

    // Hidden workspaces are "not found": another organization's, a Manager's private sandbox, one that does not exist.
    const stranger = await makeOrganization(s.deps);
    const theirs = await makeWorkspace(s.deps, stranger.id, [stranger.owner]);
    expect((await call(s, 'GET', `/api/activity-logs?workspace_id=${theirs}`, { token: admin.token })).status).toBe(404);
    expect((await call(s, 'GET', `/api/activity-logs?workspace_id=${org.workspace_id}`, { token: admin.token })).status).toBe(404);
    expect((await call(s, 'GET', '/api/activity-logs?workspace_id=999999', { token: admin.token })).status).toBe(404);
    expect((await call(s, 'GET', `/api/activity-logs?workspace_id=${theirs}`, { token: stranger.owner.token })).body.recordsFiltered).toBe(0);
    const bad = await call(s, 'GET', '/api/activity-logs?workspace_id=abc', { token: admin.token });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/workspace_id/);
    // A Manager sees workspace A but lacks audit.view.
    expect((await call(s, 'GET', `/api/activity-logs?workspace_id=${wsA}`, { token: manager.token })).status).toBe(403);
  });

  it('gives Label Studio’s fields and aliases: workspace is the workspace (organization) owner’s id, start/length page', async () => {
    const ownerId = (await s.deps.db.selectFrom('memberships').select('user_id').where('organization_id', '=', admin.organizationId).where('role', '=', 'OW').executeTakeFirstOrThrow()).user_id;
    const all = await call(s, 'GET', '/api/activity-logs', { token: admin.token });
    expect(all.body.data.length).toBeGreaterThan(2);
    for (const d of all.body.data) expect(d).toMatchObject({ user_session: null, workspace_owner_id: ownerId });
    // A browser session's requests carry its tag (8 hex characters, the same for each of its requests, another for another session).
    const session = async () => cookiesFrom(await call(s, 'POST', '/api/auth/login', { body: { email: admin.email, password: PASSWORD } }));
    const [one, two] = [await session(), await session()];
    for (const cookie of [one, one, two]) expect((await call(s, 'GET', '/api/current-user/whoami', { cookie })).status).toBe(200);
    await s.app.requestLog.flush();
    const tagged = (await call(s, 'GET', '/api/activity-logs?page_size=20', { token: admin.token })).body.data.filter((d: { request_url: string }) => d.request_url === '/api/current-user/whoami');
    const tags = tagged.map((d: { user_session: string | null }) => d.user_session);
    expect(tags).toHaveLength(3);
    expect(tags.every((t: string | null) => t !== null && /^[0-9a-f]{8}$/.test(t))).toBe(true);
    expect(new Set(tags).size).toBe(2);
    const owned = await call(s, 'GET', `/api/activity-logs?workspace=${ownerId}`, { token: admin.token });
    expect(owned.body.recordsFiltered).toBe(owned.body.recordsTotal);
    expect((await call(s, 'GET', `/api/activity-logs?workspace=${admin.id}`, { token: admin.token })).body.recordsFiltered).toBe(0);
    const bad = await call(s, 'GET', '/api/activity-logs?workspace=x', { token: admin.token });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/workspace/);

    const byPage = await call(s, 'GET', '/api/activity-logs?page=2&page_size=2&ordering=id', { token: admin.token });
    const byAlias = await call(s, 'GET', '/api/activity-logs?start=2&length=2&ordering=id', { token: admin.token });
    expect(byAlias.body.data).toHaveLength(2);
    expect(byAlias.body.data.map((d: { id: number }) => d.id)).toEqual(byPage.body.data.map((d: { id: number }) => d.id));
    const everything = await call(s, 'GET', '/api/activity-logs?length=-1', { token: admin.token });
    expect(everything.body.data).toHaveLength(everything.body.recordsFiltered);
    expect((await call(s, 'GET', '/api/activity-logs?length=abc', { token: admin.token })).status).toBe(400);
  });

  it('exports events as JSONL and CSV', async () => {
    const jsonl = await fetch(`${s.url}/api/audit-events/export?format=jsonl&project=${projectId}`, { headers: { authorization: `Token ${admin.token}` } });
    expect(jsonl.headers.get('content-disposition')).toMatch(/audit-events\.jsonl/);
    const lines = (await jsonl.text()).trim().split('\n').map((l) => JSON.parse(l) as { action: string; hash: string });
    expect(lines.map((l) => l.action)).toContain('project.create');
    expect(lines.every((l) => /^[0-9a-f]{64}$/.test(l.hash))).toBe(true);
    const csv = await (await fetch(`${s.url}/api/audit-events/export?format=csv&project=${projectId}`, { headers: { authorization: `Token ${admin.token}` } })).text();
    expect(csv.split('\r\n')[0]).toBe('id,created_at,organization_id,actor_user_id,actor_email,auth_method,ip,user_agent,request_id,action,object_type,object_id,project_id,changes,prev_hash,hash,seq');
    expect((await call(s, 'GET', '/api/audit-events/export?format=xml', { token: admin.token })).status).toBe(400);
  });
});
