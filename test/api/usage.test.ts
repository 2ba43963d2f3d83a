/** Usage statistics: counted locally when enabled; with COLLECT_ANALYTICS=false nothing is recorded. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { addToProject, makeMember, makeOrganization, type Member } from '../factories.js';

const CONFIG = '<View><Image name="img" value="$image"/><Choices name="c" toName="img"><Choice value="A"/></Choices></View>';

/** A short session of activity: a project, an import, an annotation, an export, page visits. */
async function activity(s: TestServer, manager: Member, annotator: Member) {
  const p = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { label_config: CONFIG } })).body.id;
  await addToProject(s.deps, p, annotator);
  const ids = (await call(s, 'POST', `/api/projects/${p}/import?return_task_ids=true`, { token: manager.token, body: [{ image: 'a.png' }] })).body.task_ids;
  await call(s, 'GET', `/api/projects/${p}/next`, { token: annotator.token }); // the annotator takes the task from the label stream
  await call(s, 'POST', `/api/tasks/${ids[0]}/annotations`, { token: annotator.token, body: { result: [{ from_name: 'c', to_name: 'img', type: 'choices', value: { choices: ['A'] } }] } });
  await call(s, 'GET', `/api/projects/${p}/export?download_all_tasks=true`, { token: manager.token });
  await call(s, 'GET', `/api/projects/${p}`, { token: annotator.token });
  // The web app reports each page it shows; the server counts the page's pattern, never the path.
  for (const path of [`/projects/${p}/label`, `/projects/${p}/label/?next=/projects/${p}/data`, '/projects', '/projects/new']) {
    await call(s, 'POST', '/api/usage/page-visits', { token: annotator.token, body: { path } });
  }
  return p;
}

describe.each(DIALECTS)('usage statistics on %s', (dialect) => {
  describe('collected', () => {
    let s: TestServer;
    let admin: Member;
    let manager: Member;
    let annotator: Member;
    let projectId: number;
    beforeAll(async () => {
      s = await startServer(dialect);
      const org = await makeOrganization(s.deps);
      [admin, manager, annotator] = await Promise.all([makeMember(s.deps, org.id, 'AD'), makeMember(s.deps, org.id, 'MA'), makeMember(s.deps, org.id, 'AN')]);
      projectId = await activity(s, manager, annotator);
    });
    afterAll(async () => s?.close());

    it('shows the organization’s counts to Administrators', async () => {
      const r = await call(s, 'GET', '/api/usage', { token: admin.token });
      expect(r.status).toBe(200);
      expect(r.body.collect_analytics).toBe(true);
      expect(r.body.totals).toMatchObject({ 'projects.created': 1, 'imports.completed': 1, 'annotations.created': 1, 'exports.downloaded': 1, 'api:GET /api/projects/:id': 1 });
      expect(r.body.data_types).toEqual({ Image: 1 });
      expect(r.body.counts).toMatchObject({ projects: 1, tasks: 1, annotations: 1 });
      expect(JSON.stringify(r.body)).not.toContain('a.png'); // route patterns only, never data or URLs
      expect((await call(s, 'GET', '/api/usage', { token: manager.token })).status).toBe(403);
      const stranger = await makeOrganization(s.deps);
      expect((await call(s, 'GET', '/api/usage', { token: stranger.owner.token })).body.totals).toEqual({});
    });

    it('counts web app page visits by route pattern, never by path or query', async () => {
      const r = await call(s, 'GET', '/api/usage', { token: admin.token });
      const pages = Object.fromEntries(Object.entries(r.body.totals as Record<string, number>).filter(([k]) => k.startsWith('page:')));
      expect(pages).toEqual({ 'page:/projects/:id/label': 2, 'page:/projects': 1, 'page:/projects/new': 1 });
      expect(r.body.totals['api:POST /api/usage/page-visits']).toBeUndefined(); // a visit counts as the page, not as an API call
      const stored = JSON.stringify(await s.deps.db.selectFrom('usage_counters').select('metric').execute());
      expect(stored).not.toContain(`/projects/${projectId}`);
      expect(stored).not.toContain('next=');
    });

    it('answers the pattern it counted; a path that is no page of the app is not counted; bad input names the field', async () => {
      const visit = (body: unknown) => call(s, 'POST', '/api/usage/page-visits', { body });
      expect((await visit({ path: '/projects/7/settings/labeling' })).body).toEqual({ collect_analytics: true, page: '/projects/:id/settings/:section' });
      expect((await visit({ path: '/login?next=/projects/7' })).body).toEqual({ collect_analytics: true, page: '/login' });
      expect((await visit({ path: '/etc/passwd' })).body).toEqual({ collect_analytics: true, page: null });
      expect((await visit({ path: '/projects/7/label/extra' })).body.page).toBeNull();
      const bad = await visit({ page: '/projects' });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toMatch(/path/);
      await s.app.usage!.flush();
      const anonymous = await s.deps.db.selectFrom('usage_counters').select(['metric', 'value']).where('organization_id', '=', 0).where('metric', 'like', 'page:%').orderBy('metric').execute();
      expect(anonymous.map((m) => [m.metric, Number(m.value)])).toEqual([
        ['page:/login', 1],
        ['page:/projects/:id/settings/:section', 1],
      ]);
    });
  });

  describe('COLLECT_ANALYTICS=false', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startServer(dialect, { COLLECT_ANALYTICS: 'False' });
    });
    afterAll(async () => s?.close());

    it('records nothing after a session of activity', async () => {
      const org = await makeOrganization(s.deps);
      const manager = await makeMember(s.deps, org.id, 'MA');
      await activity(s, manager, await makeMember(s.deps, org.id, 'AN'));
      const r = await call(s, 'GET', '/api/usage', { token: org.owner.token });
      expect(r.body).toMatchObject({ collect_analytics: false, totals: {}, daily: [] });
      // The web app is told to stop reporting pages.
      expect((await call(s, 'POST', '/api/usage/page-visits', { body: { path: '/projects' } })).body).toEqual({ collect_analytics: false, page: '/projects' });
      await s.app.close();
      expect(await s.deps.db.selectFrom('usage_counters').selectAll().execute()).toEqual([]);
    });
  });
});
