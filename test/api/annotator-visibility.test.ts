/**
 * What an Annotator sees, and the label stream's distribution modes, over HTTP on SQLite and
 * PostgreSQL: task lists refused while the data manager is hidden from annotators, only their own
 * work when shown, other annotators' annotations hidden unless the project allows them, Reviewers
 * seeing everything, `assigned_only` distribution, and rejected annotations returning to their
 * annotator. Task assignments and reviews are inserted directly (their APIs are built elsewhere).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { addToProject, makeMember, makeTeam, type Member } from '../factories.js';

const SENTIMENT = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`;
const choice = (c: string) => ({ id: 'c1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: [c] } });
const ids = (tasks: { id: number }[]) => tasks.map((t) => t.id).sort((a, b) => a - b);

describe.each(DIALECTS)('annotator visibility on %s', (dialect) => {
  let s: TestServer;
  let manager: Member;
  let annotator: Member;
  let peer: Member;
  let reviewer: Member;
  let workspaceId: number;
  let other: { id: number; owner: Member };
  beforeAll(async () => {
    s = await startServer(dialect);
    ({ manager, annotator, other, workspaceId } = await makeTeam(s.deps));
    [peer, reviewer] = await Promise.all([makeMember(s.deps, manager.organizationId, 'AN'), makeMember(s.deps, manager.organizationId, 'RE')]);
  });
  afterAll(async () => s?.close());

  /** A project with `n` tasks that everyone of the team works in; returns its id and task ids in order. */
  const project = async (n: number, settings: Record<string, unknown> = {}) => {
    const p = await call(s, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, title: 'V', label_config: SENTIMENT, ...settings } });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    await addToProject(s.deps, p.body.id, peer, reviewer);
    const imported = await call(s, 'POST', `/api/projects/${p.body.id}/import?return_task_ids=true`, { token: manager.token, body: Array.from({ length: n }, (_, i) => ({ text: `t${i}` })) });
    expect(imported.status).toBe(201);
    return { id: p.body.id as number, tasks: imported.body.task_ids as number[] };
  };
  const assign = async (projectId: number, taskId: number, user: Member, type = 'AN') =>
    s.deps.db.insertInto('task_assignments').values({ task_id: taskId, project_id: projectId, user_id: user.id, type, assigned_by_id: manager.id, created_at: new Date().toISOString() }).execute();
  const annotate = async (taskId: number, who: Member, c = 'Positive') => {
    const r = await call(s, 'POST', `/api/tasks/${taskId}/annotations`, { token: who.token, body: { result: [choice(c)] } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id as number;
  };
  const review = async (projectId: number, taskId: number, annotationId: number, accepted: boolean) =>
    s.deps.db
      .insertInto('annotation_reviews')
      .values({ annotation_id: annotationId, task_id: taskId, project_id: projectId, created_by_id: reviewer.id, accepted: accepted ? 1 : 0, comment: accepted ? 'ok' : 'wrong label', created_at: new Date().toISOString(), updated_at: new Date().toISOString() })
      .execute();
  const next = (projectId: number, who: Member) => call(s, 'GET', `/api/projects/${projectId}/next`, { token: who.token });
  const pause = () => new Promise((r) => setTimeout(r, 5));

  describe('task lists', () => {
    it('refuses annotators (403 naming the setting) while the data manager is hidden; Reviewers and Managers list every task', async () => {
      const p = await project(3);
      await annotate(p.tasks[0]!, annotator);
      for (const url of [`/api/tasks?project=${p.id}`, `/api/projects/${p.id}/tasks`]) {
        const refused = await call(s, 'GET', url, { token: annotator.token });
        expect(refused.status, url).toBe(403);
        expect(refused.body.detail).toMatch(/show_data_manager_to_annotators/);
        expect((await call(s, 'GET', url, { token: reviewer.token })).status, url).toBe(200);
        expect((await call(s, 'GET', url, { token: other.owner.token })).status, url).toBe(404);
        expect((await call(s, 'GET', url)).status, url).toBe(401);
      }
      expect((await call(s, 'GET', `/api/tasks?project=${p.id}`, { token: reviewer.token })).body.total).toBe(3);
      expect(await call(s, 'GET', `/api/projects/${p.id}/tasks`, { token: manager.token }).then((r) => ids(r.body))).toEqual(p.tasks);
    });

    it('with show_data_manager_to_annotators on, lists only the tasks an annotator annotated, drafted or was assigned', async () => {
      const p = await project(5, { show_data_manager_to_annotators: true, maximum_annotations: 2 });
      const [annotated, drafted, assigned, reviewOnly, peers] = p.tasks as [number, number, number, number, number];
      await annotate(annotated, annotator);
      await annotate(annotated, peer, 'Negative');
      expect((await call(s, 'POST', `/api/tasks/${drafted}/drafts`, { token: annotator.token, body: { result: [choice('Positive')] } })).status).toBe(201);
      await assign(p.id, assigned, annotator);
      await assign(p.id, reviewOnly, annotator, 'RE'); // a review assignment does not make it theirs to annotate
      await annotate(peers, peer);

      const mine = await call(s, 'GET', `/api/tasks?project=${p.id}&page_size=-1&fields=all`, { token: annotator.token });
      expect(mine.status).toBe(200);
      expect(ids(mine.body.tasks)).toEqual([annotated, drafted, assigned]);
      expect(mine.body.total).toBe(3);
      // Their list carries only their own annotations' results and authorship.
      const row = mine.body.tasks.find((t: { id: number }) => t.id === annotated);
      expect(row.annotators).toEqual([annotator.id]);
      expect(JSON.parse(row.annotations_results)).toEqual([[choice('Positive')]]);
      expect(ids((await call(s, 'GET', `/api/projects/${p.id}/tasks`, { token: annotator.token })).body)).toEqual([annotated, drafted, assigned]);
      expect(ids((await call(s, 'GET', `/api/tasks?project=${p.id}`, { token: peer.token })).body.tasks)).toEqual([annotated, peers]);
      expect((await call(s, 'GET', `/api/tasks?project=${p.id}&page_size=-1`, { token: reviewer.token })).body.total).toBe(5);

      expect((await call(s, 'GET', `/api/tasks/${assigned}`, { token: annotator.token })).status).toBe(200);
      expect((await call(s, 'GET', `/api/tasks/${peers}`, { token: annotator.token })).status).toBe(404);
      expect((await call(s, 'GET', `/api/tasks/${reviewOnly}`, { token: annotator.token })).status).toBe(404);
      expect((await call(s, 'GET', `/api/tasks/${peers}`, { token: reviewer.token })).status).toBe(200);
    });
  });

  describe('one task', () => {
    it('opens the task the label stream gave an annotator, and no other they have not worked on', async () => {
      const p = await project(3);
      expect((await call(s, 'GET', `/api/tasks/${p.tasks[0]}`, { token: annotator.token })).status).toBe(404);
      const given = await next(p.id, annotator);
      expect(given.status).toBe(200);
      expect(given.body.id).toBe(p.tasks[0]);
      const opened = await call(s, 'GET', `/api/tasks/${given.body.id}`, { token: annotator.token });
      expect(opened.status).toBe(200);
      expect(opened.body.data).toEqual({ text: 't0' });
      expect((await call(s, 'GET', `/api/tasks/${given.body.id}/annotations`, { token: annotator.token })).body).toEqual([]);
      expect((await call(s, 'GET', `/api/tasks/${given.body.id}/drafts`, { token: annotator.token })).status).toBe(200);
      for (const url of [`/api/tasks/${p.tasks[1]}`, `/api/tasks/${p.tasks[1]}/annotations`, `/api/tasks/${p.tasks[1]}/drafts`]) {
        expect((await call(s, 'GET', url, { token: annotator.token })).status, url).toBe(404);
        expect((await call(s, 'GET', url, { token: manager.token })).status, url).toBe(200);
      }
      expect((await call(s, 'GET', `/api/tasks/${given.body.id}`, { token: other.owner.token })).status).toBe(404);
    });
  });

  describe('annotations', () => {
    it("hides other annotators' annotations (404) unless the project shows them; Reviewers see all; predictions are shown", async () => {
      const p = await project(1, { maximum_annotations: 2 });
      const task = p.tasks[0]!;
      const own = await annotate(task, annotator);
      const theirs = await annotate(task, peer, 'Negative');
      expect((await call(s, 'POST', '/api/predictions', { token: manager.token, body: { task, result: [choice('Positive')], model_version: 'm1' } })).status).toBe(201);

      const detail = await call(s, 'GET', `/api/tasks/${task}`, { token: annotator.token });
      expect(detail.status).toBe(200);
      expect(detail.body.annotations.map((a: { id: number }) => a.id)).toEqual([own]);
      expect(detail.body.annotators).toEqual([annotator.id]);
      expect(detail.body.predictions).toHaveLength(1);
      expect((await call(s, 'GET', `/api/tasks/${task}/annotations`, { token: annotator.token })).body.map((a: { id: number }) => a.id)).toEqual([own]);
      expect((await call(s, 'GET', `/api/annotations/${own}`, { token: annotator.token })).status).toBe(200);
      expect((await call(s, 'GET', `/api/annotations/${theirs}`, { token: annotator.token })).status).toBe(404);
      expect((await call(s, 'PATCH', `/api/annotations/${theirs}`, { token: annotator.token, body: { result: [choice('Positive')] } })).status).toBe(404);
      expect((await call(s, 'DELETE', `/api/annotations/${theirs}`, { token: annotator.token })).status).toBe(404);
      expect((await call(s, 'POST', `/api/tasks/${task}/annotations/${theirs}/drafts`, { token: annotator.token, body: { result: [] } })).status).toBe(404);

      expect((await call(s, 'GET', `/api/annotations/${theirs}`, { token: reviewer.token })).status).toBe(200);
      expect((await call(s, 'GET', `/api/tasks/${task}`, { token: reviewer.token })).body.annotations).toHaveLength(2);
      expect((await call(s, 'GET', `/api/tasks/${task}/annotations`, { token: reviewer.token })).body).toHaveLength(2);

      expect((await call(s, 'PATCH', `/api/projects/${p.id}`, { token: manager.token, body: { show_others_annotations_to_annotators: true } })).status).toBe(200);
      expect((await call(s, 'GET', `/api/annotations/${theirs}`, { token: annotator.token })).status).toBe(200);
      expect((await call(s, 'GET', `/api/tasks/${task}`, { token: annotator.token })).body.annotators.sort()).toEqual([annotator.id, peer.id].sort());
      // Seeing is not changing.
      expect((await call(s, 'PATCH', `/api/annotations/${theirs}`, { token: annotator.token, body: { result: [choice('Positive')] } })).status).toBe(403);
    });
  });

  describe('label stream distribution', () => {
    it('assigned_only hands out only the tasks assigned to the caller; unassigned ones cannot be annotated', async () => {
      const p = await project(4, { assignment_settings: { label_stream_task_distribution: 'assigned_only' } });
      const [t1, t2, t3, t4] = p.tasks as [number, number, number, number];
      await assign(p.id, t3, annotator);
      await assign(p.id, t1, annotator, 'RE');
      await assign(p.id, t2, peer);

      const first = await next(p.id, annotator);
      expect(first.status).toBe(200);
      expect(first.body.id).toBe(t3);
      expect((await next(p.id, peer)).body.id).toBe(t2);
      expect((await next(p.id, manager)).status).toBe(404); // nothing assigned to them
      await annotate(t3, annotator);
      expect((await next(p.id, annotator)).status).toBe(404);

      expect((await call(s, 'POST', `/api/tasks/${t4}/annotations`, { token: annotator.token, body: { result: [choice('Positive')] } })).status).toBe(404);
      expect((await call(s, 'POST', `/api/tasks/${t4}/drafts`, { token: annotator.token, body: { result: [] } })).status).toBe(404);
      expect((await call(s, 'POST', `/api/tasks/${t4}/annotations`, { token: reviewer.token, body: { result: [choice('Positive')] } })).status).toBe(201);

      // Assigning more makes it appear at once.
      await assign(p.id, t1, annotator);
      expect((await next(p.id, annotator)).body.id).toBe(t1);
    });

    it('auto_distribution hands out any unlabeled task', async () => {
      const p = await project(2);
      await assign(p.id, p.tasks[1]!, peer);
      expect((await next(p.id, annotator)).body.id).toBe(p.tasks[0]);
      expect((await next(p.id, manager)).body.id).toBe(p.tasks[1]);
    });

    it('returns a rejected annotation to its annotator first, until they change it; the newest review counts', async () => {
      const p = await project(4);
      const [t1, t2, t3, t4] = p.tasks as [number, number, number, number];
      expect((await next(p.id, annotator)).body.id).toBe(t1);
      const a1 = await annotate(t1, annotator);
      expect((await next(p.id, annotator)).body.id).toBe(t2);
      const a2 = await annotate(t2, annotator);
      expect((await next(p.id, annotator)).body.id).toBe(t3); // now reserved for them

      await review(p.id, t2, a2, false);
      await review(p.id, t2, a2, true); // accepted after all: stays out of the queue
      await review(p.id, t1, a1, true);
      await review(p.id, t1, a1, false); // the newest review rejects it
      const back = await next(p.id, annotator);
      expect(back.status).toBe(200);
      expect(back.body.id).toBe(t1);
      expect(back.body.annotations.map((a: { id: number }) => a.id)).toEqual([a1]);
      expect((await next(p.id, annotator)).body.id).toBe(t1); // still first until changed
      expect((await call(s, 'GET', `/api/tasks/${t1}`, { token: annotator.token })).status).toBe(200);
      // Others are not sent the rejected task (it is still labeled) nor the one reserved for the annotator.
      expect((await next(p.id, peer)).body.id).toBe(t4);

      await pause();
      expect((await call(s, 'PATCH', `/api/annotations/${a1}`, { token: annotator.token, body: { result: [choice('Negative')] } })).status).toBe(200);
      expect((await next(p.id, annotator)).body.id).toBe(t3); // back to the task they hold
      await annotate(t3, annotator);
      expect((await next(p.id, annotator)).status).toBe(404);
    });
  });
});
