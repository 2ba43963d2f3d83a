/**
 * Prototypes of the changes bench/README.md proposes for the import path, measured by
 * import-phases.bench.ts beside the current code. Not used by the server.
 *
 * - insertTasksAsJson: the import's insert loop with each batch sent as ONE parameter (a JSON
 *   array of rows, unpacked by json_each / jsonb_array_elements) instead of a 500-row Kysely
 *   insert with 4,000 parameters: a constant SQL text (one prepared plan), no per-value nodes.
 * - splitJsonArray: cuts a top-level JSON array into its elements' bytes (tracking strings,
 *   escapes and depth only), so each task is parsed by the native JSON.parse instead of a
 *   JavaScript tokenizer. A task containing a forbidden key falls back to the guarded parser.
 *   Now done by src/modules/imports/json-task-reader.ts; kept as the phases' lower bound (no
 *   limits, no error offsets, tasks handed over in arrays).
 * - cachingSqlite: better-sqlite3 behind Kysely with prepared statements reused by SQL text
 *   (Kysely's SqliteDriver prepares every query it runs, 4,000 placeholders for a 500-row batch).
 */
import { randomUUID } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import { sql, type Transaction } from 'kysely';
import type { AppDeps } from '../src/app-deps.js';
import type { Database, ProjectRow } from '../src/db/schema.js';
import type { Actor } from '../src/http/actor.js';
import type { ImportTask } from '../src/modules/imports/import.service.js';
import { toRawTask } from '../src/modules/imports/task-shape.js';
import { resultProblem } from '../src/modules/label-config/result-validation.js';
import { configOf } from '../src/modules/projects/projects.service.js';
import { missingDataKey, refreshTaskCounters } from '../src/modules/tasks/tasks.service.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const isOpen = (b: number) => b === 0x5b || b === 0x7b;
const isClose = (b: number) => b === 0x5d || b === 0x7d;
const FORBIDDEN = ['"__proto__"', '"constructor"', '"prototype"'].map((k) => Buffer.from(k));

/**
 * Cuts a top-level JSON array into its elements' bytes as chunks arrive. Only strings, escapes
 * and nesting are tracked; anything malformed is left for JSON.parse to refuse. The scan is a
 * plain method with its state in locals (in an async generator every variable lives on the heap).
 */
export class JsonArraySplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private pending: Buffer[] = []; // the start of an element cut by a chunk boundary

  /** The elements completed by this chunk. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let { depth, inString, escaped } = this;
    let start = this.pending.length > 0 ? 0 : -1; // where the current element began in this chunk
    for (let i = 0; i < chunk.length; i += 1) {
      const b = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) inString = false;
        continue;
      }
      if (b === QUOTE) inString = true;
      if (depth === 1 && start === -1 && b > 0x20 && b !== COMMA && !isClose(b)) start = i; // an element begins
      if (isOpen(b)) depth += 1;
      else if (isClose(b)) depth -= 1;
      if (start !== -1 && ((depth === 1 && b === COMMA) || depth === 0)) {
        const piece = chunk.subarray(start, i);
        out.push(this.pending.length > 0 ? Buffer.concat([...this.pending, piece]) : piece);
        this.pending = [];
        start = -1;
      }
    }
    if (start !== -1) this.pending.push(Buffer.from(chunk.subarray(start)));
    Object.assign(this, { depth, inString, escaped });
    return out;
  }
}

/** The elements of a top-level JSON array, a chunk's worth at a time. */
export async function* splitJsonArray(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer[]> {
  const splitter = new JsonArraySplitter();
  for await (const chunk of source) {
    const elements = splitter.push(chunk);
    if (elements.length > 0) yield elements;
  }
}

/** True when the element's bytes contain a key the import refuses (then the guarded parser decides). */
export const mayHoldForbiddenKey = (bytes: Buffer): boolean => FORBIDDEN.some((k) => bytes.includes(k));

/** A Kysely SqliteDatabase over better-sqlite3 that reuses prepared statements by SQL text. */
export function cachingSqlite(db: SQLite.Database): { close(): void; prepare(sql: string): SQLite.Statement } {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => db.close(),
    prepare(sql: string) {
      const cached = cache.get(sql);
      if (cached && !cached.busy) return cached;
      const stmt = db.prepare(sql);
      if (cache.size >= 200) cache.delete(cache.keys().next().value!);
      cache.set(sql, stmt);
      return stmt;
    },
  };
}

const BATCH = 500;

