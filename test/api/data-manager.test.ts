/**
 * The data manager over HTTP on SQLite and PostgreSQL: filters (each operator, data fields,
 * refused traversal and injection attempts), views, `GET /api/tasks?view=&query=`, bulk actions
 * with both selection forms and the counters they leave, the dm project and the data summary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJson } from '../../src/db/schema.js';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { assignTask, makeTeam, type Member } from '../factories.js';

const SENTIMENT = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`;
const choice = (c: string) => ({ id: 'c1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: [c] } });
const f = (column: string, operator: string, value: unknown, type = 'String') => ({ filter: `filter:tasks:${column}`, operator, type, value });
const query = (o: object) => encodeURIComponent(JSON.stringify(o));

describe.each(DIALECTS)('data manager on %s', (dialect) => {
  let s: TestServer;
  let manager: Member;
  let workspaceId: number;
  let annotator: Member;
  let other: { id: number; owner: Member };
  beforeAll(async () => {
    s = await startServer(dialect);
    ({ manager, annotator, other, workspaceId } = await makeTeam(s.deps));
  });
  afterAll(async () => s?.close());

  /** Five tasks (inner ids 1–5) with varied data, annotations and predictions; returns task ids by inner id. */
  const fixture = async () => {
    const p = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, title: 'DM', label_config: SENTIMENT } })).body as { id: number };
    const pred = (c: string, score: number, model_version: string) => ({ result: [choice(c)], score, model_version });
    const imported = await call(s, 'POST', `/api/projects/${p.id}/import?return_task_ids=true`, {
      token: manager.token,
      body: [
        { data: { text: 'apple pie', n: 1, flag: true, cat: 'a' }, annotations: [{ result: [choice('Positive')] }], predictions: [pred('Positive', 0.9, 'v1')] },
        { data: { text: 'banana split', n: 5, flag: false, cat: 'b' }, predictions: [pred('Negative', 0.2, 'v2')] },
        { data: { text: 'cherry_tart 100%', n: 10, cat: 'a' } },
        { data: { text: 'Apple crumble', n: 2.5, flag: true } },
        { data: { text: 'date', n: 'x', cat: '' } },
      ],
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    const ids = [0, ...(imported.body.task_ids as number[])];
    // The annotator annotates tasks handed to them (an annotator writes only on tasks they may open).
    for (const id of [ids[3]!, ids[5]!]) await assignTask(s, manager.token, p.id, id, annotator.id);
    expect((await call(s, 'POST', `/api/tasks/${ids[3]}/annotations`, { token: annotator.token, body: { result: [choice('Negative')] } })).status).toBe(201);
    expect((await call(s, 'POST', `/api/tasks/${ids[5]}/annotations`, { token: annotator.token, body: { was_cancelled: true } })).status).toBe(201);
    return { project: p.id, ids };
  };

  const list = (project: number, q: object, token = manager.token, extra = '') => call(s, 'GET', `/api/tasks?project=${project}&page_size=-1&query=${query(q)}${extra}`, { token });
  const inner = async (project: number, items: object[], conjunction = 'and', ordering?: string[]) => {
    const r = await list(project, { filters: { conjunction, items }, ...(ordering && { ordering }) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return (r.body.tasks as { inner_id: number }[]).map((t) => t.inner_id);
  };

  describe('filters', () => {
    it('applies every operator to task columns and related rows', async () => {
      const { project, ids } = await fixture();
      const cases: [object[], number[], string?][] = [
        [[f('id', 'equal', ids[2], 'Number')], [2]],
        [[f('inner_id', 'not_equal', 3, 'Number')], [1, 2, 4, 5]],
        [[f('total_annotations', 'less', 1, 'Number')], [2, 4, 5]],
        [[f('inner_id', 'greater', 3, 'Number')], [4, 5]],
        [[f('inner_id', 'less_or_equal', 2, 'Number')], [1, 2]],
        [[f('inner_id', 'greater_or_equal', '4', 'Number')], [4, 5]],
        [[f('inner_id', 'in', { min: 2, max: 4 }, 'Number')], [2, 3, 4]],
        [[f('inner_id', 'not_in', { min: 2, max: 4 }, 'Number')], [1, 5]],
        [[f('inner_id', 'in_list', [1, 3], 'Number')], [1, 3]],
        [[f('inner_id', 'not_in_list', [1, 3], 'Number')], [2, 4, 5]],
        [[f('cancelled_annotations', 'greater', 0, 'Number')], [5]],
        [[f('total_predictions', 'equal', 1, 'Number')], [1, 2]],
        [[f('completed_at', 'empty', true, 'Datetime')], [2, 4]],
        [[f('completed_at', 'empty', false, 'Datetime')], [1, 3, 5]],
        [[f('created_at', 'greater', '2000-01-01T00:00:00.000Z', 'Datetime')], [1, 2, 3, 4, 5]],
        [[f('updated_at', 'less', '2000-01-01T00:00:00.000Z', 'Datetime')], []],
        [[f('annotators', 'contains', manager.id, 'List')], [1]],
        [[f('annotators', 'in_list', [annotator.id], 'List')], [3, 5]],
        [[f('annotators', 'not_contains', manager.id, 'List')], [2, 3, 4, 5]],
        [[f('annotators', 'empty', true, 'List')], [2, 4]],
        [[f('annotations_results', 'contains', 'negative')], [3]],
        [[f('annotations_results', 'not_contains', 'Positive')], [2, 3, 4, 5]],
        [[f('predictions_results', 'contains', 'Negative')], [2]],
        [[f('predictions_score', 'greater', 0.5, 'Number')], [1]],
        [[f('predictions_score', 'less', 0.5, 'Number')], [2]],
        [[f('predictions_score', 'empty', true, 'Number')], [3, 4, 5]],
        [[f('predictions_model_versions', 'equal', 'v2')], [2]],
        [[f('predictions_model_versions', 'not_in_list', ['v1'])], [2, 3, 4, 5]],
        [[f('inner_id', 'equal', 1, 'Number'), f('inner_id', 'equal', 4, 'Number')], [1, 4], 'or'],
        [[f('inner_id', 'greater', 1, 'Number'), f('total_predictions', 'greater', 0, 'Number')], [2], 'and'],
      ];
      for (const [items, expected, conjunction] of cases) expect(await inner(project, items, conjunction), JSON.stringify(items)).toEqual(expected);
    });

    it('filters on data fields by type, with LIKE wildcards taken literally', async () => {
      const { project } = await fixture();
      const cases: [object, number[]][] = [
        [f('data.text', 'contains', 'APPLE'), [1, 4]],
        [f('data.text', 'not_contains', 'apple'), [2, 3, 5]],
        [f('data.text', 'contains', '100%'), [3]],
        [f('data.text', 'contains', 'y_t'), [3]],
        [f('data.text', 'contains', '%'), [3]],
        [f('data.text', 'starts_with', 'banana'), [2]],
        [f('data.text', 'ends_with', 'pie'), [1]],
        [f('data.text', 'equal', 'date'), [5]],
        [f('data.text', 'in_list', ['date', 'apple pie']), [1, 5]],
        [f('data.n', 'greater', 2, 'Number'), [2, 3, 4]],
        [f('data.n', 'less', 3, 'Number'), [1, 4]],
        [f('data.n', 'in', { min: 1, max: 5 }, 'Number'), [1, 2, 4]],
        [f('data.flag', 'equal', true, 'Boolean'), [1, 4]],
        [f('data.flag', 'equal', false, 'Boolean'), [2]],
        [f('data.flag', 'empty', true, 'Boolean'), [3, 5]],
        [f('data.cat', 'empty', true), [4, 5]],
        [f('data.text', 'equal', "' or 1=1 --"), []],
      ];
      for (const [item, expected] of cases) expect(await inner(project, [item]), JSON.stringify(item)).toEqual(expected);
      expect((await list(project, {})).body.total).toBe(5);
    });

    it('orders by columns, data fields and subqueries, id breaking ties', async () => {
      const { project } = await fixture();
      expect(await inner(project, [], 'and', ['-tasks:inner_id'])).toEqual([5, 4, 3, 2, 1]);
      expect(await inner(project, [], 'and', ['-tasks:total_annotations'])).toEqual([1, 3, 2, 4, 5]);
      expect(await inner(project, [], 'and', ['tasks:predictions_score'])).toEqual([3, 4, 5, 2, 1]);
      expect(await inner(project, [f('data.n', 'greater', 0, 'Number')], 'and', ['-tasks:data.n'])).toEqual([3, 2, 4, 1]);
    });

    it('supports regex on PostgreSQL only, and refuses a bad pattern with a 400', async () => {
      const { project } = await fixture();
      const r = await list(project, { filters: { conjunction: 'and', items: [f('data.text', 'regex', '^[Aa]pple')] } });
      if (dialect === 'postgres') {
        expect(r.status).toBe(200);
        expect(r.body.tasks.map((t: { inner_id: number }) => t.inner_id)).toEqual([1, 4]);
        const bad = await list(project, { filters: { conjunction: 'and', items: [f('data.text', 'regex', '(')] } });
        expect(bad.status).toBe(400);
        expect((await list(project, { filters: { conjunction: 'and', items: [f('data.text', 'regex', 'a'.repeat(201))] } })).status).toBe(400);
      } else {
        expect(r.status).toBe(400);
        expect(JSON.stringify(r.body.validation_errors)).toMatch(/regex.*SQLite/);
      }
    });

    it('refuses relation traversal, unknown columns and operators, bad values, naming the item', async () => {
      const { project } = await fixture();
      const refused: [object, string, RegExp][] = [
        [f('annotations__completed_by__password', 'contains', 'pbkdf2'), 'query.filters.items[0].filter', /traversal/],
        [f('data.text__x', 'equal', 'a'), 'query.filters.items[0].filter', /traversal/],
        [f('password', 'equal', 'x'), 'query.filters.items[0].filter', /Unknown column "password"/],
        [{ filter: 'filter:users:id', operator: 'equal', type: 'Number', value: 1 }, 'query.filters.items[0].filter', /filter:tasks:/],
        [f('data.x"); drop table tasks; --', 'equal', 'a'), 'query.filters.items[0].filter', /data field/],
        [f('id', 'like', 1, 'Number'), 'query.filters.items[0].operator', /Unknown operator "like"/],
        [f('id', 'contains', 1, 'Number'), 'query.filters.items[0].operator', /does not apply/],
        [f('id', 'greater', 'abc', 'Number'), 'query.filters.items[0].value', /number/],
        [f('id', 'in', 5, 'Number'), 'query.filters.items[0].value', /min, max/],
        [f('created_at', 'greater', 'yesterday', 'Datetime'), 'query.filters.items[0].value', /date/],
      ];
      for (const [item, field, why] of refused) {
        const r = await list(project, { filters: { conjunction: 'and', items: [item] } });
        expect(r.status, JSON.stringify(item)).toBe(400);
        expect(Object.keys(r.body.validation_errors), JSON.stringify(r.body)).toEqual([field]);
        expect(r.body.validation_errors[field].join(' ')).toMatch(why);
      }
      for (const ordering of [['tasks:annotators'], ['tasks:nope'], ['users:id'], ['-tasks:annotations__id']]) {
        expect((await list(project, { ordering })).status, ordering[0]).toBe(400);
      }
      expect((await call(s, 'GET', `/api/tasks?project=${project}&query=not-json`, { token: manager.token })).status).toBe(400);
      expect((await list(project, {})).body.total).toBe(5); // nothing was dropped
    });

    it('applies query selectedItems, keeps paging and counts the filtered totals', async () => {
      const { project, ids } = await fixture();
      const sel = await list(project, { selectedItems: { all: false, included: [ids[2], ids[4]] } });
      expect(sel.body.tasks.map((t: { inner_id: number }) => t.inner_id)).toEqual([2, 4]);
      const excl = await list(project, { selectedItems: { all: true, excluded: [ids[1]] }, filters: { conjunction: 'and', items: [f('total_predictions', 'greater', 0, 'Number')] } });
      expect(excl.body).toMatchObject({ total: 1, total_annotations: 0, total_predictions: 1 });
      const q = query({ filters: { conjunction: 'and', items: [f('inner_id', 'greater', 1, 'Number')] } });
      const page2 = await call(s, 'GET', `/api/tasks?project=${project}&page=2&page_size=3&query=${q}`, { token: manager.token });
      expect(page2.body.tasks.map((t: { inner_id: number }) => t.inner_id)).toEqual([5]);
      expect((await call(s, 'GET', `/api/tasks?project=${project}&page=3&page_size=3&query=${q}`, { token: manager.token })).status).toBe(404);
    });
  });

  describe('views', () => {
    const view = (project: number, items: object[], ordering: string[] = []) => ({ project, data: { title: 'Mine', filters: { conjunction: 'and', items }, ordering, hiddenColumns: { explore: ['tasks:data.n'] } } });

    it('creates, reads, changes and deletes views; filter items echo child_filters', async () => {
      const { project } = await fixture();
      const made = await call(s, 'POST', '/api/dm/views/', { token: manager.token, body: view(project, [f('inner_id', 'greater', 2, 'Number')], ['-tasks:inner_id']) });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      expect(made.body).toMatchObject({ project, user: manager.id, ordering: ['-tasks:inner_id'], data: { title: 'Mine', hiddenColumns: { explore: ['tasks:data.n'] } } });
      expect(made.body.data.filters.items[0]).toEqual({ ...f('inner_id', 'greater', 2, 'Number'), child_filters: [] });
      const listed = await call(s, 'GET', `/api/dm/views?project=${project}`, { token: annotator.token });
      expect(listed.body.map((v: { id: number }) => v.id)).toEqual([made.body.id]);
      expect((await call(s, 'GET', `/api/dm/views/${made.body.id}/`, { token: annotator.token })).body.data.title).toBe('Mine');

      const patched = await call(s, 'PATCH', `/api/dm/views/${made.body.id}?project=${project}`, { token: manager.token, body: { data: { title: 'Renamed' } } });
      expect(patched.status).toBe(200);
      expect(patched.body.data).toMatchObject({ title: 'Renamed', ordering: ['-tasks:inner_id'] });
      expect(patched.body.data.filters.items).toHaveLength(1);
      const put = await call(s, 'PUT', `/api/dm/views/${made.body.id}`, { token: manager.token, body: { project, data: { title: 'Plain' } } });
      expect(put.body.data).toMatchObject({ title: 'Plain', filters: { conjunction: 'and', items: [] }, ordering: [] });

      expect((await call(s, 'DELETE', `/api/dm/views/${made.body.id}`, { token: manager.token })).status).toBe(204);
      expect((await call(s, 'GET', `/api/dm/views/${made.body.id}`, { token: manager.token })).status).toBe(404);
    });

    it('refuses annotators (403), other organizations (404), anonymous callers (401) and bad filters (400)', async () => {
      const { project } = await fixture();
      const made = (await call(s, 'POST', '/api/dm/views', { token: manager.token, body: view(project, []) })).body;
      expect((await call(s, 'POST', '/api/dm/views', { token: annotator.token, body: view(project, []) })).status).toBe(403);
      expect((await call(s, 'PATCH', `/api/dm/views/${made.id}`, { token: annotator.token, body: { data: { title: 'x' } } })).status).toBe(403);
      expect((await call(s, 'DELETE', `/api/dm/views/${made.id}`, { token: annotator.token })).status).toBe(403);
      expect((await call(s, 'DELETE', `/api/dm/views/reset?project=${project}`, { token: annotator.token })).status).toBe(403);
      expect((await call(s, 'GET', `/api/dm/views/${made.id}`, { token: other.owner.token })).status).toBe(404);
      expect((await call(s, 'PATCH', `/api/dm/views/${made.id}`, { token: other.owner.token, body: { data: { title: 'x' } } })).status).toBe(404);
      expect((await call(s, 'GET', `/api/dm/views?project=${project}`, { token: other.owner.token })).status).toBe(404);
      expect((await call(s, 'POST', '/api/dm/views', { token: other.owner.token, body: view(project, []) })).status).toBe(404);
      expect((await call(s, 'GET', `/api/dm/views`, { token: other.owner.token })).body).toEqual([]);
      expect((await call(s, 'GET', `/api/dm/views?project=${project}`)).status).toBe(401);
      const bad = await call(s, 'POST', '/api/dm/views', { token: manager.token, body: view(project, [f('users__password', 'equal', 'x')]) });
      expect(bad.status).toBe(400);
      expect(Object.keys(bad.body.validation_errors)).toEqual(['data.filters.items[0].filter']);
      expect((await call(s, 'PATCH', `/api/dm/views/${made.id}`, { token: manager.token, body: { data: { ordering: ['tasks:annotators'] } } })).status).toBe(400);
      expect((await call(s, 'POST', '/api/dm/views', { token: manager.token, body: { data: {} } })).status).toBe(400);
      expect((await call(s, 'DELETE', `/api/dm/views/reset?project=${project}`, { token: manager.token })).status).toBe(204);
      expect((await call(s, 'GET', `/api/dm/views?project=${project}`, { token: manager.token })).body).toEqual([]);
    });

    it("GET /api/tasks?view= applies the view's filters and ordering; query overrides them", async () => {
      const { project } = await fixture();
      const v = (await call(s, 'POST', '/api/dm/views', { token: manager.token, body: view(project, [f('inner_id', 'greater', 2, 'Number')], ['-tasks:inner_id']) })).body;
      const r = await call(s, 'GET', `/api/tasks?project=${project}&view=${v.id}`, { token: manager.token });
      expect(r.status).toBe(200);
      expect(r.body.tasks.map((t: { inner_id: number }) => t.inner_id)).toEqual([5, 4, 3]);
      const overridden = await list(project, { ordering: ['tasks:inner_id'] }, manager.token, `&view=${v.id}`);
      expect(overridden.body.tasks.map((t: { inner_id: number }) => t.inner_id)).toEqual([3, 4, 5]);
      const otherProject = await fixture();
      expect((await call(s, 'GET', `/api/tasks?project=${otherProject.project}&view=${v.id}`, { token: manager.token })).status).toBe(404);
    });
  });

  describe('actions', () => {
    const act = (id: string, project: number, body: object, token = manager.token) => call(s, 'POST', `/api/dm/actions?id=${id}&project=${project}`, { token, body });
    const task = async (id: number) => (await call(s, 'GET', `/api/tasks/${id}`, { token: manager.token })).body;
    const auditOf = async (action: string, project: number) =>
      (await s.deps.db.selectFrom('audit_events').select('changes').where('action', '=', action).where('project_id', '=', project).orderBy('id').execute()).map((e) => fromJson<Record<string, unknown>>(e.changes));

    it('lists the actions a caller may run; refuses other organizations', async () => {
      const { project } = await fixture();
      const r = await call(s, 'GET', `/api/dm/actions?project=${project}`, { token: manager.token });
      expect(r.body.map((a: { id: string }) => a.id)).toEqual(['predictions_to_annotations', 'delete_tasks', 'delete_tasks_annotations', 'delete_tasks_predictions']);
      expect(r.body[1]).toMatchObject({ title: 'Delete Tasks', order: 100, permission: 'task.change', dialog: { type: 'confirm' } });
      expect((await call(s, 'GET', `/api/dm/actions?project=${project}`, { token: annotator.token })).body).toEqual([]);
      expect((await call(s, 'GET', `/api/dm/actions?project=${project}`, { token: other.owner.token })).status).toBe(404);
    });

    it('delete_tasks: included ids, then all-but-excluded under a filter; one audit event each; counters follow', async () => {
      const { project, ids } = await fixture();
      expect((await act('delete_tasks', project, { selectedItems: { all: false, included: [ids[1]] } }, annotator.token)).status).toBe(403);
      expect((await act('delete_tasks', project, { selectedItems: { all: true, excluded: [] } }, other.owner.token)).status).toBe(404);
      expect((await act('delete_tasks', project, {})).status).toBe(400);
      expect((await act('nuke_everything', project, { selectedItems: { all: true } })).status).toBe(400);
      const first = await act('delete_tasks', project, { selectedItems: { all: false, included: [ids[1], ids[2], 999_999_999] } });
      expect(first.body).toEqual({ processed_items: 2, reload: false, detail: 'Deleted 2 tasks' });
      const second = await act('delete_tasks', project, { selectedItems: { all: true, excluded: [ids[3]] }, filters: { conjunction: 'and', items: [f('inner_id', 'greater', 3, 'Number')] } });
      expect(second.body.processed_items).toBe(2);
      const left = await list(project, {});
      expect(left.body.tasks.map((t: { inner_id: number }) => t.inner_id)).toEqual([3]);
      const p = (await call(s, 'GET', `/api/projects/${project}`, { token: manager.token })).body;
      expect(p).toMatchObject({ task_number: 1, total_annotations_number: 1, total_predictions_number: 0 });
      const events = await auditOf('task.bulk_delete', project);
      expect(events).toHaveLength(2);
      expect(events[0]).toMatchObject({ data_manager_action: 'delete_tasks', tasks: 2, annotations: 1, predictions: 2, selection: { all: false, included: 3 } });
      expect((await act('delete_tasks', project, { selectedItems: { all: true, excluded: [] } })).body).toMatchObject({ processed_items: 1, reload: true });
    });

    it('delete_tasks works through many batches', async () => {
      const p = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, label_config: SENTIMENT } })).body;
      await call(s, 'POST', `/api/projects/${p.id}/import`, { token: manager.token, body: Array.from({ length: 2100 }, (_, i) => ({ text: `t${i}` })) });
      const r = await act('delete_tasks', p.id, { selectedItems: { all: true, excluded: [] }, filters: { conjunction: 'and', items: [f('inner_id', 'greater', 5, 'Number')] } });
      expect(r.body.processed_items).toBe(2095);
      expect((await list(p.id, {})).body.total).toBe(5);
    });

    it('delete_tasks_annotations: both selection forms; counters and is_labeled refreshed', async () => {
      const { project, ids } = await fixture();
      const one = await act('delete_tasks_annotations', project, { selectedItems: { all: false, included: [ids[1]] } });
      expect(one.body).toEqual({ processed_items: 1, detail: 'Deleted 1 annotations' });
      expect(await task(ids[1]!)).toMatchObject({ total_annotations: 0, is_labeled: false });
      expect(await task(ids[3]!)).toMatchObject({ total_annotations: 1, is_labeled: true });
      const rest = await act('delete_tasks_annotations', project, { selectedItems: { all: true, excluded: [ids[3]] } });
      expect(rest.body.processed_items).toBe(1); // the cancelled one of task 5
      expect(await task(ids[5]!)).toMatchObject({ cancelled_annotations: 0 });
      expect(await task(ids[3]!)).toMatchObject({ total_annotations: 1 });
      expect((await act('delete_tasks_annotations', project, { selectedItems: { all: true } }, annotator.token)).status).toBe(403);
      expect((await auditOf('annotation.bulk_delete', project)).map((e) => e.annotations)).toEqual([1, 1]);
    });

    it('delete_tasks_predictions: both selection forms; counters refreshed', async () => {
      const { project, ids } = await fixture();
      expect((await act('delete_tasks_predictions', project, { selectedItems: { all: false, included: [ids[1]] } })).body).toEqual({ processed_items: 1, detail: 'Deleted 1 predictions' });
      expect(await task(ids[1]!)).toMatchObject({ total_predictions: 0 });
      expect(await task(ids[2]!)).toMatchObject({ total_predictions: 1 });
      expect((await act('delete_tasks_predictions', project, { selectedItems: { all: true, excluded: [ids[2]] } })).body.processed_items).toBe(0);
      expect((await act('delete_tasks_predictions', project, { selectedItems: { all: true, excluded: [] } })).body.processed_items).toBe(1);
      expect((await list(project, {})).body.total_predictions).toBe(0);
      expect(await auditOf('prediction.bulk_delete', project)).toHaveLength(3);
    });

    it('predictions_to_annotations: both selection forms, never twice, in batches', async () => {
      const { project, ids } = await fixture();
      const one = await act('predictions_to_annotations', project, { selectedItems: { all: false, included: [ids[2]] } });
      expect(one.body).toEqual({ processed_items: 1, response_code: 200, detail: 'Created 1 annotations' });
      const made = await task(ids[2]!);
      expect(made).toMatchObject({ total_annotations: 1, is_labeled: true });
      expect(made.annotations[0]).toMatchObject({ completed_by: manager.id, result: [choice('Negative')], last_action: 'prediction' });
      expect((await act('predictions_to_annotations', project, { selectedItems: { all: true, excluded: [ids[1]] } })).body.processed_items).toBe(0);
      expect((await act('predictions_to_annotations', project, { selectedItems: { all: true, excluded: [] } })).body.processed_items).toBe(1);
      expect(await task(ids[1]!)).toMatchObject({ total_annotations: 2 });

      const big = (await call(s, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, label_config: SENTIMENT } })).body;
      const tasks = Array.from({ length: 450 }, (_, i) => ({ data: { text: `t${i}` }, predictions: [{ result: [choice('Positive')], model_version: i % 2 ? 'odd' : 'even' }] }));
      await call(s, 'POST', `/api/projects/${big.id}/import`, { token: manager.token, body: tasks });
      const odd = await act('predictions_to_annotations', big.id, { selectedItems: { all: true, excluded: [] }, model_version: 'odd' });
      expect(odd.body.processed_items).toBe(225);
      expect((await list(big.id, {})).body.total_annotations).toBe(225);
      expect(await auditOf('annotation.bulk_create', big.id)).toEqual([expect.objectContaining({ annotations: 225, tasks: 225 })]);
    });

    it('next_task: the first selected task in the requested order, reserved; 404 when none is left', async () => {
      const { project, ids } = await fixture();
      // An annotator needs the data manager shown to them for this (else the label stream only).
      expect((await act('next_task', project, {}, annotator.token)).status).toBe(403);
      expect((await call(s, 'PATCH', `/api/projects/${project}`, { token: manager.token, body: { show_data_manager_to_annotators: true } })).status).toBe(200);
      const r = await act('next_task', project, { filters: { conjunction: 'and', items: [f('total_annotations', 'equal', 0, 'Number')] }, ordering: ['-tasks:inner_id'] }, annotator.token);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body).toMatchObject({ id: ids[4], queue: expect.any(String) });
      const none = await act('next_task', project, { selectedItems: { all: false, included: [ids[3]] } }, annotator.token);
      expect(none.status).toBe(404);
      expect((await act('next_task', project, {}, other.owner.token)).status).toBe(404);
    });
  });

  describe('project info', () => {
    it('GET /api/dm/project: counts, parsed config and the caller’s abilities', async () => {
      const { project } = await fixture();
      const r = await call(s, 'GET', `/api/dm/project?project=${project}`, { token: annotator.token });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: project, task_count: 5, annotation_count: 3, config_has_control_tags: true, can_delete_tasks: false, can_manage_tasks: false });
      expect(r.body.parsed_label_config.sentiment).toMatchObject({ type: 'Choices', to_name: ['text'], labels: ['Positive', 'Negative'] });
      expect((await call(s, 'GET', `/api/dm/project?project=${project}`, { token: manager.token })).body.can_delete_tasks).toBe(true);
      expect((await call(s, 'GET', `/api/dm/project?project=${project}`, { token: other.owner.token })).status).toBe(404);
    });

    it('GET /api/projects/{id}/summary: data columns and those every task has', async () => {
      const { project } = await fixture();
      const r = await call(s, 'GET', `/api/projects/${project}/summary`, { token: annotator.token });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ project, all_data_columns: { text: 5, n: 5, flag: 3, cat: 4 }, common_data_columns: ['n', 'text'] });
      expect((await call(s, 'GET', `/api/projects/${project}/summary`, { token: other.owner.token })).status).toBe(404);
    });
  });
});
