/**
 * The labeling core under load and at its edges, on SQLite and PostgreSQL: concurrent writers on
 * one task, all-or-nothing imports that leave no files behind, locks that do not block labeling,
 * streamed URL imports, config changes that would orphan results, and large task lists.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/http/actor.js';
import { importTasks, type ImportTask } from '../../src/modules/imports/import.service.js';
import { findProject } from '../../src/modules/projects/projects.repository.js';
import { outboundRequest, outboundStream } from '../../src/outbound/outbound.js';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { addToProject, assignTask, makeMember, makeTeam, type Member } from '../factories.js';

const SENTIMENT = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`;
const TWO_TEXTS = (toName: string, tag = 'Labels') =>
  `<View><Text name="text" value="$text"/><Text name="title" value="$title"/><${tag} name="label" toName="${toName}"><Label value="Cat"/><Label value="Dog"/></${tag}></View>`;
const choice = (c: string) => ({ id: 'c1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: [c] } });
const span = (label: string, to_name = 'text', type = 'labels') => ({ id: 's1', from_name: 'label', to_name, type, value: { start: 0, end: 1, labels: [label] } });
const MAX_FILE_BYTES = 1024 * 1024;

/** Names in a folder; none when it does not exist. */
const filesIn = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);

/** A local HTTP server answering with `handler`; its base URL and a closer. */
async function localServer(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe.each(DIALECTS)('labeling robustness on %s', (dialect) => {
  let s: TestServer;
  let manager: Member;
  let workspaceId: number;
  let annotator: Member;
  let organizationId: number;
  beforeAll(async () => {
    s = await startServer(dialect, { IMPORT_MAX_FILE_BYTES: String(MAX_FILE_BYTES) });
    ({ manager, annotator, organizationId, workspaceId } = await makeTeam(s.deps));
  });
  afterAll(async () => s?.close());

  const newProject = async (label_config = SENTIMENT, extra: Record<string, unknown> = {}) => {
    const r = await call(s, 'POST', '/api/projects/', { token: manager.token, body: { workspace: workspaceId, title: 'R', label_config, ...extra } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body as { id: number };
  };
  const importIds = async (projectId: number, tasks: unknown[]): Promise<number[]> => {
    const r = await call(s, 'POST', `/api/projects/${projectId}/import?return_task_ids=true`, { token: manager.token, body: tasks });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.task_ids;
  };
  const upload = (projectId: number, form: FormData, route = 'import') => fetch(`${s.url}/api/projects/${projectId}/${route}`, { method: 'POST', headers: { authorization: `Token ${manager.token}` }, body: form });
  const task = async (id: number) => (await call(s, 'GET', `/api/tasks/${id}`, { token: manager.token })).body;
  const project = async (id: number) => (await call(s, 'GET', `/api/projects/${id}`, { token: manager.token })).body;

  describe('task counters', () => {
    it('counts 30 concurrent annotations of one task exactly and marks it labeled', async () => {
      const p = await newProject(SENTIMENT, { maximum_annotations: 30 });
      const [t] = await importIds(p.id, [{ text: 'a' }]);
      const team = await Promise.all(Array.from({ length: 30 }, () => makeMember(s.deps, organizationId, 'AN')));
      await addToProject(s.deps, p.id, ...team);
      await assignTask(s, manager.token, p.id, t!, team.map((m) => m.id));
      const made = await Promise.all(team.map((m) => call(s, 'POST', `/api/tasks/${t}/annotations`, { token: m.token, body: { result: [choice('Positive')] } })));
      expect(made.map((r) => r.status)).toEqual(team.map(() => 201));
      expect(await task(t!)).toMatchObject({ total_annotations: 30, is_labeled: true });
    });

    it('recomputes is_labeled of every task when maximum_annotations changes', async () => {
      const p = await newProject(SENTIMENT, { maximum_annotations: 2 });
      const [t] = await importIds(p.id, [{ data: { text: 'a' }, annotations: [{ result: [choice('Positive')] }] }, { text: 'b' }]);
      expect(await task(t!)).toMatchObject({ total_annotations: 1, is_labeled: false });
      expect((await call(s, 'PATCH', `/api/projects/${p.id}`, { token: manager.token, body: { maximum_annotations: 1 } })).status).toBe(200);
      expect((await task(t!)).is_labeled).toBe(true);
      expect((await project(p.id)).finished_task_number).toBe(1);
      expect((await call(s, 'PATCH', `/api/projects/${p.id}`, { token: annotator.token, body: { maximum_annotations: 3 } })).status).toBe(403);
      expect((await call(s, 'PATCH', `/api/projects/${p.id}`, { token: manager.token, body: { maximum_annotations: 3 } })).status).toBe(200);
      expect((await task(t!)).is_labeled).toBe(false);
    });

    it('leaves skipped annotations out of total_annotations_number, as Label Studio does', async () => {
      const p = await newProject();
      const [a, b] = await importIds(p.id, [{ text: 'a' }, { text: 'b' }]);
      for (const t of [a!, b!]) await assignTask(s, manager.token, p.id, t, annotator.id);
      expect((await call(s, 'POST', `/api/tasks/${a}/annotations`, { token: annotator.token, body: { result: [choice('Positive')] } })).status).toBe(201);
      expect((await call(s, 'POST', `/api/tasks/${b}/annotations`, { token: annotator.token, body: { was_cancelled: true } })).status).toBe(201);
      await call(s, 'POST', `/api/tasks/${b}/annotations`, { token: manager.token, body: { result: [choice('Negative')], ground_truth: true } });
      expect(await project(p.id)).toMatchObject({ total_annotations_number: 2, skipped_annotations_number: 1, ground_truth_number: 1, useful_annotation_number: 1 });
    });
  });

  describe('annotation parents', () => {
    it('requires parent_prediction and parent_annotation to be of the same task', async () => {
      const p = await newProject();
      const [a, b] = await importIds(p.id, [
        { data: { text: 'a' }, predictions: [{ result: [choice('Positive')] }], annotations: [{ result: [choice('Positive')] }] },
        { data: { text: 'b' }, predictions: [{ result: [choice('Negative')] }], annotations: [{ result: [choice('Negative')] }] },
      ]);
      for (const t of [a!, b!]) await assignTask(s, manager.token, p.id, t, annotator.id);
      const ofA = await call(s, 'GET', `/api/tasks/${a}`, { token: manager.token });
      const parents = { parent_prediction: ofA.body.predictions[0].id, parent_annotation: ofA.body.annotations[0].id };
      for (const [field, id] of Object.entries(parents)) {
        const refused = await call(s, 'POST', `/api/tasks/${b}/annotations`, { token: annotator.token, body: { result: [choice('Negative')], [field]: id } });
        expect(refused.status, field).toBe(400);
        expect(refused.body.validation_errors, field).toHaveProperty(field);
      }
      const missing = await call(s, 'POST', `/api/tasks/${a}/annotations`, { token: annotator.token, body: { result: [], was_cancelled: true, parent_annotation: 99_999_999 } });
      expect(missing.status).toBe(400);
      const ok = await call(s, 'POST', `/api/tasks/${a}/annotations`, { token: annotator.token, body: { result: [choice('Positive')], ...parents } });
      expect(ok.status, JSON.stringify(ok.body)).toBe(201);
      expect(ok.body).toMatchObject(parents);
    });
  });

  describe('imports', () => {
    it('refuses POST /tasks with other than one task before anything is stored', async () => {
      const p = await newProject();
      const two = await call(s, 'POST', `/api/projects/${p.id}/tasks`, { token: manager.token, body: [{ text: 'a' }, { text: 'b' }] });
      expect(two.status).toBe(400);
      expect(JSON.stringify(two.body.validation_errors)).toMatch(/exactly one/);
      expect((await call(s, 'POST', `/api/projects/${p.id}/tasks`, { token: manager.token, body: [] })).status).toBe(400);
      expect((await project(p.id)).task_number).toBe(0);
      const one = await call(s, 'POST', `/api/projects/${p.id}/tasks`, { token: manager.token, body: { text: 'a' } });
      expect(one.status).toBe(201);
      expect((await project(p.id)).task_number).toBe(1);
    });

    it('keeps no uploaded file when another file of the same upload is refused', async () => {
      const p = await newProject(`<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="a"/></Choices></View>`);
      const form = new FormData();
      form.append('file', new Blob([Buffer.from('89504e470d0a1a0a', 'hex')], { type: 'image/png' }), 'cat.png');
      form.append('file2', new Blob(['MZ'], { type: 'application/octet-stream' }), 'tool.exe');
      form.append('file3', new Blob([Buffer.alloc(900_000)], { type: 'image/png' }), 'unread.png');
      const refused = await upload(p.id, form);
      expect(refused.status).toBe(400);
      expect(refused.headers.get('connection')).toBe('close'); // the unread rest would stall the next request
      expect(filesIn(path.join(s.dataDir, 'media', 'upload', String(p.id)))).toEqual([]);
      expect((await call(s, 'GET', `/api/projects/${p.id}/file-uploads`, { token: manager.token })).body).toEqual([]);
    });

    it('leaves no temporary file behind a body over the size limit', async () => {
      const p = await newProject();
      const big = Array.from({ length: 80_000 }, () => ({ text: 'xxxxxxxx' }));
      const r = await call(s, 'POST', `/api/projects/${p.id}/import`, { token: manager.token, body: big });
      expect(r.status).toBe(413);
      expect(r.headers.get('connection')).toBe('close');
      expect(filesIn(path.join(s.dataDir, 'tmp')).filter((f) => f.startsWith('import-'))).toEqual([]);
    });

    it('puts TXT lines under the config’s one data key', async () => {
      const p = await newProject(`<View><Text name="t" value="$sentence"/><Choices name="c" toName="t"><Choice value="a"/></Choices></View>`);
      const form = new FormData();
      form.append('file', new Blob(['first line\nsecond line\n'], { type: 'text/plain' }), 'lines.txt');
      const r = await upload(p.id, form);
      expect(r.status).toBe(201);
      const tasks = await call(s, 'GET', `/api/tasks?project=${p.id}`, { token: manager.token });
      expect(tasks.body.tasks.map((t: { data: unknown }) => t.data)).toEqual([{ sentence: 'first line' }, { sentence: 'second line' }]);
    });

    it.runIf(dialect === 'postgres')('does not block annotation writes in the project while an import runs', async () => {
      const p = await newProject();
      const [t] = await importIds(p.id, [{ text: 'a' }]);
      await assignTask(s, manager.token, p.id, t!, annotator.id);
      const actor: Actor = { userId: manager.id, email: manager.email, username: manager.email, isSuperuser: false, organizationId, role: 'MA', authMethod: 'token' };
      let release!: () => void;
      let started!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const inImport = new Promise<void>((r) => (started = r));
      async function* slowTasks(): AsyncGenerator<ImportTask> {
        yield { index: 0, data: { text: 'b' }, annotations: [], predictions: [], meta: {} };
        started();
        await gate;
      }
      const importing = importTasks(s.deps, actor, async () => undefined, (await findProject(s.deps.db, p.id))!, () => slowTasks());
      await inImport;
      const annotating = call(s, 'POST', `/api/tasks/${t}/annotations`, { token: annotator.token, body: { result: [choice('Positive')] } });
      const first = await Promise.race([annotating.then(() => 'annotated'), new Promise((r) => setTimeout(() => r('blocked'), 3000))]);
      release();
      expect((await importing).task_count).toBe(1);
      expect((await annotating).status).toBe(201);
      expect(first).toBe('annotated');
    });
  });

  describe('URL import and the outbound module', () => {
    let origin: { url: string; close: () => Promise<void> };
    let hold: (() => void) | undefined;
    beforeAll(async () => {
      origin = await localServer((req, res) => {
        if (req.url === '/tasks.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ text: 'from url' }, { text: 'two' }]));
        if (req.url === '/bad-redirect') return void res.writeHead(302, { location: 'http://[::1' }).end();
        if (req.url === '/redirect') return void res.writeHead(302, { location: '/tasks.json' }).end();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[');
        hold = () => res.end(`${'{"text":"x"},'.repeat(1000)}{"text":"end"}]`);
      });
    });
    afterAll(async () => origin?.close());

    it('imports tasks from a URL, following redirects', async () => {
      const p = await newProject();
      const form = new FormData();
      form.append('url', `${origin.url}/redirect`);
      const r = await upload(p.id, form);
      expect(r.status, await r.clone().text()).toBe(201);
      expect(await r.json()).toMatchObject({ task_count: 2 });
    });

    it('answers 400, not 500, to a malformed redirect location', async () => {
      const p = await newProject();
      const form = new FormData();
      form.append('url', `${origin.url}/bad-redirect`);
      const r = await upload(p.id, form);
      expect(r.status).toBe(400);
      expect(JSON.stringify(await r.json())).toMatch(/redirect/);
      await expect(outboundRequest(`${origin.url}/bad-redirect`, { config: s.deps.config })).rejects.toMatchObject({ status: 400 });
    });

    it('streams a body as it arrives, within the size limit', async () => {
      const res = await outboundStream(`${origin.url}/slow`, { config: s.deps.config }); // answers before the body is complete
      expect(res.status).toBe(200);
      hold!();
      let text = '';
      for await (const chunk of res.body) text += String(chunk);
      expect(JSON.parse(text)).toHaveLength(1001);
      const small = await outboundStream(`${origin.url}/slow`, { config: s.deps.config, maxBytes: 100 });
      hold!();
      await expect((async () => {
        for await (const _ of small.body) void _;
      })()).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/larger than 100 bytes/) });
    });
  });

  describe('config changes', () => {
    it('refuses moving a control in use off its object, or changing its type, naming it', async () => {
      const p = await newProject(TWO_TEXTS('text'));
      const [t] = await importIds(p.id, [{ text: 'a', title: 'b' }]);
      expect((await call(s, 'POST', `/api/tasks/${t}/annotations`, { token: manager.token, body: { result: [span('Cat')] } })).status).toBe(201);
      for (const config of [TWO_TEXTS('title'), TWO_TEXTS('text', 'HyperTextLabels')]) {
        const refused = await call(s, 'PATCH', `/api/projects/${p.id}`, { token: manager.token, body: { label_config: config } });
        expect(refused.status, config).toBe(400);
        expect(refused.body.validation_errors.label_config.join(' ')).toMatch(/control "label"/);
      }
      expect((await call(s, 'PATCH', `/api/projects/${p.id}`, { token: manager.token, body: { label_config: TWO_TEXTS('text,title') } })).status).toBe(200);
    });

    it('finds a label in use past the first batch of annotations', async () => {
      const p = await newProject(TWO_TEXTS('text'));
      const tasks = Array.from({ length: 2100 }, (_, i) => ({ data: { text: 'a', title: 'b' }, annotations: [{ result: [span(i === 2099 ? 'Dog' : 'Cat')] }] }));
      await importIds(p.id, tasks);
      const refused = await call(s, 'PATCH', `/api/projects/${p.id}`, { token: manager.token, body: { label_config: TWO_TEXTS('text').replace('<Label value="Dog"/>', '') } });
      expect(refused.status).toBe(400);
      expect(refused.body.validation_errors.label_config.join(' ')).toMatch(/Dog/);
    });
  });

  describe('instructions', () => {
    it('keeps links to http, https and mailto only, data: only for images, and drops style', async () => {
      const html = '<a href="data:text/html,<script>x</script>">a</a><a href="javascript:x()">b</a><a href="https://example.test/">c</a><a href="mailto:x@example.test">d</a>'
        + '<div style="position:fixed;inset:0" class="note">e</div><img src="data:image/png;base64,iVBORw0KGgo=">';
      const p = await newProject(SENTIMENT, { expert_instruction: html });
      const out = (await project(p.id)).expert_instruction as string;
      expect(out).not.toMatch(/data:text|javascript:|style=/);
      expect(out).toContain('<a href="https://example.test/">c</a>');
      expect(out).toContain('<a href="mailto:x@example.test">d</a>');
      expect(out).toContain('<div class="note">e</div>');
      expect(out).toContain('<img src="data:image/png;base64,iVBORw0KGgo=" />');
    });
  });

  describe('project deletion', () => {
    it('removes the project’s uploads and export snapshots from disk', async () => {
      const p = await newProject(`<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="a"/></Choices></View>`);
      const form = new FormData();
      form.append('file', new Blob([Buffer.from('89504e470d0a1a0a', 'hex')], { type: 'image/png' }), 'cat.png');
      expect((await upload(p.id, form)).status).toBe(201);
      const uploads = path.join(s.dataDir, 'media', 'upload', String(p.id));
      const exportsDir = path.join(s.dataDir, 'exports', String(p.id));
      fs.mkdirSync(exportsDir, { recursive: true });
      fs.writeFileSync(path.join(exportsDir, '1.json'), '[]');
      expect(filesIn(uploads)).toHaveLength(1);
      expect((await call(s, 'DELETE', `/api/projects/${p.id}`, { token: annotator.token })).status).toBe(403);
      expect(filesIn(uploads)).toHaveLength(1);
      expect((await call(s, 'DELETE', `/api/projects/${p.id}`, { token: manager.token })).status).toBe(204);
      expect(fs.existsSync(uploads)).toBe(false);
      expect(fs.existsSync(exportsDir)).toBe(false);
    });
  });

  describe('task lists and the label stream', () => {
    it('lists 33,000 tasks with fields=all (more ids than SQLite binds at once)', async () => {
      const p = await newProject();
      const n = 33_000;
      const r = await call(s, 'POST', `/api/projects/${p.id}/import`, { token: manager.token, body: Array.from({ length: n }, (_, i) => (i < n - 1 ? { text: `t${i}` } : { data: { text: 'last' }, annotations: [{ result: [choice('Negative')] }] })) });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const list = await call(s, 'GET', `/api/tasks?project=${p.id}&page_size=-1&fields=all`, { token: manager.token });
      expect(list.status, JSON.stringify(list.body).slice(0, 300)).toBe(200);
      expect(list.body.tasks).toHaveLength(n);
      expect(list.body.tasks[n - 1]).toMatchObject({ annotators: [manager.id], total_annotations: 1 });
      expect(list.body.tasks[0]).toMatchObject({ annotators: [], avg_lead_time: null });
    }, 60_000);

    it('hands out every remaining task once with uniform sampling, skipping labeled ones', async () => {
      const p = await newProject(SENTIMENT, { sampling: 'Uniform sampling' });
      const ids = await importIds(p.id, Array.from({ length: 12 }, (_, i) => ({ data: { text: `t${i}` }, ...(i % 4 === 0 && { annotations: [{ result: [choice('Positive')] }] }) })));
      const seen: number[] = [];
      for (;;) {
        const next = await call(s, 'GET', `/api/projects/${p.id}/next`, { token: annotator.token });
        if (next.status === 404) break;
        expect(next.status).toBe(200);
        seen.push(next.body.id);
        await call(s, 'POST', `/api/tasks/${next.body.id}/annotations`, { token: annotator.token, body: { was_cancelled: true } });
      }
      expect(seen.sort((a, b) => a - b)).toEqual(ids.filter((_, i) => i % 4 !== 0));
    });
  });
});