/** The rows of a JSON-array parameter: SQLite's json_each or PostgreSQL's jsonb_array_elements. */
const rowsOf = (pg: boolean, json: string) => (pg ? sql`jsonb_array_elements(${json}::jsonb) as j(value)` : sql`json_each(${json}) as j`);
const field = (i: number) => sql.raw(`(j.value->>${i})`); // text of element i of the row array (both dialects)

async function insertJsonBatch(trx: Transaction<Database>, pg: boolean, project: ProjectRow, userId: number, batch: ImportTask[], nextInner: number): Promise<void> {
  const now = new Date().toISOString();
  const taskRows = JSON.stringify(batch.map((t, i) => [nextInner + i, JSON.stringify(t.data), JSON.stringify(t.meta), t.fileUploadId ?? null]));
  const cast = (i: number, type: string) => (pg ? sql`${field(i)}::${sql.raw(type)}` : field(i));
  const inserted = await sql<{ id: number; inner_id: number }>`insert into tasks (project_id, inner_id, data, meta, file_upload_id, created_at, updated_at, updated_by_id)
    select ${project.id}, ${cast(0, 'bigint')}, ${cast(1, 'jsonb')}, ${cast(2, 'jsonb')}, ${cast(3, 'integer')}, ${now}, ${now}, ${userId}
    from ${rowsOf(pg, taskRows)} returning id, inner_id`.execute(trx);
  const idOf = new Map(inserted.rows.map((r) => [Number(r.inner_id), Number(r.id)]));
  const annotationRows: unknown[][] = [];
  batch.forEach((t, i) => {
    for (const a of t.annotations as { result?: unknown }[]) annotationRows.push([idOf.get(nextInner + i), JSON.stringify(a.result ?? []), randomUUID()]);
  });
  if (annotationRows.length === 0) return;
  await sql`insert into annotations (task_id, project_id, completed_by_id, result, was_cancelled, ground_truth, lead_time, unique_id, import_id, last_action, updated_by_id, created_at, updated_at)
    select ${cast(0, 'bigint')}, ${project.id}, ${userId}, ${cast(1, 'jsonb')}, 0, 0, null, ${field(2)}, null, 'imported', ${userId}, ${now}, ${now}
    from ${rowsOf(pg, JSON.stringify(annotationRows))}`.execute(trx);
  await refreshTaskCounters(trx, annotationRows.map((r) => r[0] as number), 1);
}

/**
 * importTasks' loop (validation, batches of 500, counters) with insertJsonBatch; no audit event.
 * Takes tasks in arrays of any size (one await per array, not per task). With `overlap`, one
 * batch is in flight while the next is read and validated (PostgreSQL works in its own process).
 */
export async function insertTasksAsJson(deps: AppDeps, actor: Actor, project: ProjectRow, chunks: Iterable<ImportTask[]> | AsyncIterable<ImportTask[]>, opts: { overlap?: boolean } = {}): Promise<void> {
  const config = configOf(project);
  const pg = deps.dialect === 'postgres';
  await deps.db.transaction().execute(async (trx) => {
    let batch: ImportTask[] = [];
    let nextInner = 1;
    let inFlight: Promise<void> = Promise.resolve();
    const flush = async () => {
      await inFlight; // at most one batch in flight; its error surfaces here
      const insert = insertJsonBatch(trx, pg, project, actor.userId, batch, nextInner);
      nextInner += batch.length;
      batch = [];
      inFlight = insert;
      insert.catch(() => {}); // awaited at the next flush or at the end
      if (!opts.overlap) await insert;
    };
    for await (const chunk of chunks) {
      for (const t of chunk) {
        if (missingDataKey(config, t.data)) throw new Error(`task ${t.index}: data key missing`);
        for (const a of t.annotations as { result?: unknown }[]) if (resultProblem(config, a.result ?? [])) throw new Error(`task ${t.index}: bad result`);
        batch.push(t);
        if (batch.length >= BATCH) await flush();
      }
    }
    if (batch.length > 0) await flush();
    await inFlight;
  });
}

/** Tasks of a JSON list file through the splitter and JSON.parse, shaped like the current reader's. */
export async function* splitTasks(source: AsyncIterable<Buffer>): AsyncGenerator<ImportTask[]> {
  const ctx = { maxTasks: 100_000_000, maxTaskBytes: 4 * 1024 * 1024, errorKey: 'tasks' };
  let index = 0;
  for await (const elements of splitJsonArray(source)) {
    yield elements.map((bytes) => {
      if (mayHoldForbiddenKey(bytes)) throw new Error('the guarded parser would decide here');
      const at = `task ${index + 1}`;
      return { ...toRawTask(JSON.parse(bytes.toString('utf8')), index++, at, ctx), fileUploadId: null };
    });
  }
}
