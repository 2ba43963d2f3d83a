/**
 * What an Annotator sees and writes, and the label stream's distribution modes, over HTTP on
 * SQLite and PostgreSQL: task lists refused while the data manager is hidden from annotators,
 * only their own work when shown, other annotators' annotations hidden unless the project allows
 * them, Reviewers seeing everything, writes (annotations, drafts, bulk) only on tasks they may
 * open in both distribution modes, uploaded files only of such tasks, the reviews of their own
 * annotations, `assigned_only` distribution, and rejected annotations returning to their
 * annotator. Some assignments and reviews are inserted directly, to set up a state in one step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { addToProject, assignTask, makeMember, makeTeam, type Member } from '../factories.js';

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
  /** The label stream hands `who` the task `taskId` (an annotator may then annotate it). */
  const take = async (projectId: number, who: Member, taskId: number) => expect((await next(projectId, who)).body.id).toBe(taskId);
  const pause = () => new Promise((r) => setTimeout(r, 5));

  describe('task lists', () => {
    it('refuses annotators (403 naming the setting) while the data manager is hidden; Reviewers and Managers list every task', async () => {
      const p = await project(3);
      await take(p.id, annotator, p.tasks[0]!);
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
      await take(p.id, annotator, annotated);
      await annotate(annotated, annotator);
      await take(p.id, annotator, drafted);
      expect((await call(s, 'POST', `/api/tasks/${drafted}/drafts`, { token: annotator.token, body: { result: [choice('Positive')] } })).status).toBe(201);
      await take(p.id, peer, annotated);
      await annotate(annotated, peer, 'Negative');
      await assign(p.id, assigned, annotator);
      await assign(p.id, reviewOnly, annotator, 'RE'); // a review assignment does not make it theirs to annotate
      await assign(p.id, peers, peer);
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
      await take(p.id, annotator, task);
      const own = await annotate(task, annotator);
      await take(p.id, peer, task);
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

  describe('writes by id', () => {
    for (const distribution of ['auto_distribution', 'assigned_only']) {
      it(`${distribution}: annotators annotate and draft only tasks they may open (404 otherwise, nothing written); Reviewers and Managers any`, async () => {
        const p = await project(3, { assignment_settings: { label_stream_task_distribution: distribution } });
        const [t1, t2, t3] = p.tasks as [number, number, number];
        const post = (taskId: number, kind: 'annotations' | 'drafts', who = annotator) => call(s, 'POST', `/api/tasks/${taskId}/${kind}`, { token: who.token, body: { result: [choice('Positive')] } });
        for (const kind of ['annotations', 'drafts'] as const) {
          const refused = await post(t2, kind);
          expect(refused.status, kind).toBe(404);
          expect(refused.body.detail).toBe('Task not found.');
        }
        // Nothing was written, and the task did not become theirs.
        expect(await s.deps.db.selectFrom('annotations').select('id').where('task_id', '=', t2).execute()).toEqual([]);
        expect(await s.deps.db.selectFrom('drafts').select('id').where('task_id', '=', t2).execute()).toEqual([]);
        expect((await call(s, 'GET', `/api/tasks/${t2}`, { token: annotator.token })).status).toBe(404);
        // Assigned by a Manager through the API: theirs to annotate and draft.
        await assignTask(s, manager.token, p.id, t1, annotator.id);
        expect((await post(t1, 'drafts')).status).toBe(201);
        expect((await post(t1, 'annotations')).status).toBe(201);
        // Those with task.view_all write anywhere.
        expect((await post(t2, 'annotations', reviewer)).status).toBe(201);
        expect((await post(t3, 'drafts', manager)).status).toBe(201);
        expect((await post(t2, 'annotations', annotator)).status).toBe(404);
      });
    }

    it('auto_distribution: the task the label stream reserves is writable while the reservation lasts; a peer’s is not', async () => {
      const p = await project(3);
      const [t1, t2, t3] = p.tasks as [number, number, number];
      await take(p.id, peer, t1);
      expect((await call(s, 'POST', `/api/tasks/${t1}/annotations`, { token: annotator.token, body: { result: [choice('Positive')] } })).status).toBe(404);
      await take(p.id, annotator, t2);
      expect((await call(s, 'POST', `/api/tasks/${t2}/drafts`, { token: annotator.token, body: { result: [choice('Positive')] } })).status).toBe(201);
      await annotate(t2, annotator);
      await take(p.id, annotator, t3);
      await s.deps.db.updateTable('task_locks').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('task_id', '=', t3).execute();
      expect((await call(s, 'POST', `/api/tasks/${t3}/annotations`, { token: annotator.token, body: { result: [choice('Positive')] } })).status).toBe(404);
      await take(p.id, annotator, t3); // handed out again
      await annotate(t3, annotator);
    });

    for (const distribution of ['auto_distribution', 'assigned_only']) {
      it(`${distribution}: bulk annotation refuses (400 naming tasks, nothing written) a task the annotator may not open`, async () => {
        const p = await project(3, { assignment_settings: { label_stream_task_distribution: distribution } });
        const [t1, t2, t3] = p.tasks as [number, number, number];
        const elsewhere = await project(1);
        await assignTask(s, manager.token, p.id, t1, annotator.id);
        await assignTask(s, manager.token, p.id, t2, annotator.id);
        const bulk = (tasks: number[], who = annotator) => call(s, 'POST', '/api/annotations/bulk', { token: who.token, body: { project: p.id, tasks, result: [choice('Positive')] } });
        const hidden = await bulk([t1, t3]);
        expect(hidden.status).toBe(400);
        expect(hidden.body.validation_errors.tasks).toEqual([`Task ${t3} is not in this project.`]);
        // Worded as for a task of another project, so a hidden task is not revealed.
        expect((await bulk([elsewhere.tasks[0]!])).body.validation_errors.tasks).toEqual([`Task ${elsewhere.tasks[0]} is not in this project.`]);
        expect(await s.deps.db.selectFrom('annotations').select('id').where('project_id', '=', p.id).execute()).toEqual([]);
        const ok = await bulk([t1, t2]);
        expect(ok.status, JSON.stringify(ok.body)).toBe(201);
        expect(ok.body).toHaveLength(2);
        expect((await bulk([t3], reviewer)).status).toBe(201);
      });
    }
  });

  describe('uploaded files', () => {
    const IMAGES = '<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="A"/></Choices></View>';
    const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082', 'hex');
    const upload = async (projectId: number, files: [string, Blob][]) => {
      const form = new FormData();
      for (const [name, blob] of files) form.append(name, blob, name);
      const res = await fetch(`${s.url}/api/projects/${projectId}/import?return_task_ids=true`, { method: 'POST', headers: { authorization: `Token ${manager.token}` }, body: form });
      const body = (await res.json()) as { task_ids: number[]; file_upload_ids: number[] };
      expect(res.status, JSON.stringify(body)).toBe(201);
      return body;
    };
    const urlOf = async (projectId: number, uploadId: number) =>
      `/data/upload/${projectId}/${(await s.deps.db.selectFrom('file_uploads').select('file').where('id', '=', uploadId).executeTakeFirstOrThrow()).file}`;
    const fetchAs = async (url: string, who: Member) => (await fetch(`${s.url}${url}`, { headers: { authorization: `Token ${who.token}` } })).status;

    it('serves annotators only the files of tasks they may open: the media a task references, or a source file of that task alone', async () => {
      const p = await call(s, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, title: 'Media', label_config: IMAGES } });
      expect(p.status).toBe(201);
      const projectId = p.body.id as number;
      await addToProject(s.deps, projectId, peer, reviewer);
      const media = await upload(projectId, [['a.png', new Blob([PNG], { type: 'image/png' })], ['b.png', new Blob([PNG], { type: 'image/png' })]]);
      const [taskA] = media.task_ids as [number, number];
      const [imageA, imageB] = [await urlOf(projectId, media.file_upload_ids[0]!), await urlOf(projectId, media.file_upload_ids[1]!)];
      expect((await call(s, 'GET', `/api/tasks/${taskA}`, { token: manager.token })).body.data.image).toBe(imageA);

      expect(await fetchAs(imageA, annotator)).toBe(404);
      await assignTask(s, manager.token, projectId, taskA, annotator.id);
      expect(await fetchAs(imageA, annotator)).toBe(200);
      expect(await fetchAs(imageB, annotator)).toBe(404);
      expect(await fetchAs(imageB, reviewer)).toBe(200);
      // The task the label stream hands out opens its file too.
      await take(projectId, peer, taskA);
      expect(await fetchAs(imageA, peer)).toBe(200);
      expect(await fetchAs(imageB, peer)).toBe(404);
      // A task made by hand that references the file in its data opens it as well.
      const byHand = await call(s, 'POST', '/api/tasks', { token: manager.token, body: { project: projectId, data: { image: `http://localhost${imageB}` } } });
      expect(byHand.status, JSON.stringify(byHand.body)).toBe(201);
      await assignTask(s, manager.token, projectId, byHand.body.id, peer.id);
      expect(await fetchAs(imageB, peer)).toBe(200);

      // A JSON file that made several tasks holds the others' data: not served to an annotator of one of them.
      const many = await upload(projectId, [['rows.json', new Blob([JSON.stringify([{ image: 'x1.png' }, { image: 'x2.png' }])], { type: 'application/json' })]]);
      await assignTask(s, manager.token, projectId, many.task_ids[0]!, annotator.id);
      const rows = await urlOf(projectId, many.file_upload_ids[0]!);
      expect(await fetchAs(rows, annotator)).toBe(404);
      expect(await fetchAs(rows, manager)).toBe(200);
      const one = await upload(projectId, [['one.json', new Blob([JSON.stringify([{ image: 'y.png' }])], { type: 'application/json' })]]);
      const single = await urlOf(projectId, one.file_upload_ids[0]!);
      expect(await fetchAs(single, annotator)).toBe(404);
      await assignTask(s, manager.token, projectId, one.task_ids[0]!, annotator.id);
      expect(await fetchAs(single, annotator)).toBe(200);
      expect(await fetchAs(single, other.owner)).toBe(404);
    });
  });

  describe('reviews', () => {
    it('annotators read the reviews of their own annotations only (404 for others’, even when others’ annotations are shown); Reviewers read all', async () => {
      const p = await project(2, { maximum_annotations: 2, show_others_annotations_to_annotators: true });
      const [t1, t2] = p.tasks as [number, number];
      for (const who of [annotator, peer]) await assignTask(s, manager.token, p.id, t1, who.id);
      await assignTask(s, manager.token, p.id, t2, annotator.id);
      const own = await annotate(t1, annotator);
      const own2 = await annotate(t2, annotator);
      const theirs = await annotate(t1, peer, 'Negative');
      const made = async (annotation: number, accepted: boolean) => {
        const r = await call(s, 'POST', '/api/annotation-reviews', { token: reviewer.token, body: { annotation, accepted, comment: accepted ? null : 'wrong label' } });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        return r.body.id as number;
      };
      const rejected = await made(own, false);
      const accepted = await made(own2, true);
      const peers = await made(theirs, true);

      const one = await call(s, 'GET', `/api/annotation-reviews/${rejected}`, { token: annotator.token });
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ annotation: own, accepted: false, comment: 'wrong label', created_by: reviewer.id });
      expect((await call(s, 'GET', `/api/annotation-reviews?annotation=${own}`, { token: annotator.token })).body.map((r: { id: number }) => r.id)).toEqual([rejected]);
      expect((await call(s, 'GET', `/api/annotation-reviews?annotation__task__project=${p.id}`, { token: annotator.token })).body.map((r: { id: number }) => r.id)).toEqual([rejected, accepted]);
      expect((await call(s, 'GET', '/api/annotation-reviews', { token: annotator.token })).body.map((r: { id: number }) => r.id)).toEqual([rejected, accepted]);
      // The peer's annotation is readable here, its reviews are not.
      expect((await call(s, 'GET', `/api/annotations/${theirs}`, { token: annotator.token })).status).toBe(200);
      expect((await call(s, 'GET', `/api/annotation-reviews/${peers}`, { token: annotator.token })).status).toBe(404);
      expect((await call(s, 'GET', `/api/annotation-reviews?annotation=${theirs}`, { token: annotator.token })).status).toBe(404);
      expect((await call(s, 'GET', `/api/annotation-reviews/${peers}`, { token: peer.token })).status).toBe(200);
      // Reading is not reviewing.
      expect((await call(s, 'PATCH', `/api/annotation-reviews/${rejected}`, { token: annotator.token, body: { accepted: true } })).status).toBe(403);
      expect((await call(s, 'POST', '/api/annotation-reviews', { token: annotator.token, body: { annotation: theirs, accepted: true } })).status).toBe(403);
      // Reviewers read every review of the project; strangers nothing.
      expect((await call(s, 'GET', `/api/annotation-reviews?annotation__task__project=${p.id}`, { token: reviewer.token })).body.map((r: { id: number }) => r.id)).toEqual([rejected, accepted, peers]);
      expect((await call(s, 'GET', `/api/annotation-reviews/${rejected}`, { token: other.owner.token })).status).toBe(404);
    });
  });

  describe('project counts', () => {
    it('shows annotators the project-wide counts the project itself carries (aggregates, no task content)', async () => {
      const p = await project(3);
      const dm = await call(s, 'GET', `/api/dm/project?project=${p.id}`, { token: annotator.token });
      expect(dm.status).toBe(200);
      const own = await call(s, 'GET', `/api/projects/${p.id}`, { token: annotator.token });
      expect(dm.body.task_count).toBe(own.body.task_number);
      expect(dm.body.task_count).toBe(3);
      const summary = await call(s, 'GET', `/api/projects/${p.id}/summary`, { token: annotator.token });
      expect(summary.body).toMatchObject({ all_data_columns: { text: 3 }, common_data_columns: ['text'] });
      expect(JSON.stringify(summary.body)).not.toContain('t0'); // data keys, never values
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
