/**
 * Task assignment over HTTP on SQLite and PostgreSQL: bulk assignment by data-manager selection,
 * the per-task assignees endpoints, and who may assign whom — refused cases beside allowed ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { makeMember, makeTeam, type Member } from '../factories.js';

const SENTIMENT = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`;

describe.each(DIALECTS)('task assignment on %s', (dialect) => {
  let s: TestServer;
  let manager: Member;
  let annotator: Member;
  let reviewer: Member;
  let outsider: Member;
  let deactivated: Member;
  let workspaceId: number;
  let organizationId: number;
  let other: { id: number; owner: Member };
  beforeAll(async () => {
    s = await startServer(dialect);
    ({ manager, annotator, other, workspaceId, organizationId } = await makeTeam(s.deps));
    reviewer = await makeMember(s.deps, organizationId, 'RE');
    // An Annotator of the organization who is in no workspace: works in none of the projects.
    outsider = await makeMember(s.deps, organizationId, 'AN');
    deactivated = await makeMember(s.deps, organizationId, 'DI');
    for (const m of [reviewer, deactivated]) await s.deps.db.insertInto('workspace_members').values({ workspace_id: workspaceId, user_id: m.id, created_at: new Date().toISOString() }).execute();
  });
  afterAll(async () => s?.close());

  /** A project in the team's workspace with `n` tasks; returns its id and task ids. */
  const project = async (n = 5) => {
    const p = await call(s, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, title: 'Assign', label_config: SENTIMENT } });
    expect(p.status).toBe(201);
    const imp = await call(s, 'POST', `/api/projects/${p.body.id}/import?return_task_ids=true`, { token: manager.token, body: Array.from({ length: n }, (_, i) => ({ text: `t${i}`, n: i })) });
    expect(imp.status, JSON.stringify(imp.body)).toBe(201);
    return { id: p.body.id as number, tasks: imp.body.task_ids as number[] };
  };
  const assign = (token: string, projectId: number, body: unknown) => call(s, 'POST', `/api/projects/${projectId}/tasks/assignees/`, { token, body });
  const assignees = async (projectId: number, taskId: number, token = manager.token) => {
    const r = await call(s, 'GET', `/api/projects/${projectId}/tasks/${taskId}/assignees`, { token });
    expect(r.status).toBe(200);
    return (r.body as { assignee: number; type: string; task: number }[]).map((a) => `${a.type}:${a.assignee}`).sort();
  };
  const rowsOf = async (projectId: number) =>
    (await s.deps.db.selectFrom('task_assignments').select(['task_id', 'user_id', 'type']).where('project_id', '=', projectId).orderBy('id').execute()).map((r) => `${r.task_id}:${r.type}:${r.user_id}`);

  it('assigns annotators to included tasks, idempotently, and records one audit event', async () => {
    const p = await project();
    const body = { type: 'AN', users: [annotator.id, manager.id], selectedItems: { all: false, included: [p.tasks[0], p.tasks[2]] } };
    const r = await assign(manager.token, p.id, body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toEqual({ assignments: 4, async: false });
    expect(await assignees(p.id, p.tasks[0]!)).toEqual([`AN:${annotator.id}`, `AN:${manager.id}`].sort());
    expect(await assignees(p.id, p.tasks[1]!)).toEqual([]);
    const again = await assign(manager.token, p.id, body);
    expect(again.status).toBe(201);
    expect((await rowsOf(p.id)).length).toBe(4);
    const events = await s.deps.db.selectFrom('audit_events').select(['changes', 'actor_user_id']).where('action', '=', 'task.assign').where('project_id', '=', p.id).orderBy('id').execute();
    expect(events.length).toBe(2);
    const first = typeof events[0]!.changes === 'string' ? JSON.parse(events[0]!.changes) : events[0]!.changes;
    expect(first).toMatchObject({ type: 'AN', tasks: 2, created: 4 });
    expect(events[0]!.actor_user_id).toBe(manager.id);
  });

  it('selects all but the excluded tasks, narrowed by filters', async () => {
    const p = await project(6);
    const r = await assign(manager.token, p.id, { type: 'AN', users: [annotator.id], selectedItems: { all: true, excluded: [p.tasks[0]] } });
    expect(r.body).toEqual({ assignments: 5, async: false });
    expect((await rowsOf(p.id)).map((x) => Number(x.split(':')[0]))).toEqual(p.tasks.slice(1));
    const p2 = await project(6);
    const filtered = await assign(manager.token, p2.id, {
      type: 'AN',
      users: [annotator.id],
      selectedItems: { all: true, excluded: [p2.tasks[5]] },
      filters: { conjunction: 'and', items: [{ filter: 'filter:tasks:data.n', operator: 'greater_or_equal', type: 'Number', value: 3 }] },
    });
    expect(filtered.status, JSON.stringify(filtered.body)).toBe(201);
    expect((await rowsOf(p2.id)).map((x) => Number(x.split(':')[0]))).toEqual([p2.tasks[3], p2.tasks[4]]);
  });

  it('assigns thousands of tasks in chunks inside one transaction', async () => {
    const p = await project(1300);
    const r = await assign(manager.token, p.id, { type: 'AN', users: [annotator.id, manager.id], selectedItems: { all: true, excluded: [] } });
    expect(r.body).toEqual({ assignments: 2600, async: false });
    expect((await rowsOf(p.id)).length).toBe(2600);
  });

  it('refuses without credentials (401), to Annotators (403), and bad input with a 400 naming the field', async () => {
    const p = await project(2);
    const ok = { type: 'AN', users: [annotator.id], selectedItems: { all: true } };
    expect((await call(s, 'POST', `/api/projects/${p.id}/tasks/assignees`, { body: ok })).status).toBe(401);
    const an = await assign(annotator.token, p.id, ok);
    expect(an.status).toBe(403);
    expect(an.body.detail).toContain('task.assign');
    const cases: [unknown, string][] = [
      [{ type: 'AN', users: [annotator.id] }, 'selectedItems'],
      [{ type: 'XX', users: [annotator.id], selectedItems: { all: true } }, 'type'],
      [{ type: 'AN', users: [], selectedItems: { all: true } }, 'users'],
      [{ type: 'AN', users: ['x'], selectedItems: { all: true } }, 'users.0'],
      [{ type: 'AN', users: [annotator.id], selectedItems: { all: true }, filters: { conjunction: 'and', items: [{ filter: 'filter:tasks:nope', operator: 'equal', type: 'Number', value: 1 }] } }, 'filters.items[0]'],
    ];
    for (const [body, field] of cases) {
      const r = await assign(manager.token, p.id, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(r.body.validation_errors ?? {}).join(','), JSON.stringify(r.body)).toContain(field);
    }
    expect(await rowsOf(p.id)).toEqual([]);
  });

  it('lets Reviewers assign annotators but not reviewers (403 naming task.assign_reviewers)', async () => {
    const p = await project(2);
    const an = await assign(reviewer.token, p.id, { type: 'AN', users: [annotator.id], selectedItems: { all: true } });
    expect(an.status, JSON.stringify(an.body)).toBe(201);
    const re = await assign(reviewer.token, p.id, { type: 'RE', users: [reviewer.id], selectedItems: { all: true } });
    expect(re.status).toBe(403);
    expect(re.body.detail).toContain('task.assign_reviewers');
    expect(await rowsOf(p.id)).toEqual(p.tasks.map((t) => `${t}:AN:${annotator.id}`));
    const denied = await s.deps.db.selectFrom('audit_events').select('changes').where('action', '=', 'permission.denied').where('project_id', '=', p.id).execute();
    expect(JSON.stringify(denied)).toContain('task.assign_reviewers');
    // A Manager may assign reviewers, but only users who can review.
    const byManager = await assign(manager.token, p.id, { type: 'RE', users: [reviewer.id], selectedItems: { all: false, included: [p.tasks[0]] } });
    expect(byManager.status).toBe(201);
    expect(await assignees(p.id, p.tasks[0]!)).toEqual([`AN:${annotator.id}`, `RE:${reviewer.id}`].sort());
    const annotatorAsReviewer = await assign(manager.token, p.id, { type: 'RE', users: [annotator.id], selectedItems: { all: true } });
    expect(annotatorAsReviewer.status).toBe(400);
    expect(annotatorAsReviewer.body.validation_errors.users[0]).toMatch(/cannot review/);
  });

  it("refuses assignees outside the project (another organization's user, a member in no workspace, a deactivated member) with a 400 naming users", async () => {
    const p = await project(1);
    for (const u of [other.owner.id, outsider.id, deactivated.id, 2_000_000]) {
      const r = await assign(manager.token, p.id, { type: 'AN', users: [annotator.id, u], selectedItems: { all: true } });
      expect(r.status, String(u)).toBe(400);
      expect(r.body.validation_errors.users.join(' ')).toContain(`User ${u}`);
    }
    expect(await rowsOf(p.id)).toEqual([]);
  });

  it("answers 404 for another organization's project and for a task outside the path's project", async () => {
    const p = await project(1);
    const foreign = await call(s, 'POST', '/api/projects', { token: other.owner.token, body: { title: 'Theirs', label_config: SENTIMENT } });
    const theirs = await call(s, 'POST', `/api/projects/${foreign.body.id}/import?return_task_ids=true`, { token: other.owner.token, body: [{ text: 'x' }] });
    const theirTask = theirs.body.task_ids[0] as number;
    expect((await assign(manager.token, foreign.body.id, { type: 'AN', users: [manager.id], selectedItems: { all: true } })).status).toBe(404);
    expect((await assign(other.owner.token, p.id, { type: 'AN', users: [other.owner.id], selectedItems: { all: true } })).status).toBe(404);
    expect((await call(s, 'GET', `/api/projects/${foreign.body.id}/tasks/${theirTask}/assignees`, { token: manager.token })).status).toBe(404);
    expect((await call(s, 'GET', `/api/projects/${p.id}/tasks/${theirTask}/assignees`, { token: manager.token })).status).toBe(404);
    const p2 = await project(1);
    expect((await call(s, 'GET', `/api/projects/${p.id}/tasks/${p2.tasks[0]}/assignees`, { token: manager.token })).status).toBe(404);
    expect((await call(s, 'POST', `/api/projects/${p.id}/tasks/${p2.tasks[0]}/assignees`, { token: manager.token, body: { type: 'AN', users: [annotator.id] } })).status).toBe(404);
    // An Annotator of the organization outside the workspace does not see the project either.
    expect((await call(s, 'GET', `/api/projects/${p.id}/tasks/${p.tasks[0]}/assignees`, { token: outsider.token })).status).toBe(404);
  });

  it('assigns, replaces and removes the assignees of one task', async () => {
    const p = await project(1);
    const t = p.tasks[0]!;
    const url = `/api/projects/${p.id}/tasks/${t}/assignees/`;
    const post = await call(s, 'POST', url, { token: manager.token, body: { type: 'AN', users: [annotator.id, manager.id] } });
    expect(post.status, JSON.stringify(post.body)).toBe(200);
    expect(post.body).toMatchObject({ assignee: annotator.id, task: t, type: 'AN' });
    expect(typeof post.body.id).toBe('number');
    expect(await assignees(p.id, t)).toEqual([`AN:${annotator.id}`, `AN:${manager.id}`].sort());
    // The Annotator sees only their own assignment.
    expect(await assignees(p.id, t, annotator.token)).toEqual([`AN:${annotator.id}`]);
    const patch = await call(s, 'PATCH', url, { token: manager.token, body: { type: 'AN', users: [manager.id] } });
    expect(patch.status).toBe(200);
    expect(patch.body).toMatchObject({ assignee: manager.id, type: 'AN' });
    expect(await assignees(p.id, t)).toEqual([`AN:${manager.id}`]);
    expect((await call(s, 'POST', url, { token: manager.token, body: { type: 'RE', users: [reviewer.id] } })).status).toBe(200);
    // A Reviewer may remove annotators, not reviewers.
    const reDel = await call(s, 'DELETE', `${url}?type=RE`, { token: reviewer.token });
    expect(reDel.status).toBe(403);
    expect(reDel.body.detail).toContain('task.assign_reviewers');
    expect((await call(s, 'DELETE', url, { token: reviewer.token })).status).toBe(403);
    expect((await call(s, 'DELETE', `${url}?users=${manager.id}`, { token: reviewer.token })).status).toBe(204);
    expect(await assignees(p.id, t)).toEqual([`RE:${reviewer.id}`]);
    expect((await call(s, 'DELETE', `${url}?users=1,x`, { token: manager.token })).body.validation_errors).toHaveProperty('users');
    expect((await call(s, 'DELETE', `${url}?type=AN`, { token: annotator.token })).status).toBe(403);
    expect((await call(s, 'DELETE', url, { token: manager.token })).status).toBe(204);
    expect(await assignees(p.id, t)).toEqual([]);
    const actions = (await s.deps.db.selectFrom('audit_events').select('action').where('project_id', '=', p.id).where('action', 'in', ['task.assign', 'task.unassign']).orderBy('id').execute()).map((e) => e.action);
    expect(actions).toEqual(['task.assign', 'task.unassign', 'task.assign', 'task.assign', 'task.unassign', 'task.unassign']);
  });
});
