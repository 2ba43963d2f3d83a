/**
 * Label Studio client behaviours: Python-style query booleans, POST /api/tasks, deleting all
 * tasks, and oversized ids refused with 400 (never a 500), on both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { addToProject, assignTask, makeMember, makeOrganization, type Member } from '../factories.js';

const CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/></Choices></View>';

describe.each(DIALECTS)('Label Studio client compatibility on %s', (dialect) => {
  let s: TestServer;
  let manager: Member;
  let annotator: Member;
  let projectId: number;
  beforeAll(async () => {
    s = await startServer(dialect);
    const org = await makeOrganization(s.deps);
    manager = await makeMember(s.deps, org.id, 'MA');
    annotator = await makeMember(s.deps, org.id, 'AN');
    projectId = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { label_config: CONFIG } })).body.id;
    await addToProject(s.deps, projectId, annotator);
    await call(s, 'POST', `/api/projects/${projectId}/import`, { token: manager.token, body: [{ text: 'a' }, { text: 'b' }] });
  });
  afterAll(async () => s?.close());

  it('accepts True/False and 1/0 for query booleans', async () => {
    expect((await call(s, 'GET', `/api/tasks?project=${projectId}&fields=all&resolve_uri=True`, { token: manager.token })).status).toBe(200);
    expect((await call(s, 'GET', `/api/projects/${projectId}/export?exportType=JSON&download_all_tasks=True`, { token: manager.token })).status).toBe(200);
    const imp = await call(s, 'POST', `/api/projects/${projectId}/import?return_task_ids=1`, { token: manager.token, body: [{ text: 'c' }] });
    expect(imp.status).toBe(201);
    expect(imp.body.task_ids).toHaveLength(1);
    expect((await call(s, 'GET', `/api/tasks?project=${projectId}&resolve_uri=maybe`, { token: manager.token })).status).toBe(400);
  });

  it('creates one task with POST /api/tasks', async () => {
    const r = await call(s, 'POST', '/api/tasks/', { token: manager.token, body: { project: projectId, data: { text: 'new' }, meta: { source: 'sdk' } } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ project: projectId, data: { text: 'new' }, meta: { source: 'sdk' } });
    expect((await call(s, 'POST', '/api/tasks/', { token: manager.token, body: { project: projectId, data: { other: 1 } } })).status).toBe(400);
    expect((await call(s, 'POST', '/api/tasks/', { token: annotator.token, body: { project: projectId, data: { text: 'x' } } })).status).toBe(403);
    const stranger = await makeOrganization(s.deps);
    // Another organization's project named in the body: not found, its existence not revealed.
    expect((await call(s, 'POST', '/api/tasks/', { token: stranger.owner.token, body: { project: projectId, data: { text: 'x' } } })).status).toBe(404);
  });

  it('answers 400, never 500, for ids beyond the database range and absurd numbers', async () => {
    for (const p of [`/api/tasks?project=9999999999`, '/api/predictions?task=99999999999', '/api/tasks/99999999999', `/api/projects/${projectId}/export?ids=99999999999999999999`]) {
      const r = await call(s, 'GET', p, { token: manager.token });
      expect(r.status, p).toBe(400);
    }
    const t = (await call(s, 'GET', `/api/tasks?project=${projectId}`, { token: manager.token })).body.tasks[0].id;
    await assignTask(s, manager.token, projectId, t, annotator.id);
    expect((await call(s, 'POST', `/api/tasks/${t}/annotations`, { token: annotator.token, body: { result: [], lead_time: 1e308 } })).status).toBe(400);
    const precise = await call(s, 'POST', `/api/tasks/${t}/annotations`, { token: annotator.token, body: { result: [], lead_time: 12.3456789 } });
    expect(precise.body.lead_time).toBe(12.3456789);
    expect((await call(s, 'POST', `/api/tasks/${t}/annotations`, { token: annotator.token, body: { result: [], draft_id: 1e20 } })).status).toBe(400);
  });

  it('deletes all tasks of a project (Managers only)', async () => {
    expect((await call(s, 'DELETE', `/api/projects/${projectId}/tasks/`, { token: annotator.token })).status).toBe(403);
    expect((await call(s, 'DELETE', `/api/projects/${projectId}/tasks/`, { token: manager.token })).status).toBe(204);
    expect((await call(s, 'GET', `/api/tasks?project=${projectId}`, { token: manager.token })).body.total).toBe(0);
  });
  it('creates a project from a form post (urlencoded or multipart), coercing its fields', async () => {
    const form = new FormData();
    form.append('title', 'From a form');
    form.append('maximum_annotations', '3');
    form.append('show_skip_button', 'false');
    const multi = await fetch(`${s.url}/api/projects`, { method: 'POST', headers: { authorization: `Token ${manager.token}` }, body: form });
    expect(multi.status).toBe(201);
    expect(await multi.json()).toMatchObject({ title: 'From a form', maximum_annotations: 3, show_skip_button: false });
    const url = await fetch(`${s.url}/api/projects`, { method: 'POST', headers: { authorization: `Token ${manager.token}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'title=Encoded&color=%23AABBCC' });
    expect(await url.json()).toMatchObject({ title: 'Encoded', color: '#AABBCC' });
    const withFile = new FormData();
    withFile.append('title', 'x');
    withFile.append('file', new Blob(['x']), 'x.txt');
    expect((await fetch(`${s.url}/api/projects`, { method: 'POST', headers: { authorization: `Token ${manager.token}` }, body: withFile })).status).toBe(400);
    const unknown = new FormData();
    unknown.append('organization', '999');
    expect((await fetch(`${s.url}/api/projects`, { method: 'POST', headers: { authorization: `Token ${manager.token}` }, body: unknown })).status).toBe(400);
  });

  it('orders a project’s plain task list', async () => {
    const p = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { label_config: CONFIG } })).body.id;
    await call(s, 'POST', `/api/projects/${p}/import`, { token: manager.token, body: [{ text: 'a' }, { text: 'b' }] });
    const asc = await call(s, 'GET', `/api/projects/${p}/tasks?ordering=inner_id`, { token: manager.token });
    expect(asc.body.map((t: { inner_id: number }) => t.inner_id)).toEqual([1, 2]);
    expect((await call(s, 'GET', `/api/projects/${p}/tasks?ordering=password`, { token: manager.token })).status).toBe(400);
  });
});
