/** Usage statistics: counted locally when enabled; with COLLECT_ANALYTICS=false nothing is recorded. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { addToProject, makeMember, makeOrganization, type Member } from '../factories.js';

const CONFIG = '<View><Image name="img" value="$image"/><Choices name="c" toName="img"><Choice value="A"/></Choices></View>';

/** A short session of activity: a project, an import, an annotation, an export. */
async function activity(s: TestServer, manager: Member, annotator: Member) {
  const p = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { label_config: CONFIG } })).body.id;
  await addToProject(s.deps, p, annotator);
  const ids = (await call(s, 'POST', `/api/projects/${p}/import?return_task_ids=true`, { token: manager.token, body: [{ image: 'a.png' }] })).body.task_ids;
  await call(s, 'GET', `/api/projects/${p}/next`, { token: annotator.token }); // the annotator takes the task from the label stream
  await call(s, 'POST', `/api/tasks/${ids[0]}/annotations`, { token: annotator.token, body: { result: [{ from_name: 'c', to_name: 'img', type: 'choices', value: { choices: ['A'] } }] } });
  await call(s, 'GET', `/api/projects/${p}/export?download_all_tasks=true`, { token: manager.token });
  await call(s, 'GET', `/api/projects/${p}`, { token: annotator.token });
}

describe.each(DIALECTS)('usage statistics on %s', (dialect) => {
  describe('collected', () => {
    let s: TestServer;
    let admin: Member;
    let manager: Member;
    let annotator: Member;
    beforeAll(async () => {
      s = await startServer(dialect);
      const org = await makeOrganization(s.deps);
      [admin, manager, annotator] = await Promise.all([makeMember(s.deps, org.id, 'AD'), makeMember(s.deps, org.id, 'MA'), makeMember(s.deps, org.id, 'AN')]);
      await activity(s, manager, annotator);
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
      await s.app.close();
      expect(await s.deps.db.selectFrom('usage_counters').selectAll().execute()).toEqual([]);
    });
  });
});
