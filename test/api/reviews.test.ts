/**
 * Annotation reviews over HTTP on SQLite and PostgreSQL: accept and reject with a comment, read,
 * list by annotation and by project, change and delete — refused cases beside allowed ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { assignTask, makeMember, makeTeam, type Member } from '../factories.js';

const SENTIMENT = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`;
const choice = (c: string) => ({ id: 'c1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: [c] } });

describe.each(DIALECTS)('annotation reviews on %s', (dialect) => {
  let s: TestServer;
  let manager: Member;
  let annotator: Member;
  let reviewer: Member;
  let reviewer2: Member;
  let outsideReviewer: Member;
  let workspaceId: number;
  let other: { id: number; owner: Member };
  let otherAdmin: Member;
  beforeAll(async () => {
    s = await startServer(dialect);
    let organizationId: number;
    ({ manager, annotator, other, workspaceId, organizationId } = await makeTeam(s.deps));
    [reviewer, reviewer2, outsideReviewer, otherAdmin] = await Promise.all([
      makeMember(s.deps, organizationId, 'RE'),
      makeMember(s.deps, organizationId, 'RE'),
      makeMember(s.deps, organizationId, 'RE'),
      makeMember(s.deps, other.id, 'AD'),
    ]);
    const now = new Date().toISOString();
    for (const r of [reviewer, reviewer2]) await s.deps.db.insertInto('workspace_members').values({ workspace_id: workspaceId, user_id: r.id, created_at: now }).execute();
  });
  afterAll(async () => s?.close());

  /** A project with one task per author, assigned to and annotated by that author; returns the annotation ids. */
  const annotated = async (token: string, authors: Member[], workspace: number | null = workspaceId) => {
    const p = await call(s, 'POST', '/api/projects', { token, body: { ...(workspace !== null && { workspace }), title: 'Review', label_config: SENTIMENT } });
    expect(p.status).toBe(201);
    const imp = await call(s, 'POST', `/api/projects/${p.body.id}/import?return_task_ids=true`, { token, body: authors.map((_, i) => ({ text: `t${i}` })) });
    const annotations: number[] = [];
    for (const [i, a] of authors.entries()) {
      await assignTask(s, token, p.body.id, imp.body.task_ids[i], a.id);
      const r = await call(s, 'POST', `/api/tasks/${imp.body.task_ids[i]}/annotations`, { token: a.token, body: { result: [choice('Positive')] } });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      annotations.push(r.body.id);
    }
    return { id: p.body.id as number, tasks: imp.body.task_ids as number[], annotations };
  };
  const review = (token: string, body: unknown) => call(s, 'POST', '/api/annotation-reviews/', { token, body });

  it('accepts an annotation: 201 with the AnnotationReview shape, readable by id and by annotation, audited', async () => {
    const p = await annotated(manager.token, [annotator]);
    const r = await review(reviewer.token, { annotation: p.annotations[0], accepted: true });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ annotation: p.annotations[0], task: p.tasks[0], created_by: reviewer.id, accepted: true, comment: null, result: null, fixed_annotation_history: null, previous_annotation_history: null });
    expect(Date.parse(r.body.created_at)).not.toBeNaN();
    const one = await call(s, 'GET', `/api/annotation-reviews/${r.body.id}`, { token: reviewer.token });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(r.body);
    const list = await call(s, 'GET', `/api/annotation-reviews?annotation=${p.annotations[0]}`, { token: manager.token });
    expect(list.status).toBe(200);
    expect(list.body).toEqual([r.body]);
    const events = await s.deps.db.selectFrom('audit_events').select(['object_id', 'actor_user_id']).where('action', '=', 'annotation.review').where('project_id', '=', p.id).execute();
    expect(events).toEqual([{ object_id: String(p.annotations[0]), actor_user_id: reviewer.id }]);
  });

  it('rejects with a comment, then changes its verdict (PATCH, PUT); other reviewers may not', async () => {
    const p = await annotated(manager.token, [annotator]);
    const r = await review(reviewer.token, { annotation: p.annotations[0], accepted: false, comment: 'Wrong sentiment: the text is sarcastic.' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ accepted: false, comment: 'Wrong sentiment: the text is sarcastic.' });
    const stored = await s.deps.db.selectFrom('annotation_reviews').select(['accepted', 'comment', 'project_id', 'task_id']).where('id', '=', r.body.id).executeTakeFirstOrThrow();
    expect(stored).toEqual({ accepted: 0, comment: 'Wrong sentiment: the text is sarcastic.', project_id: p.id, task_id: p.tasks[0] });
    const url = `/api/annotation-reviews/${r.body.id}/`;
    expect((await call(s, 'PATCH', url, { token: reviewer2.token, body: { accepted: true } })).status).toBe(403);
    const patched = await call(s, 'PATCH', url, { token: reviewer.token, body: { accepted: true } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ accepted: true, comment: 'Wrong sentiment: the text is sarcastic.' });
    const put = await call(s, 'PUT', url, { token: reviewer.token, body: { annotation: p.annotations[0], accepted: false } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ accepted: false, comment: null });
    const moved = await call(s, 'PATCH', url, { token: reviewer.token, body: { annotation: 999_999 } });
    expect(moved.status).toBe(400);
    expect(moved.body.validation_errors).toHaveProperty('annotation');
    // A second review of the same annotation is kept beside the first.
    expect((await review(reviewer2.token, { annotation: p.annotations[0], accepted: true })).status).toBe(201);
    expect((await call(s, 'GET', `/api/annotation-reviews?annotation=${p.annotations[0]}&ordering=-id`, { token: reviewer.token })).body.map((x: { created_by: number }) => x.created_by)).toEqual([reviewer2.id, reviewer.id]);
    // Delete: not by another reviewer, yes by its author or a Manager.
    expect((await call(s, 'DELETE', url, { token: reviewer2.token })).status).toBe(403);
    expect((await call(s, 'DELETE', url, { token: manager.token })).status).toBe(204);
    expect((await call(s, 'GET', url, { token: reviewer.token })).status).toBe(404);
  });

  it('refuses Annotators (403), own annotations (403), no credentials (401), and bad input (400 naming the field)', async () => {
    const p = await annotated(manager.token, [annotator, reviewer, annotator]);
    expect((await call(s, 'POST', '/api/annotation-reviews', { body: { annotation: p.annotations[0], accepted: true } })).status).toBe(401);
    const an = await review(annotator.token, { annotation: p.annotations[0], accepted: true });
    expect(an.status).toBe(403);
    expect(an.body.detail).toContain('annotation.review');
    // Annotators may read reviews (of their own annotations only; there are none yet), never write them.
    const listed = await call(s, 'GET', `/api/annotation-reviews?annotation__task__project=${p.id}`, { token: annotator.token });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([]);
    const own = await review(reviewer.token, { annotation: p.annotations[1], accepted: true });
    expect(own.status).toBe(403);
    expect(own.body.code).toBe('OWN_ANNOTATION');
    const skipped = await call(s, 'POST', `/api/tasks/${p.tasks[2]}/annotations`, { token: manager.token, body: { was_cancelled: true } });
    const cases: [unknown, string][] = [
      [{ accepted: true }, 'annotation'],
      [{ annotation: p.annotations[0] }, 'accepted'],
      [{ annotation: p.annotations[0], accepted: 'maybe' }, 'accepted'],
      [{ annotation: p.annotations[0], accepted: true, result: [choice('Negative')] }, 'result'],
      [{ annotation: p.annotations[0], accepted: true, rating: 5 }, 'rating'],
      [{ annotation: skipped.body.id, accepted: true }, 'annotation'],
    ];
    for (const [body, field] of cases) {
      const r = await review(reviewer.token, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.validation_errors, JSON.stringify(body)).toHaveProperty(field);
    }
    expect((await call(s, 'GET', '/api/annotation-reviews?ordering=password', { token: reviewer.token })).body.validation_errors).toHaveProperty('ordering');
    expect(await s.deps.db.selectFrom('annotation_reviews').select('id').where('project_id', '=', p.id).execute()).toEqual([]);
    // Ignored Label Studio editor fields are accepted and answered as null.
    const withExtras = await review(reviewer.token, { annotation: p.annotations[0], accepted: true, result: null, started_at: '2024-01-01T00:00:00Z', remove_from_queue: true, last_annotation_history: null });
    expect(withExtras.status).toBe(201);
    expect(withExtras.body).toMatchObject({ remove_from_queue: null, started_at: null });
  });

  it("answers 404 for another organization's annotations, reviews and projects, and for projects the reviewer does not work in", async () => {
    const ours = await annotated(manager.token, [annotator]);
    const theirs = await annotated(other.owner.token, [other.owner], null);
    const theirReview = await review(otherAdmin.token, { annotation: theirs.annotations[0], accepted: true });
    expect(theirReview.status, JSON.stringify(theirReview.body)).toBe(201);
    expect((await review(reviewer.token, { annotation: theirs.annotations[0], accepted: false })).status).toBe(404);
    expect((await review(manager.token, { annotation: 2_000_000_000, accepted: false })).status).toBe(404);
    for (const url of [`/api/annotation-reviews/${theirReview.body.id}`, `/api/annotation-reviews?annotation=${theirs.annotations[0]}`, `/api/annotation-reviews?annotation__task__project=${theirs.id}`]) {
      expect((await call(s, 'GET', url, { token: manager.token })).status, url).toBe(404);
    }
    expect((await call(s, 'PATCH', `/api/annotation-reviews/${theirReview.body.id}`, { token: manager.token, body: { accepted: false } })).status).toBe(404);
    expect((await call(s, 'DELETE', `/api/annotation-reviews/${theirReview.body.id}`, { token: manager.token })).status).toBe(404);
    // A Reviewer of the organization outside the workspace does not see its projects.
    expect((await review(outsideReviewer.token, { annotation: ours.annotations[0], accepted: true })).status).toBe(404);
    expect((await call(s, 'GET', `/api/annotation-reviews?annotation__task__project=${ours.id}`, { token: outsideReviewer.token })).status).toBe(404);
    expect((await call(s, 'GET', '/api/annotation-reviews', { token: outsideReviewer.token })).body).toEqual([]);
  });

  it('lists by project, and without filters only what the caller sees', async () => {
    const p1 = await annotated(manager.token, [annotator, annotator]);
    const p2 = await annotated(manager.token, [annotator]);
    const a = await review(reviewer.token, { annotation: p1.annotations[0], accepted: true });
    const b = await review(reviewer.token, { annotation: p1.annotations[1], accepted: false, comment: 'no' });
    const c = await review(reviewer.token, { annotation: p2.annotations[0], accepted: true });
    const theirs = await annotated(other.owner.token, [other.owner], null);
    const foreign = await review(otherAdmin.token, { annotation: theirs.annotations[0], accepted: true });
    const byProject = await call(s, 'GET', `/api/annotation-reviews/?annotation__task__project=${p1.id}`, { token: reviewer.token });
    expect(byProject.status).toBe(200);
    expect(byProject.body.map((r: { id: number }) => r.id)).toEqual([a.body.id, b.body.id]);
    const newest = await call(s, 'GET', `/api/annotation-reviews/?annotation__task__project=${p1.id}&ordering=-created_at`, { token: reviewer.token });
    expect(newest.body.map((r: { id: number }) => r.id)).toEqual([b.body.id, a.body.id]);
    const all = (await call(s, 'GET', '/api/annotation-reviews', { token: reviewer.token })).body.map((r: { id: number }) => r.id);
    expect(all).toEqual(expect.arrayContaining([a.body.id, b.body.id, c.body.id]));
    expect(all).not.toContain(foreign.body.id);
  });
});
