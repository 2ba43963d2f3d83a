/**
 * The labeling core over HTTP on SQLite and PostgreSQL: projects, configs, import, tasks,
 * annotations, drafts, predictions and the label stream — refused cases beside allowed ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { addToProject, assignTask, makeMember, makeTeam, type Member } from '../factories.js';

const IMAGE_BOXES = `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Cat"/><Label value="Dog"/>
  </RectangleLabels>
</View>`;
const SENTIMENT = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`;

const box = (label: string, id = 'r1') => ({ id, from_name: 'label', to_name: 'image', type: 'rectanglelabels', original_width: 640, original_height: 480, value: { x: 10, y: 20, width: 30, height: 40, rotation: 0, rectanglelabels: [label] } });
const choice = (c: string) => ({ id: 'c1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: [c] } });

describe.each(DIALECTS)('labeling core on %s', (dialect) => {
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

  const newProject = async (label_config = IMAGE_BOXES, extra: Record<string, unknown> = {}) => {
    const r = await call(s, 'POST', '/api/projects/', { token: manager.token, body: { workspace: workspaceId, title: 'P', label_config, ...extra } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body as { id: number };
  };

  describe('projects', () => {
    it('creates a project from an empty body with Label Studio defaults', async () => {
      const r = await call(s, 'POST', '/api/projects', { token: manager.token });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ title: '', sampling: 'Sequential sampling', color: '#FFFFFF', maximum_annotations: 1, overlap_cohort_percentage: 100, show_skip_button: true, task_number: 0, config_has_control_tags: false });
      expect(r.body.created_by).toMatchObject({ id: manager.id, email: manager.email });
    });

    it('parses the config and reports parsed_label_config', async () => {
      const p = await newProject();
      const r = await call(s, 'GET', `/api/projects/${p.id}`, { token: annotator.token });
      expect(r.status).toBe(200);
      expect(r.body.parsed_label_config.label).toMatchObject({ type: 'RectangleLabels', to_name: ['image'], labels: ['Cat', 'Dog'] });
      expect(r.body.config_has_control_tags).toBe(true);
    });

    it('refuses bad configs with a 400 naming the problem', async () => {
      const cases: [string, RegExp][] = [
        ['<View><Image name="i" value="$i"/><Choices name="c" toName="nope"><Choice value="a"/></Choices></View>', /nope/],
        ['<!DOCTYPE View [<!ENTITY x "y">]><View><Text name="t" value="$t"/></View>', /DTD|DOCTYPE|entit/i],
        ['<View><Script name="s"/></View>', /Script/],
        [`<View>${'<View>'.repeat(10)}<Text name="t" value="$t"/>${'</View>'.repeat(10)}<Text name="t" value="$u"/></View>`, /duplicate|t/i],
      ];
      for (const [config, why] of cases) {
        const r = await call(s, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, label_config: config } });
        expect(r.status, config.slice(0, 80)).toBe(400);
        expect(JSON.stringify(r.body.validation_errors), config.slice(0, 80)).toMatch(why);
      }
      const huge = await call(s, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, label_config: `<View><Text name="t" value="${'a'.repeat(10 * 1024 * 1024)}"/></View>` } });
      expect(huge.status).toBe(413);
      expect(huge.body.detail).toMatch(/larger than/);
      const big = await call(s, 'POST', '/api/projects/validate', { token: manager.token, body: { label_config: `<View><Text name="t" value="$t"/>${'<Header value="x"/>'.repeat(40_000)}</View>` } });
      expect(big.status).toBe(400);
      expect(big.body.validation_errors.label_config[0]).toMatch(/KiB|bytes|large|elements/i);
      const v = await call(s, 'POST', '/api/projects/validate/', { token: manager.token, body: { label_config: SENTIMENT } });
      expect(v.status).toBe(204);
    });

    it('lets Annotators read but not create, change or delete projects', async () => {
      const p = await newProject();
      expect((await call(s, 'POST', '/api/projects', { token: annotator.token, body: {} })).status).toBe(403);
      expect((await call(s, 'PATCH', `/api/projects/${p.id}`, { token: annotator.token, body: { title: 'x' } })).status).toBe(403);
      expect((await call(s, 'DELETE', `/api/projects/${p.id}`, { token: annotator.token })).status).toBe(403);
      expect((await call(s, 'GET', `/api/projects/${p.id}`, { token: other.owner.token })).status).toBe(404);
      expect((await call(s, 'PATCH', `/api/projects/${p.id}`, { token: other.owner.token, body: { title: 'x' } })).status).toBe(404);
    });

    it('pages projects and answers 404 past the end; include picks keys', async () => {
      await newProject();
      await newProject();
      const page = await call(s, 'GET', '/api/projects?page_size=1&page=2', { token: manager.token });
      expect(page.status).toBe(200);
      expect(page.body.results).toHaveLength(1);
      expect((await call(s, 'GET', '/api/projects?page_size=1&page=1000', { token: manager.token })).status).toBe(404);
      const ids = await call(s, 'GET', '/api/projects?include=id,title', { token: manager.token });
      expect(Object.keys(ids.body.results[0]).sort()).toEqual(['id', 'title']);
      expect((await call(s, 'GET', '/api/projects', { token: other.owner.token })).body.count).toBe(0);
    });

    it('refuses read-only and unknown fields', async () => {
      const r = await call(s, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, title: 'x', organization: other.id } });
      expect(r.status).toBe(400);
      expect(r.body.validation_errors).toHaveProperty('organization');
    });

    it('sanitises the instructions', async () => {
      const p = await newProject(SENTIMENT, { expert_instruction: '<p onclick="steal()">Read <b>this</b></p><script>alert(1)</script>' });
      const r = await call(s, 'GET', `/api/projects/${p.id}`, { token: manager.token });
      expect(r.body.expert_instruction).toBe('<p>Read <b>this</b></p>');
    });
  });

  describe('import, tasks, annotations', () => {
    it('imports all or nothing, naming the task that lacks a key', async () => {
      const p = await newProject();
      const bad = await call(s, 'POST', `/api/projects/${p.id}/import`, { token: manager.token, body: [{ image: 'a.jpg' }, { picture: 'b.jpg' }] });
      expect(bad.status).toBe(400);
      expect(bad.body.validation_errors.tasks[0]).toMatch(/task 2: .*image/);
      expect((await call(s, 'GET', `/api/tasks?project=${p.id}`, { token: manager.token })).body.total).toBe(0);

      const ok = await call(s, 'POST', `/api/projects/${p.id}/import?return_task_ids=true`, {
        token: manager.token,
        body: [{ image: 'a.jpg' }, { data: { image: 'b.jpg' }, annotations: [{ result: [box('Cat')] }], predictions: [{ result: [box('Dog')], score: 0.5, model_version: 'v1' }] }],
      });
      expect(ok.status).toBe(201);
      expect(ok.body).toMatchObject({ task_count: 2, annotation_count: 1, prediction_count: 1, data_columns: ['image'] });
      expect(ok.body.task_ids).toHaveLength(2);
      const list = await call(s, 'GET', `/api/tasks?project=${p.id}&fields=all`, { token: manager.token });
      expect(list.body).toMatchObject({ total: 2, total_annotations: 1, total_predictions: 1 });
      expect(list.body.tasks.map((t: { inner_id: number }) => t.inner_id)).toEqual([1, 2]);
      expect(list.body.tasks[1]).toMatchObject({ is_labeled: true, total_annotations: 1, total_predictions: 1 });
      expect((await call(s, 'GET', `/api/tasks?project=${p.id}&page=2&page_size=2`, { token: manager.token })).status).toBe(404);
      expect((await call(s, 'POST', `/api/projects/${p.id}/import`, { token: annotator.token, body: [{ image: 'x' }] })).status).toBe(403);
      expect((await call(s, 'POST', `/api/projects/${p.id}/import`, { token: other.owner.token, body: [{ image: 'x' }] })).status).toBe(404);
    });

    it('validates annotation results against the config and keeps counters', async () => {
      const p = await newProject();
      const { task_ids } = (await call(s, 'POST', `/api/projects/${p.id}/import?return_task_ids=true`, { token: manager.token, body: [{ image: 'a.jpg' }] })).body;
      const t = task_ids[0];
      expect((await call(s, 'GET', `/api/projects/${p.id}/next`, { token: annotator.token })).body.id).toBe(t); // annotators take tasks from the label stream
      const bad = await call(s, 'POST', `/api/tasks/${t}/annotations`, { token: annotator.token, body: { result: [box('Bird')] } });
      expect(bad.status).toBe(400);
      expect(bad.body.validation_errors.result[0]).toMatch(/Bird/);
      const made = await call(s, 'POST', `/api/tasks/${t}/annotations/`, { token: annotator.token, body: { result: [box('Cat')], lead_time: 3.5 } });
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ completed_by: annotator.id, was_cancelled: false, lead_time: 3.5, task: t });
      const task = await call(s, 'GET', `/api/tasks/${t}`, { token: manager.token });
      expect(task.body).toMatchObject({ is_labeled: true, total_annotations: 1 });
      expect(task.body.annotations[0].result[0].value.rectanglelabels).toEqual(['Cat']);

      // Another annotator may not change it (nor see it: 404); a Manager may.
      const peer = await makeMember(s.deps, annotator.organizationId, 'AN');
      await addToProject(s.deps, (task.body as { project: number }).project, peer);
      expect((await call(s, 'PATCH', `/api/annotations/${made.body.id}`, { token: peer.token, body: { result: [box('Dog')] } })).status).toBe(404);
      expect((await call(s, 'PATCH', `/api/annotations/${made.body.id}`, { token: manager.token, body: { result: [box('Dog')] } })).status).toBe(200);
      expect((await call(s, 'GET', `/api/annotations/${made.body.id}`, { token: other.owner.token })).status).toBe(404);
      expect((await call(s, 'DELETE', `/api/annotations/${made.body.id}`, { token: annotator.token })).status).toBe(204);
      expect((await call(s, 'GET', `/api/tasks/${t}`, { token: manager.token })).body).toMatchObject({ is_labeled: false, total_annotations: 0 });
    });

    it('refuses a config change that drops a label in use, and allows adding one', async () => {
      const p = await newProject();
      const { task_ids } = (await call(s, 'POST', `/api/projects/${p.id}/import?return_task_ids=true`, { token: manager.token, body: [{ image: 'a.jpg' }] })).body;
      expect((await call(s, 'POST', `/api/tasks/${task_ids[0]}/annotations`, { token: manager.token, body: { result: [box('Cat')] } })).status).toBe(201);
      const dropCat = IMAGE_BOXES.replace('<Label value="Cat"/>', '');
      const refused = await call(s, 'PATCH', `/api/projects/${p.id}`, { token: manager.token, body: { label_config: dropCat } });
      expect(refused.status).toBe(400);
      expect(refused.body.validation_errors.label_config.join(' ')).toMatch(/Cat/);
      expect((await call(s, 'POST', `/api/projects/${p.id}/validate`, { token: manager.token, body: { label_config: dropCat } })).status).toBe(400);
      const addBird = IMAGE_BOXES.replace('<Label value="Dog"/>', '<Label value="Dog"/><Label value="Bird"/>');
      expect((await call(s, 'PATCH', `/api/projects/${p.id}`, { token: manager.token, body: { label_config: addBird } })).status).toBe(200);
    });

    it('consumes a draft on submit, and refuses (keeping it) a draft of another task', async () => {
      const p = await newProject(SENTIMENT);
      const { task_ids } = (await call(s, 'POST', `/api/projects/${p.id}/import?return_task_ids=true`, { token: manager.token, body: [{ text: 'a' }, { text: 'b' }] })).body;
      for (const t of task_ids) await assignTask(s, manager.token, p.id, t, annotator.id);
      const d1 = await call(s, 'POST', `/api/tasks/${task_ids[0]}/drafts`, { token: annotator.token, body: { result: [choice('Positive')], lead_time: 1 } });
      expect(d1.status).toBe(201);
      expect((await call(s, 'GET', `/api/drafts/${d1.body.id}`, { token: manager.token })).status).toBe(404); // drafts are private
      const wrong = await call(s, 'POST', `/api/tasks/${task_ids[1]}/annotations`, { token: annotator.token, body: { result: [choice('Negative')], draft_id: d1.body.id } });
      expect(wrong.status).toBe(403);
      expect((await call(s, 'GET', `/api/drafts/${d1.body.id}`, { token: annotator.token })).status).toBe(200);
      const ok = await call(s, 'POST', `/api/tasks/${task_ids[0]}/annotations`, { token: annotator.token, body: { result: [choice('Positive')], draft_id: d1.body.id } });
      expect(ok.status).toBe(201);
      expect((await call(s, 'GET', `/api/drafts/${d1.body.id}`, { token: annotator.token })).status).toBe(404);
    });

    it('creates, lists, changes and deletes predictions (Managers), keeping region ids', async () => {
      const p = await newProject(SENTIMENT);
      const { task_ids } = (await call(s, 'POST', `/api/projects/${p.id}/import?return_task_ids=true`, { token: manager.token, body: [{ text: 'a' }] })).body;
      expect((await call(s, 'POST', '/api/predictions', { token: annotator.token, body: { task: task_ids[0], result: [choice('Positive')] } })).status).toBe(403);
      const made = await call(s, 'POST', '/api/predictions/', { token: manager.token, body: { task: task_ids[0], result: [choice('Positive')], score: 0.9, model_version: 'm1' } });
      expect(made.status).toBe(201);
      expect(made.body.result[0].id).toBe('c1');
      expect((await call(s, 'POST', '/api/predictions/', { token: manager.token, body: { task: task_ids[0], result: [choice('Meh')] } })).status).toBe(400);
      const listed = await call(s, 'GET', `/api/predictions?task=${task_ids[0]}`, { token: manager.token });
      expect(listed.body).toHaveLength(1);
      expect((await call(s, 'PATCH', `/api/predictions/${made.body.id}`, { token: manager.token, body: { score: 0.1 } })).body.score).toBeCloseTo(0.1);
      expect((await call(s, 'DELETE', `/api/predictions/${made.body.id}`, { token: manager.token })).status).toBe(204);
      expect((await call(s, 'GET', `/api/tasks/${task_ids[0]}`, { token: manager.token })).body.total_predictions).toBe(0);
    });
  });

  describe('bulk endpoints', () => {
    it('imports predictions all or nothing, lists model versions, annotates many tasks at once', async () => {
      const p = await newProject(SENTIMENT);
      const { task_ids } = (await call(s, 'POST', `/api/projects/${p.id}/import?return_task_ids=true`, { token: manager.token, body: [{ text: 'a' }, { text: 'b' }, { text: 'c' }] })).body;
      const foreign = await newProject(SENTIMENT);
      const { task_ids: foreignIds } = (await call(s, 'POST', `/api/projects/${foreign.id}/import?return_task_ids=true`, { token: manager.token, body: [{ text: 'x' }] })).body;
      const mixed = await call(s, 'POST', `/api/projects/${p.id}/import/predictions`, { token: manager.token, body: [{ task: task_ids[0], result: [choice('Positive')], model_version: 'old' }, { task: foreignIds[0], result: [choice('Positive')] }] });
      expect(mixed.status).toBe(400);
      expect(JSON.stringify(mixed.body.validation_errors)).toMatch(new RegExp(`Task ${foreignIds[0]}`));
      const ok = await call(s, 'POST', `/api/projects/${p.id}/import/predictions`, { token: manager.token, body: [{ task: task_ids[0], result: [choice('Positive')], model_version: 'old' }, { task: task_ids[1], result: [choice('Negative')], model_version: 'new' }] });
      expect(ok.status).toBe(201);
      expect(ok.body).toEqual({ created: 2 });
      expect((await call(s, 'POST', `/api/projects/${p.id}/import/predictions`, { token: annotator.token, body: [{ task: task_ids[0], result: [] }] })).status).toBe(403);
      const versions = await call(s, 'GET', `/api/projects/${p.id}/model-versions`, { token: manager.token });
      expect(Object.keys(versions.body)).toEqual(['new', 'old']);

      for (const t of task_ids.slice(0, 2)) await assignTask(s, manager.token, p.id, t, annotator.id);
      const bulk = await call(s, 'POST', '/api/annotations/bulk/', { token: annotator.token, body: { project: p.id, selected_items: { all: false, included: task_ids.slice(0, 2) }, result: [choice('Positive')] } });
      expect(bulk.status).toBe(201);
      expect(bulk.body).toHaveLength(2);
      expect((await call(s, 'GET', `/api/tasks/${task_ids[0]}`, { token: manager.token })).body.is_labeled).toBe(true);
      expect((await call(s, 'POST', '/api/annotations/bulk/', { token: annotator.token, body: { project: p.id, tasks: foreignIds, result: [choice('Positive')] } })).status).toBe(400);
      expect((await call(s, 'POST', '/api/annotations/bulk/', { token: other.owner.token, body: { project: p.id, tasks: task_ids, result: [choice('Positive')] } })).status).toBe(404);
    });
  });

  describe('label stream', () => {
    it('hands out tasks in order, skips what the caller did, and ends with 404', async () => {
      const p = await newProject(SENTIMENT);
      await call(s, 'POST', `/api/projects/${p.id}/import`, { token: manager.token, body: [{ text: 'a' }, { text: 'b' }] });
      const first = await call(s, 'GET', `/api/projects/${p.id}/next`, { token: annotator.token });
      expect(first.body.inner_id).toBe(1);
      expect((await call(s, 'GET', `/api/projects/${p.id}/next`, { token: annotator.token })).body.id).toBe(first.body.id); // still reserved for them
      await call(s, 'POST', `/api/tasks/${first.body.id}/annotations`, { token: annotator.token, body: { was_cancelled: true } });
      const second = await call(s, 'GET', `/api/projects/${p.id}/next`, { token: annotator.token });
      expect(second.body.inner_id).toBe(2);
      await call(s, 'POST', `/api/tasks/${second.body.id}/annotations`, { token: annotator.token, body: { result: [choice('Negative')] } });
      expect((await call(s, 'GET', `/api/projects/${p.id}/next`, { token: annotator.token })).status).toBe(404);
    });

    it('never gives 50 simultaneous annotators the same task when one annotation is needed', async () => {
      const p = await newProject(SENTIMENT);
      await call(s, 'POST', `/api/projects/${p.id}/import`, { token: manager.token, body: Array.from({ length: 60 }, (_, i) => ({ text: `t${i}` })) });
      const team = await Promise.all(Array.from({ length: 50 }, () => makeMember(s.deps, manager.organizationId, 'AN')));
      await addToProject(s.deps, p.id, ...team);
      const got = await Promise.all(team.map((m) => call(s, 'GET', `/api/projects/${p.id}/next`, { token: m.token })));
      expect(got.every((r) => r.status === 200)).toBe(true);
      const ids = got.map((r) => r.body.id);
      expect(new Set(ids).size).toBe(50);
    });
  });
  describe('export', () => {
    const NER = `<View><Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels><Text name="text" value="$text"/></View>`;
    const span = { id: 's1', from_name: 'label', to_name: 'text', type: 'labels', value: { start: 0, end: 5, text: 'Alice', labels: ['PER'] } };

    const exportOf = async (id: number, type: string, extra = '') => {
      const res = await fetch(`${s.url}/api/projects/${id}/export?exportType=${type}${extra}`, { headers: { authorization: `Token ${manager.token}` } });
      return { status: res.status, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), text: await res.text() };
    };

    it('exports image boxes, NER spans and choices in Label Studio shapes (JSON, JSON_MIN, CSV)', async () => {
      const cases = [
        { config: IMAGE_BOXES, data: { image: 'https://example.test/1.jpg' }, result: [box('Cat')], control: 'label' },
        { config: NER, data: { text: 'Alice works at ACME' }, result: [span], control: 'label' },
        { config: SENTIMENT, data: { text: 'great' }, result: [choice('Positive')], control: 'sentiment' },
      ];
      for (const c of cases) {
        const p = await newProject(c.config);
        await call(s, 'POST', `/api/projects/${p.id}/import`, { token: manager.token, body: [{ data: c.data, annotations: [{ result: c.result }], predictions: [{ result: c.result, score: 0.7, model_version: 'v1' }] }, { data: c.data }] });
        const json = await exportOf(p.id, 'JSON');
        expect(json.status).toBe(200);
        expect(json.disposition).toMatch(/attachment; filename="project-\d+-at-.*\.json"/);
        const tasks = JSON.parse(json.text);
        expect(tasks).toHaveLength(1); // only annotated tasks unless download_all_tasks
        expect(tasks[0]).toMatchObject({ data: c.data, total_annotations: 1, total_predictions: 1 });
        expect(tasks[0].annotations[0]).toMatchObject({ result: c.result, was_cancelled: false, completed_by: manager.id });
        expect(tasks[0].predictions[0]).toMatchObject({ result: c.result, score: 0.7, model_version: 'v1' });
        expect(JSON.parse((await exportOf(p.id, 'JSON', '&download_all_tasks=true')).text)).toHaveLength(2);

        const min = JSON.parse((await exportOf(p.id, 'JSON_MIN')).text);
        expect(min[0]).toMatchObject({ ...c.data, id: tasks[0].id, annotator: manager.id, annotation_id: tasks[0].annotations[0].id });
        expect(min[0]).toHaveProperty(c.control);

        const csv = await exportOf(p.id, 'CSV');
        expect(csv.type).toMatch(/text\/csv/);
        const header = csv.text.split(/\r?\n/)[0]!;
        for (const col of ['annotation_id', 'annotator', 'id', c.control, ...Object.keys(c.data)]) expect(header.split(',').map((h) => h.replace(/"/g, ''))).toContain(col);
      }
      const sentimentProject = await newProject(SENTIMENT);
      await call(s, 'POST', `/api/projects/${sentimentProject.id}/import`, { token: manager.token, body: [{ data: { text: 'ok' }, annotations: [{ result: [choice('Negative')] }] }] });
      const min = JSON.parse((await exportOf(sentimentProject.id, 'JSON_MIN')).text);
      expect(min[0].sentiment).toBe('Negative'); // a single choice is a plain string
    });

    it('lists formats, refuses unknown ones, and keeps exports from annotators and other organizations', async () => {
      const p = await newProject(SENTIMENT);
      const formats = await call(s, 'GET', `/api/projects/${p.id}/export/formats`, { token: manager.token });
      expect(formats.body.map((f: { name: string }) => f.name)).toEqual(expect.arrayContaining(['JSON', 'JSON_MIN', 'CSV', 'TSV']));
      expect((await exportOf(p.id, 'XML')).status).toBe(400);
      expect((await call(s, 'GET', `/api/projects/${p.id}/export`, { token: annotator.token })).status).toBe(403);
      expect((await call(s, 'GET', `/api/projects/${p.id}/export`, { token: other.owner.token })).status).toBe(404);
      expect((await call(s, 'GET', `/api/projects/${p.id}/export?export_type=JSON&download_all_tasks=true`, { token: manager.token })).status).toBe(200);
    });
  });

  describe('uploads', () => {
    it('imports media files as tasks and serves them only to the organization, never as active content', async () => {
      const p = await newProject();
      const form = new FormData();
      form.append('file', new Blob([Buffer.from('89504e470d0a1a0a', 'hex')], { type: 'image/png' }), 'cat.png');
      form.append('file2', new Blob(['<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'], { type: 'image/svg+xml' }), 'evil.svg');
      const res = await fetch(`${s.url}/api/projects/${p.id}/import?return_task_ids=true`, { method: 'POST', headers: { authorization: `Token ${manager.token}` }, body: form });
      expect(res.status).toBe(201);
      const summary = (await res.json()) as { task_count: number; file_upload_ids: number[]; task_ids: number[] };
      expect(summary.task_count).toBe(2);
      expect(summary.file_upload_ids).toHaveLength(2);
      const listed = await call(s, 'GET', `/api/projects/${p.id}/file-uploads`, { token: manager.token });
      expect(listed.body.map((f: { id: number }) => f.id).sort()).toEqual([...summary.file_upload_ids].sort());
      const task = await call(s, 'GET', `/api/tasks/${summary.task_ids[1]}`, { token: manager.token });
      const url = task.body.data.image as string;
      expect(url).toMatch(/^\/data\/upload\/\d+\/[0-9a-f]{12}-evil\.svg$/);
      await assignTask(s, manager.token, p.id, summary.task_ids[1]!, annotator.id); // annotators fetch the files of their tasks
      const svg = await fetch(`${s.url}${url}`, { headers: { authorization: `Token ${annotator.token}` } });
      expect(svg.status).toBe(200);
      expect(svg.headers.get('x-content-type-options')).toBe('nosniff');
      expect(svg.headers.get('content-security-policy')).toMatch(/sandbox/);
      expect(svg.headers.get('content-disposition')).toMatch(/attachment/);
      expect((await fetch(`${s.url}${url}`, { headers: { authorization: `Token ${other.owner.token}` } })).status).toBe(404);
      expect((await fetch(`${s.url}${url}`)).status).toBe(401);
    });

    it('imports CSV files and refuses unsupported ones', async () => {
      const p = await newProject(SENTIMENT);
      const form = new FormData();
      form.append('file', new Blob(['text,source\n"hello, world",a\nbye,b\n'], { type: 'text/csv' }), 'tasks.csv');
      const res = await fetch(`${s.url}/api/projects/${p.id}/import`, { method: 'POST', headers: { authorization: `Token ${manager.token}` }, body: form });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ task_count: 2, data_columns: ['source', 'text'] });
      const bad = new FormData();
      bad.append('file', new Blob(['MZ'], { type: 'application/octet-stream' }), 'tool.exe');
      const refused = await fetch(`${s.url}/api/projects/${p.id}/import`, { method: 'POST', headers: { authorization: `Token ${manager.token}` }, body: bad });
      expect(refused.status).toBe(400);
      expect(JSON.stringify(await refused.json())).toMatch(/tool\.exe/);
    });
  });
});
