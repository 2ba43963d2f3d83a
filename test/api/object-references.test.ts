/**
 * Object-reference attacks and the roles issue's acceptance checks, on SQLite and PostgreSQL.
 * Ids of another organization's tasks, annotations, predictions, drafts, uploads, exports,
 * views and users are tried in paths, bodies and query filters: every one is refused and nothing
 * of the other organization changes. Then: what an Annotator's token can and cannot do, and a
 * deactivation that applies on the very next request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { assignTask, makeMember, makeOrganization, makeWorkspace, type Member } from '../factories.js';

const CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>';
const choice = [{ from_name: 'c', to_name: 'text', type: 'choices', value: { choices: ['A'] } }];

interface Side {
  owner: Member;
  manager: Member;
  annotator: Member;
  project: number;
  task: number;
  annotation: number;
  prediction: number;
  draft: number;
  view: number;
  snapshot: number;
  upload: number;
}

describe.each(DIALECTS)('object references across organizations on %s', (dialect) => {
  let s: TestServer;
  let mine: Side;
  let theirs: Side;

  /** An organization with a Manager and an Annotator in one workspace, and one of each object. */
  async function side(): Promise<Side> {
    const org = await makeOrganization(s.deps);
    const [manager, annotator] = await Promise.all([makeMember(s.deps, org.id, 'MA'), makeMember(s.deps, org.id, 'AN')]);
    const workspace = await makeWorkspace(s.deps, org.id, [manager, annotator]);
    const t = manager.token;
    const project = (await call(s, 'POST', '/api/projects', { token: t, body: { label_config: CONFIG, workspace, show_data_manager_to_annotators: true } })).body.id;
    const [task] = (await call(s, 'POST', `/api/projects/${project}/import?return_task_ids=true`, { token: t, body: [{ text: 'secret' }, { text: 'second' }] })).body.task_ids;
    await assignTask(s, t, project, task, annotator.id);
    const annotation = (await call(s, 'POST', `/api/tasks/${task}/annotations`, { token: annotator.token, body: { result: choice } })).body.id;
    const prediction = (await call(s, 'POST', '/api/predictions', { token: t, body: { task, result: choice, score: 0.5 } })).body.id;
    const draft = (await call(s, 'POST', `/api/tasks/${task}/drafts`, { token: annotator.token, body: { result: choice } })).body.id;
    const view = (await call(s, 'POST', '/api/dm/views', { token: t, body: { project, data: { title: 'tab' } } })).body.id;
    const snapshot = (await call(s, 'POST', `/api/projects/${project}/exports`, { token: t, body: {} })).body.id;
    const form = new FormData();
    form.append('file', new Blob([JSON.stringify([{ text: 'held' }])], { type: 'application/json' }), 'held.json');
    const up = await fetch(`${s.url}/api/projects/${project}/import?commit_to_project=false`, { method: 'POST', headers: { authorization: `Token ${t}` }, body: form });
    const upload = ((await up.json()) as { file_upload_ids: number[] }).file_upload_ids[0]!;
    return { owner: org.owner, manager, annotator, project, task, annotation, prediction, draft, view, snapshot, upload };
  }

  /** A fingerprint of the other organization's data, to prove nothing changed. */
  const snapshotOf = async (x: Side) => {
    const db = s.deps.db;
    return JSON.stringify({
      tasks: await db.selectFrom('tasks').select(['id', 'project_id', 'data', 'total_annotations']).where('project_id', '=', x.project).orderBy('id').execute(),
      annotations: await db.selectFrom('annotations').select(['id', 'task_id', 'result']).where('project_id', '=', x.project).orderBy('id').execute(),
      predictions: await db.selectFrom('predictions').select(['id', 'task_id', 'score']).where('project_id', '=', x.project).orderBy('id').execute(),
      drafts: await db.selectFrom('drafts').select(['id', 'task_id']).where('project_id', '=', x.project).orderBy('id').execute(),
      views: await db.selectFrom('dm_views').select(['id', 'project_id', 'data']).where('project_id', '=', x.project).orderBy('id').execute(),
      uploads: await db.selectFrom('file_uploads').select(['id', 'project_id']).where('project_id', '=', x.project).orderBy('id').execute(),
      assignments: await db.selectFrom('task_assignments').select(['id']).where('project_id', '=', x.project).execute(),
    });
  };

  beforeAll(async () => {
    s = await startServer(dialect);
    mine = await side();
    theirs = await side();
  }, 60_000);
  afterAll(async () => s?.close());

  it("refuses the other organization's ids in paths with 404", async () => {
    const before = await snapshotOf(theirs);
    const t = mine.manager.token;
    const paths: [string, string, unknown?][] = [
      ['GET', `/api/tasks/${theirs.task}`],
      ['PATCH', `/api/tasks/${theirs.task}`, { data: { text: 'x' } }],
      ['DELETE', `/api/tasks/${theirs.task}`],
      ['GET', `/api/annotations/${theirs.annotation}`],
      ['PATCH', `/api/annotations/${theirs.annotation}`, { result: choice }],
      ['DELETE', `/api/annotations/${theirs.annotation}`],
      ['GET', `/api/predictions/${theirs.prediction}`],
      ['DELETE', `/api/predictions/${theirs.prediction}`],
      ['GET', `/api/drafts/${theirs.draft}`],
      ['DELETE', `/api/drafts/${theirs.draft}`],
      ['GET', `/api/dm/views/${theirs.view}`],
      ['DELETE', `/api/dm/views/${theirs.view}`],
      // Their snapshot under my project's path, and their task under my project's assignees path.
      ['GET', `/api/projects/${mine.project}/exports/${theirs.snapshot}`],
      ['GET', `/api/projects/${mine.project}/exports/${theirs.snapshot}/download`],
      ['DELETE', `/api/projects/${mine.project}/exports/${theirs.snapshot}`],
      ['GET', `/api/projects/${mine.project}/tasks/${theirs.task}/assignees`],
      ['POST', `/api/projects/${mine.project}/tasks/${theirs.task}/assignees`, { type: 'AN', users: [mine.annotator.id] }],
      ['POST', `/api/tasks/${theirs.task}/annotations`, { result: choice }],
      ['POST', `/api/tasks/${mine.task}/annotations/${theirs.annotation}/drafts`, { result: choice }],
    ];
    for (const [method, path, body] of paths) {
      const r = await call(s, method, path, { token: t, ...(body !== undefined && { body }) });
      expect(r.status, `${method} ${path}`).toBe(404);
    }
    expect(await snapshotOf(theirs)).toBe(before);
  });

  it("refuses the other organization's ids in bodies, and changes nothing of theirs", async () => {
    const before = await snapshotOf(theirs);
    const t = mine.manager.token;
    const refused = async (method: string, path: string, body: unknown, statuses = [400, 404]) => {
      const r = await call(s, method, path, { token: t, body });
      expect(statuses, `${method} ${path} ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`).toContain(r.status);
    };
    await refused('POST', '/api/tasks', { project: theirs.project, data: { text: 'x' } }, [404]);
    await refused('POST', '/api/predictions', { task: theirs.task, result: choice }, [404]);
    await refused('POST', `/api/projects/${mine.project}/import/predictions`, [{ task: theirs.task, result: choice }]);
    await refused('POST', '/api/annotations/bulk', { project: mine.project, tasks: [theirs.task], result: choice });
    await refused('POST', '/api/annotations/bulk', { project: theirs.project, tasks: [theirs.task], result: choice }, [404]);
    await refused('POST', '/api/dm/views', { project: theirs.project, data: { title: 'x' } }, [404]);
    await refused('PATCH', `/api/dm/views/${mine.view}`, { project: theirs.project, data: { title: 'moved' } });
    await refused('PATCH', `/api/tasks/${mine.task}`, { project: theirs.project, data: { text: 'moved' } }, [400]);
    await refused('POST', `/api/projects/${mine.project}/reimport`, { file_upload_ids: [theirs.upload] }, [400]);
    await refused('POST', `/api/tasks/${mine.task}/annotations`, { result: choice, parent_prediction: theirs.prediction }, [400]);
    await refused('POST', `/api/tasks/${mine.task}/annotations`, { result: choice, parent_annotation: theirs.annotation }, [400]);
    await refused('POST', `/api/tasks/${mine.task}/annotations`, { result: choice, draft_id: theirs.draft }, [400, 403, 404]);
    await refused('POST', `/api/workspaces/${(await call(s, 'GET', `/api/projects/${mine.project}`, { token: t })).body.workspace}/projects`, { project: theirs.project }, [400]);
    await refused('POST', `/api/projects/${mine.project}/members`, { user: theirs.annotator.id }, [400]);
    await refused('POST', `/api/projects/${mine.project}/tasks/assignees`, { type: 'AN', users: [theirs.annotator.id], selectedItems: { all: true } }, [400]);
    await refused('POST', '/api/annotation-reviews', { annotation: theirs.annotation, accepted: false }, [404]);
    await refused('PATCH', `/api/organizations/${mine.owner.organizationId}/memberships`, { user_id: theirs.annotator.id, role: 'AD' }, [400, 403, 404]);
    // Data-manager actions on my project with their task ids selected touch none of theirs.
    const del = await call(s, 'POST', `/api/dm/actions?id=delete_tasks&project=${mine.project}`, { token: t, body: { selectedItems: { all: false, included: [theirs.task] } } });
    expect(del.status).toBe(200);
    expect(await snapshotOf(theirs)).toBe(before);
  });

  it("refuses the other organization's ids in query filters", async () => {
    const t = mine.manager.token;
    for (const path of [`/api/tasks?project=${theirs.project}`, `/api/predictions?task=${theirs.task}`, `/api/predictions?project=${theirs.project}`, `/api/dm/views?project=${theirs.project}`, `/api/dm/project?project=${theirs.project}`, `/api/annotation-reviews?annotation=${theirs.annotation}`, `/api/annotation-reviews?annotation__task__project=${theirs.project}`]) {
      expect((await call(s, 'GET', path, { token: t })).status, path).toBe(404);
    }
    // Lists filtered by their ids come back without their objects.
    const projects = await call(s, 'GET', `/api/projects?ids=${theirs.project}`, { token: t });
    expect(projects.status).toBe(200);
    expect(projects.body.results).toEqual([]);
    const exported = await call(s, 'GET', `/api/projects/${mine.project}/export?exportType=JSON&ids=${theirs.task}`, { token: t });
    expect(exported.status).toBe(200);
    expect(JSON.stringify(exported.body)).not.toContain('secret');
    const admin = await makeMember(s.deps, mine.owner.organizationId, 'AD');
    const log = await call(s, 'GET', `/api/activity-logs?project=${theirs.project}`, { token: admin.token });
    expect([200, 404]).toContain(log.status);
    if (log.status === 200) expect(log.body.data).toEqual([]);
    // Media of their project under my project's path.
    const media = await s.deps.db.selectFrom('file_uploads').select('file').where('id', '=', theirs.upload).executeTakeFirstOrThrow();
    expect((await call(s, 'GET', `/data/upload/${mine.project}/${media.file.split('/').pop()}`, { token: t })).status).toBe(404);
  });

  describe('acceptance: an Annotator and a deactivation', () => {
    it("lets an Annotator's token annotate its project's task, and refuses members, export, other projects and other organizations", async () => {
      const a = mine.annotator.token;
      const [task] = (await call(s, 'POST', `/api/projects/${mine.project}/import?return_task_ids=true`, { token: mine.manager.token, body: [{ text: 'to label' }] })).body.task_ids;
      await assignTask(s, mine.manager.token, mine.project, task, mine.annotator.id);
      const made = await call(s, 'POST', `/api/tasks/${task}/annotations`, { token: a, body: { result: choice } });
      expect(made.status).toBe(201);
      expect(made.body.completed_by).toBe(mine.annotator.id);

      const members = await call(s, 'GET', `/api/projects/${mine.project}/members`, { token: a });
      expect(members.status).toBe(403);
      expect(members.body.detail).toContain('project.members');
      const orgMembers = await call(s, 'GET', `/api/organizations/${mine.owner.organizationId}/memberships`, { token: a });
      expect(orgMembers.status).toBe(403);
      const exported = await call(s, 'GET', `/api/projects/${mine.project}/export`, { token: a });
      expect(exported.status).toBe(403);
      expect(exported.body.detail).toContain('project.export');

      // A project of the same organization the annotator is not in: its task is not found.
      const elsewhere = (await call(s, 'POST', '/api/projects', { token: mine.owner.token, body: { label_config: CONFIG } })).body.id;
      const [hidden] = (await call(s, 'POST', `/api/projects/${elsewhere}/import?return_task_ids=true`, { token: mine.owner.token, body: [{ text: 'hidden' }] })).body.task_ids;
      expect((await call(s, 'GET', `/api/tasks/${hidden}`, { token: a })).status).toBe(404);
      expect((await call(s, 'GET', `/api/projects/${elsewhere}`, { token: a })).status).toBe(404);
      // Another organization's project: not found either.
      expect((await call(s, 'GET', `/api/projects/${theirs.project}`, { token: a })).status).toBe(404);
      expect((await call(s, 'GET', `/api/tasks/${theirs.task}`, { token: a })).status).toBe(404);
    });

    it("refuses a Deactivated user's token on the request right after the deactivation, and a lowered role at once", async () => {
      const org = mine.owner.organizationId;
      const admin = await makeMember(s.deps, org, 'AD');
      const target = await makeMember(s.deps, org, 'MA');
      expect((await call(s, 'GET', '/api/projects', { token: target.token })).status).toBe(200);
      expect((await call(s, 'POST', '/api/projects', { token: target.token, body: { title: 'allowed' } })).status).toBe(201);

      const lowered = await call(s, 'PATCH', `/api/organizations/${org}/memberships`, { token: admin.token, body: { user_id: target.id, role: 'AN' } });
      expect(lowered.status).toBe(200);
      const refused = await call(s, 'POST', '/api/projects', { token: target.token, body: { title: 'not any more' } });
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toContain('project.create');

      const off = await call(s, 'PATCH', `/api/organizations/${org}/memberships`, { token: admin.token, body: { user_id: target.id, role: 'DI' } });
      expect(off.status).toBe(200);
      expect((await call(s, 'GET', '/api/current-user/whoami', { token: target.token })).status).toBe(401);
      expect((await call(s, 'GET', '/api/projects', { token: target.token })).status).toBe(401);
    });
  });
});
