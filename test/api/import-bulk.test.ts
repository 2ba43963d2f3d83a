/**
 * The bulk import path (several batches: rows bound to prepared statements on SQLite, one
 * statement per batch with the next batch read meanwhile on PostgreSQL): the stored rows and
 * counters, all or nothing when a late task fails, and — on SQLite — reads that do not wait for
 * an import's transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { makeTeam, type Member } from '../factories.js';

const TEXT = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`;
const choice = (c: string) => ({ from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: [c] } });

/** Task i of a generated import: every 7th with a kept and a skipped annotation, every 5th with a prediction. */
function task(i: number) {
  return {
    data: { text: `t${i}`, n: i },
    ...(i % 7 === 0 && { annotations: [{ result: [choice('Positive')], lead_time: 1.5, id: i }, { result: [], was_cancelled: true }] }),
    ...(i % 5 === 0 && { predictions: [{ result: [choice('Negative')], score: 0.7, model_version: 'm1' }] }),
  };
}

describe.each(DIALECTS)('bulk import on %s', (dialect) => {
  let s: TestServer;
  let manager: Member;
  let workspaceId: number;
  beforeAll(async () => {
    s = await startServer(dialect);
    ({ manager, workspaceId } = await makeTeam(s.deps));
  });
  afterAll(async () => s?.close());

  const newProject = async () => {
    const r = await call(s, 'POST', '/api/projects', { token: manager.token, body: { workspace: workspaceId, title: 'Bulk', label_config: TEXT } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id as number;
  };

  it('stores 1,234 tasks over several batches with their annotations, predictions and counters', async () => {
    const projectId = await newProject();
    const tasks = Array.from({ length: 1234 }, (_, i) => task(i + 1));
    const r = await call(s, 'POST', `/api/projects/${projectId}/import?return_task_ids=true`, { token: manager.token, body: tasks });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const sevenths = Math.floor(1234 / 7);
    const fifths = Math.floor(1234 / 5);
    expect(r.body).toMatchObject({ task_count: 1234, annotation_count: 2 * sevenths, prediction_count: fifths, data_columns: ['n', 'text'] });
    const ids = r.body.task_ids as number[];
    expect(ids).toHaveLength(1234);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const rows = await s.deps.db
      .selectFrom('tasks')
      .select(['id', 'inner_id', 'data', 'total_annotations', 'cancelled_annotations', 'total_predictions', 'is_labeled'])
      .where('project_id', '=', projectId)
      .orderBy('inner_id')
      .execute();
    expect(rows.map((t) => Number(t.id))).toEqual(ids);
    rows.forEach((t, k) => {
      const i = k + 1;
      expect(Number(t.inner_id)).toBe(i);
      expect(typeof t.data === 'string' ? JSON.parse(t.data) : t.data).toEqual({ text: `t${i}`, n: i });
      expect([t.total_annotations, t.cancelled_annotations, t.total_predictions, t.is_labeled].map(Number)).toEqual([i % 7 === 0 ? 1 : 0, i % 7 === 0 ? 1 : 0, i % 5 === 0 ? 1 : 0, i % 7 === 0 ? 1 : 0]);
    });
    const annotations = await s.deps.db.selectFrom('annotations').select(['task_id', 'was_cancelled', 'lead_time', 'import_id', 'last_action']).where('project_id', '=', projectId).orderBy('id').execute();
    expect(annotations).toHaveLength(2 * sevenths);
    expect(annotations.slice(0, 2).map((a) => ({ ...a, task_id: Number(a.task_id), import_id: a.import_id === null ? null : Number(a.import_id) }))).toEqual([
      { task_id: ids[6], was_cancelled: 0, lead_time: 1.5, import_id: 7, last_action: 'imported' },
      { task_id: ids[6], was_cancelled: 1, lead_time: null, import_id: null, last_action: 'imported' },
    ]);
    const prediction = await s.deps.db.selectFrom('predictions').select(['task_id', 'score', 'model_version']).where('project_id', '=', projectId).orderBy('id').executeTakeFirstOrThrow();
    expect({ ...prediction, task_id: Number(prediction.task_id) }).toEqual({ task_id: ids[4], score: 0.7, model_version: 'm1' });
    // A second import continues the inner ids.
    const again = await call(s, 'POST', `/api/projects/${projectId}/import?return_task_ids=true`, { token: manager.token, body: [task(1)] });
    expect(again.status).toBe(201);
    const last = await s.deps.db.selectFrom('tasks').select('inner_id').where('id', '=', again.body.task_ids[0]).executeTakeFirstOrThrow();
    expect(Number(last.inner_id)).toBe(1235);
  });

  it('imports nothing when a task after several stored batches lacks a key, naming it', async () => {
    const projectId = await newProject();
    const tasks: unknown[] = Array.from({ length: 1700 }, (_, i) => task(i + 1));
    tasks[1600] = { data: { other: 1 } };
    const r = await call(s, 'POST', `/api/projects/${projectId}/import`, { token: manager.token, body: tasks });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('task 1601: data lacks \\"text\\"');
    for (const table of ['tasks', 'annotations', 'predictions'] as const) {
      const n = await s.deps.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', projectId).executeTakeFirstOrThrow();
      expect(Number(n.n), table).toBe(0);
    }
    const events = await s.deps.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'task.import').where('project_id', '=', projectId).executeTakeFirstOrThrow();
    expect(Number(events.n)).toBe(0);
  });

  it.runIf(dialect === 'sqlite')('answers reads while a transaction holds the writer, and writes wait for it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const trx = s.deps.db.transaction().execute(async (t) => {
      await sql`update users set last_activity = last_activity where id = ${manager.id}`.execute(t);
      entered();
      await held;
    });
    await inside;
    const health = await Promise.race([call(s, 'GET', '/health'), new Promise<null>((resolve) => setTimeout(() => resolve(null), 2000))]);
    expect(health?.status).toBe(200);
    let wrote = false;
    const write = sql`update users set last_activity = last_activity where id = ${manager.id}`.execute(s.deps.db).then(() => (wrote = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(wrote).toBe(false);
    release();
    await trx;
    await write;
    expect(wrote).toBe(true);
  });
});
