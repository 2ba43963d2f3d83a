/**
 * Uploading without committing (`commit_to_project=false`), committing later by
 * `POST /api/projects/{id}/reimport`, and `preannotated_from_fields` — on SQLite and PostgreSQL,
 * refused cases beside allowed ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { makeTeam, type Member } from '../factories.js';

const TEXT = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`;
const IMAGE = `<View><Image name="image" value="$image"/><Choices name="kind" toName="image"><Choice value="Cat"/><Choice value="Dog"/></Choices></View>`;
const TWO_CONTROLS = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices><Rating name="stars" toName="text"/></View>`;
const PNG = Buffer.from('89504e470d0a1a0a', 'hex');

const choice = (c: string) => ({ from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: [c] } });

describe.each(DIALECTS)('upload, reimport and preannotations on %s', (dialect) => {
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

  const newProject = async (label_config: string, token = manager.token) => {
    const r = await call(s, 'POST', '/api/projects', { token, body: { ...(token === manager.token && { workspace: workspaceId }), title: 'P', label_config } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body as { id: number };
  };
  const upload = async (projectId: number, files: [string, string | Buffer, string][], query = '?commit_to_project=false', token = manager.token) => {
    const form = new FormData();
    files.forEach(([name, content, type], i) => form.append(`file${i}`, new Blob([content], { type }), name));
    const res = await fetch(`${s.url}/api/projects/${projectId}/import${query}`, { method: 'POST', headers: { authorization: `Token ${token}` }, body: form });
    return { status: res.status, body: (await res.json()) as any };
  };
  const tasksOf = async (projectId: number) => (await call(s, 'GET', `/api/tasks?project=${projectId}&page_size=100`, { token: manager.token })).body as { total: number; tasks: any[] };
  const reimport = (projectId: number, body: unknown, token = manager.token) => call(s, 'POST', `/api/projects/${projectId}/reimport`, { token, body });

  describe('commit_to_project=false, then reimport', () => {
    it('keeps the uploads without creating tasks, reporting what they hold', async () => {
      const p = await newProject(TEXT);
      const r = await upload(p.id, [['rows.csv', 'text,extra\nfirst,1\nsecond,2\n', 'text/csv'], ['more.json', JSON.stringify([{ text: 'third' }]), 'application/json']]);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body).toMatchObject({ task_count: 3, annotation_count: 0, prediction_count: 0, could_be_tasks_list: true, data_columns: ['extra', 'text'] });
      expect(r.body.file_upload_ids).toHaveLength(2);
      expect((await tasksOf(p.id)).total).toBe(0);
      const listed = await call(s, 'GET', `/api/projects/${p.id}/file-uploads`, { token: manager.token });
      expect(listed.body.map((u: { id: number }) => u.id)).toEqual(r.body.file_upload_ids);
    });

    it('refuses a malformed file without keeping anything', async () => {
      const p = await newProject(TEXT);
      const r = await upload(p.id, [['ok.csv', 'text\na\n', 'text/csv'], ['bad.json', '[{"text": ', 'application/json']]);
      expect(r.status).toBe(400);
      expect((await call(s, 'GET', `/api/projects/${p.id}/file-uploads`, { token: manager.token })).body).toEqual([]);
    });

    it('imports kept uploads, media files as one task each, and replaces them when reimported again', async () => {
      const p = await newProject(IMAGE);
      const r = await upload(p.id, [['cat.png', PNG, 'image/png'], ['list.json', JSON.stringify([{ image: 'https://example.com/a.jpg' }, { image: 'https://example.com/b.jpg' }]), 'application/json']]);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const first = await reimport(p.id, { file_upload_ids: r.body.file_upload_ids });
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      expect(first.body).toMatchObject({ task_count: 3, annotation_count: 0, prediction_count: 0, file_upload_ids: r.body.file_upload_ids, data_columns: ['image'] });
      const tasks = await tasksOf(p.id);
      expect(tasks.total).toBe(3);
      const media = tasks.tasks.find((t) => String(t.data.image).startsWith('/data/upload/'));
      expect(media.file_upload).toBe(r.body.file_upload_ids[0]);
      expect((await fetch(`${s.url}${media.data.image}`, { headers: { authorization: `Token ${manager.token}` } })).status).toBe(200);
      // Label Studio's reimport first removes the tasks made from those uploads: no duplicates.
      const again = await reimport(p.id, { file_upload_ids: r.body.file_upload_ids });
      expect(again.status).toBe(201);
      expect((await tasksOf(p.id)).total).toBe(3);
    });

    it('reads CSV files as one task each with files_as_tasks_list=false', async () => {
      const p = await newProject(TEXT);
      const r = await upload(p.id, [['rows.csv', 'text\na\nb\n', 'text/csv']]);
      const one = await reimport(p.id, { file_upload_ids: r.body.file_upload_ids, files_as_tasks_list: false });
      expect(one.status, JSON.stringify(one.body)).toBe(201);
      expect(one.body.task_count).toBe(1);
      expect((await tasksOf(p.id)).tasks[0].data.text).toMatch(/^\/data\/upload\/\d+\/.*rows\.csv$/);
      const rows = await reimport(p.id, { file_upload_ids: r.body.file_upload_ids });
      expect(rows.body.task_count).toBe(2);
      expect((await tasksOf(p.id)).total).toBe(2);
    });

    it('reimports all or nothing: a bad file rolls back, earlier tasks stay', async () => {
      const p = await newProject(TEXT);
      const good = await upload(p.id, [['good.csv', 'text\na\n', 'text/csv']]);
      expect((await reimport(p.id, { file_upload_ids: good.body.file_upload_ids })).status).toBe(201);
      const bad = await upload(p.id, [['bad.csv', 'words\nb\n', 'text/csv']]);
      const r = await reimport(p.id, { file_upload_ids: [...good.body.file_upload_ids, ...bad.body.file_upload_ids] });
      expect(r.status).toBe(400);
      expect(r.body.validation_errors.tasks[0]).toMatch(/task 2: .*text/);
      const tasks = await tasksOf(p.id);
      expect(tasks.total).toBe(1);
      expect(tasks.tasks[0].data.text).toBe('a');
    });

    it('refuses uploads of another project or organization, naming file_upload_ids', async () => {
      const p = await newProject(TEXT);
      const sibling = await newProject(TEXT);
      const theirs = await newProject(TEXT, other.owner.token);
      const mine = await upload(sibling.id, [['a.csv', 'text\na\n', 'text/csv']]);
      const foreign = await upload(theirs.id, [['a.csv', 'text\na\n', 'text/csv']], '?commit_to_project=false', other.owner.token);
      expect(foreign.status).toBe(201);
      for (const ids of [mine.body.file_upload_ids, foreign.body.file_upload_ids, [2_000_000_000]]) {
        const r = await reimport(p.id, { file_upload_ids: ids });
        expect(r.status).toBe(400);
        expect(r.body.validation_errors).toHaveProperty('file_upload_ids');
      }
      expect((await tasksOf(p.id)).total).toBe(0);
      expect((await tasksOf(sibling.id)).total).toBe(0);
    });

    it('climbs the ladder: 401, 400 naming the field, 404, 403, 204 for no ids, 201', async () => {
      const p = await newProject(TEXT);
      const kept = await upload(p.id, [['a.csv', 'text\na\n', 'text/csv']]);
      expect((await call(s, 'POST', `/api/projects/${p.id}/reimport`, { body: { file_upload_ids: kept.body.file_upload_ids } })).status).toBe(401);
      const bad = await reimport(p.id, { file_upload_ids: ['x'] });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body.validation_errors)).toMatch(/file_upload_ids/);
      expect((await reimport(p.id, { file_upload_ids: kept.body.file_upload_ids, extra: 1 })).status).toBe(400);
      expect((await reimport(p.id, { file_upload_ids: kept.body.file_upload_ids }, other.owner.token)).status).toBe(404);
      expect((await reimport(p.id, { file_upload_ids: kept.body.file_upload_ids }, annotator.token)).status).toBe(403);
      expect((await upload(p.id, [['a.csv', 'text\na\n', 'text/csv']], '?commit_to_project=false', annotator.token)).status).toBe(403);
      expect((await reimport(p.id, { file_upload_ids: [] })).status).toBe(204);
      expect((await reimport(p.id, { file_upload_ids: kept.body.file_upload_ids })).status).toBe(201);
      expect((await tasksOf(p.id)).total).toBe(1);
    });
  });

  describe('preannotated_from_fields', () => {
    const predictionsOf = async (taskId: number) => (await call(s, 'GET', `/api/predictions?task=${taskId}`, { token: manager.token })).body as any[];

    it('turns a plain value into a result for the config’s only control, keeping the field in data', async () => {
      const p = await newProject(TEXT);
      const r = await call(s, 'POST', `/api/projects/${p.id}/import?preannotated_from_fields=label&return_task_ids=true`, { token: manager.token, body: [{ text: 'good', label: 'Positive' }, { text: 'none', label: null }] });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body).toMatchObject({ task_count: 2, prediction_count: 1 });
      const [first, second] = r.body.task_ids as number[];
      const detail = await call(s, 'GET', `/api/tasks/${first}`, { token: manager.token });
      expect(detail.body.data).toEqual({ text: 'good', label: 'Positive' });
      const preds = await predictionsOf(first!);
      expect(preds).toHaveLength(1);
      expect(preds[0]).toMatchObject({ model_version: 'preannotated', score: 1, result: [choice('Positive')] });
      expect(await predictionsOf(second!)).toEqual([]);
    });

    it('takes a list as a ready result list, and a field named like a control among several', async () => {
      const p = await newProject(TWO_CONTROLS);
      const r = await call(s, 'POST', `/api/projects/${p.id}/import?preannotated_from_fields=pred,stars&return_task_ids=true`, { token: manager.token, body: [{ text: 't', pred: [choice('Negative')], stars: 4 }] });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.prediction_count).toBe(2);
      const results = (await predictionsOf(r.body.task_ids[0])).map((x) => x.result[0]);
      expect(results).toEqual(expect.arrayContaining([expect.objectContaining(choice('Negative')), expect.objectContaining({ from_name: 'stars', to_name: 'text', type: 'rating', value: { rating: 4 } })]));
    });

    it('refuses, importing nothing: a missing field, an ambiguous control, an invalid result', async () => {
      const text = await newProject(TEXT);
      const missing = await call(s, 'POST', `/api/projects/${text.id}/import?preannotated_from_fields=label`, { token: manager.token, body: [{ text: 'a', label: 'Positive' }, { text: 'b' }] });
      expect(missing.status).toBe(400);
      expect(missing.body.validation_errors.preannotated_from_fields[0]).toMatch(/label: task 2/);
      const invalidChoice = await call(s, 'POST', `/api/projects/${text.id}/import?preannotated_from_fields=label`, { token: manager.token, body: [{ text: 'a', label: 'Maybe' }] });
      expect(invalidChoice.status).toBe(400);
      expect(invalidChoice.body.validation_errors.tasks[0]).toMatch(/task 1: predictions\[0\]\.result\[0\].*Maybe/);
      expect((await tasksOf(text.id)).total).toBe(0);

      const two = await newProject(TWO_CONTROLS);
      const ambiguous = await call(s, 'POST', `/api/projects/${two.id}/import?preannotated_from_fields=label`, { token: manager.token, body: [{ text: 'a', label: 'Positive' }] });
      expect(ambiguous.status).toBe(400);
      expect(ambiguous.body.validation_errors.preannotated_from_fields[0]).toMatch(/label: .*2 controls/);
      expect((await tasksOf(two.id)).total).toBe(0);
      expect((await call(s, 'POST', `/api/projects/${text.id}/import?preannotated_from_fields=label`, { token: annotator.token, body: [{ text: 'a', label: 'Positive' }] })).status).toBe(403);
    });

    it('applies to uploaded files too', async () => {
      const p = await newProject(TEXT);
      const r = await upload(p.id, [['rows.csv', 'text,label\na,Positive\nb,Negative\n', 'text/csv']], '?preannotated_from_fields=label');
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body).toMatchObject({ task_count: 2, prediction_count: 2 });
    });
  });
});
