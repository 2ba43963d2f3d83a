/**
 * Where the API import's time goes, measured in-process (no HTTP, no spooling), each insert phase
 * on a fresh database: the JSON and JSONL readers alone, importTasks fed from memory (validation,
 * Kysely, the database), importTasks fed by the reader (the API import minus HTTP), and the
 * baseline; plus the prototypes of bench/import-prototypes.ts. GC time is reported per phase.
 *
 *   npx tsx bench/import-phases.bench.ts [--tasks 100000] [--dialects sqlite,postgres] [--rounds 3] [--only LABEL-PART]...
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { createPgDatabase } from '../test/harness.js';
import type { AppDeps } from '../src/app-deps.js';
import { loadConfig } from '../src/config/config.js';
import type { Database, ProjectRow } from '../src/db/schema.js';
import { openDeps } from '../src/deps.js';
import type { Actor } from '../src/http/actor.js';
import { bootstrapInstance } from '../src/modules/auth/bootstrap.service.js';
import { importTasks, type ImportTask } from '../src/modules/imports/import.service.js';
import { readTasks } from '../src/modules/imports/task-readers.js';
import { createProject, getProjectRow } from '../src/modules/projects/projects.service.js';
import { insertBaselinePg, insertBaselineSqlite } from './baseline.js';
import { annotatedCount, benchTask, LABEL_CONFIG, writeTaskFile } from './bench-tasks.js';
import { cachingSqlite, insertTasksAsJson, mayHoldForbiddenKey, splitJsonArray, splitTasks } from './import-prototypes.js';

type Dialect = 'sqlite' | 'postgres';

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

const noAudit = async () => {};
const LIMITS = { maxTasks: 100_000_000, maxTaskBytes: 4 * 1024 * 1024 };

interface Phase {
  label: string;
  /** When set, the phase runs on a new database of this dialect (set up and dropped untimed). */
  fresh?: Dialect;
  run: (f: Fresh) => Promise<unknown> | unknown;
}

/** Runs the phases round-robin `rounds` times and prints each one's best time (the machine is shared). */
async function runPhases(title: string, n: number, rounds: number, phases: Phase[]): Promise<void> {
  const best = phases.map(() => ({ s: Infinity, gc: 0 }));
  for (let round = 0; round < rounds; round += 1) {
    for (const [i, p] of phases.entries()) {
      const f = p.fresh ? await freshDatabase(p.fresh) : undefined;
      const gcBefore = gcMs;
      const started = performance.now();
      let s: number;
      try {
        await p.run(f!);
        s = (performance.now() - started) / 1000;
        if (f) await expectStored(f, n, p.label);
      } finally {
        await f?.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 50)); // GC entries arrive asynchronously
      if (s < best[i]!.s) best[i] = { s, gc: gcMs - gcBefore };
    }
  }
  console.log(`\n${title} (best of ${rounds}):`);
  for (const [i, p] of phases.entries()) {
    const { s, gc } = best[i]!;
    console.log(`  ${p.label.padEnd(58)} ${s.toFixed(2).padStart(6)} s ${Math.round(n / s).toLocaleString('en-US').padStart(9)} tasks/s   GC ${Math.round(gc)} ms`);
  }
}

interface Fresh {
  deps: AppDeps;
  actor: Actor;
  project: ProjectRow;
  file?: string;
  url?: string;
  close: () => Promise<void>;
}

/** A new database (SQLite file or PostgreSQL database) with an Owner and an empty project. */
async function freshDatabase(dialect: Dialect): Promise<Fresh> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-phases-'));
  const pgDb = dialect === 'postgres' ? await createPgDatabase() : undefined;
  const env = {
    LABELVAULT_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    PASSWORD_HASH_COST: '14',
    LABEL_STUDIO_USERNAME: 'phases@example.test',
    LABEL_STUDIO_PASSWORD: 'phases benchmark correct horse battery',
    ...(pgDb && { DATABASE_URL: pgDb.url }),
  };
  const deps = await openDeps(loadConfig(env));
  await bootstrapInstance(deps);
  const user = await deps.db.selectFrom('users').selectAll().orderBy('id').executeTakeFirstOrThrow();
  const membership = await deps.db.selectFrom('memberships').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
  const actor: Actor = { userId: user.id, email: user.email, username: user.username, isSuperuser: true, organizationId: membership.organization_id, role: 'OW', authMethod: 'token' };
  const created = await createProject(deps, actor, noAudit, { title: 'phases', label_config: LABEL_CONFIG });
  const project = await getProjectRow(deps.db, actor, created.id!);
  return {
    deps,
    actor,
    project,
    ...(pgDb ? { url: pgDb.url } : { file: path.join(dataDir, 'labelvault.sqlite3') }),
    close: async () => {
      await deps.close();
      await pgDb?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Checks the phase stored what the import would: n tasks, a tenth annotated and counted as labeled. */
async function expectStored(f: Fresh, n: number, label: string): Promise<void> {
  const count = async (table: 'tasks' | 'annotations', labeledOnly = false) => {
    let q = f.deps.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', f.project.id);
    if (labeledOnly) q = q.where(sql.ref('is_labeled'), '=', 1).where(sql.ref('total_annotations'), '=', 1);
    return Number((await q.executeTakeFirstOrThrow()).n);
  };
  const got = [await count('tasks'), await count('annotations'), await count('tasks', true)];
  const want = [n, annotatedCount(n), annotatedCount(n)];
  if (got.join() !== want.join()) throw new Error(`${label}: stored tasks/annotations/labeled ${got.join('/')}, expected ${want.join('/')}`);
}

function memoryTasks(n: number): ImportTask[] {
  return Array.from({ length: n }, (_, i) => {
    const t = benchTask(i);
    return { index: i, data: t.data, annotations: t.annotations ?? [], predictions: [], meta: {}, fileUploadId: null };
  });
}

async function countReaderTasks(file: string, format: 'json' | 'jsonl' = 'json'): Promise<number> {
  let n = 0;
  for await (const _ of readTasks(fileStream(file), format, LIMITS)) n += 1;
  return n;
}

/** The benchmark's tasks as a JSONL file, one task per line (the JSONL reader's input). */
function writeTaskLines(file: string, n: number): number {
  fs.writeFileSync(file, '');
  for (let start = 0; start < n; start += 1000) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(n, start + 1000); i += 1) lines.push(`${JSON.stringify(benchTask(i))}\n`);
    fs.appendFileSync(file, lines.join(''));
  }
  return fs.statSync(file).size;
}

async function countSplitTasks(file: string): Promise<number> {
  let n = 0;
  for await (const elements of splitJsonArray(fileStream(file))) {
    for (const bytes of elements) {
      if (mayHoldForbiddenKey(bytes)) throw new Error('fallback to the guarded parser would run here');
      JSON.parse(bytes.toString('utf8'));
      n += 1;
    }
  }
  return n;
}

/** importTasks with Kysely over a better-sqlite3 connection that caches prepared statements. */
async function importWithCachedStatements(f: Fresh, tasks: ImportTask[]): Promise<void> {
  const sqlite = new SQLite(f.file!);
  for (const p of ['journal_mode = WAL', 'foreign_keys = ON', 'busy_timeout = 5000', 'synchronous = NORMAL']) sqlite.pragma(p);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingSqlite(sqlite) }) });
  try {
    await importTasks({ ...f.deps, db }, f.actor, noAudit, f.project, tasks);
  } finally {
    await db.destroy();
  }
}

function dialectPhases(dialect: Dialect, n: number, file: string, tasks: () => ImportTask[]): Phase[] {
  const fresh = (label: string, fn: (f: Fresh) => Promise<unknown> | unknown): Phase => ({ label, fresh: dialect, run: fn });
  const target = (f: Fresh) => ({ projectId: f.project.id, userId: f.actor.userId, tasks: n });
  return [
    fresh('baseline (prepared statements, one transaction)', (f) => (f.file ? insertBaselineSqlite(f.file, target(f)) : insertBaselinePg(f.url!, target(f)))),
    fresh('importTasks, tasks from memory (validate + Kysely + db)', (f) => importTasks(f.deps, f.actor, noAudit, f.project, tasks())),
    ...(dialect === 'sqlite' ? [fresh('  same, prepared statements cached by SQL text', (f) => importWithCachedStatements(f, tasks()))] : []),
    fresh('importTasks ← readTasks(file) (the API import minus HTTP)', (f) => importTasks(f.deps, f.actor, noAudit, f.project, readTasks(fileStream(file), 'json', LIMITS))),
    fresh('prototype: JSON-array batches, tasks from memory', (f) => insertTasksAsJson(f.deps, f.actor, f.project, [tasks()])),
    fresh('prototype: splitter + JSON.parse → JSON-array batches', (f) => insertTasksAsJson(f.deps, f.actor, f.project, splitTasks(fileStream(file)))),
    fresh('  same, but handed over one task per await (as now)', (f) => insertTasksAsJson(f.deps, f.actor, f.project, oneByOne(splitTasks(fileStream(file))))),
    ...(dialect === 'postgres' ? [fresh('  same, reading the next batch while one is in flight', (f) => insertTasksAsJson(f.deps, f.actor, f.project, splitTasks(fileStream(file)), { overlap: true }))] : []),
  ];
}

const fileStream = (file: string) => fs.createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>;

/** Re-yields arrays one element per await, as readTasks → tasksOf → importTasks hand tasks over today. */
async function* oneByOne<T>(batches: AsyncIterable<T[]>): AsyncGenerator<T[]> {
  for await (const batch of batches) for (const item of batch) yield [item];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tasks: { type: 'string' }, dialects: { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string', multiple: true } } });
  const n = Number(values.tasks ?? 100_000);
  const rounds = Number(values.rounds ?? 3);
  const dialects = (values.dialects ?? 'sqlite,postgres').split(',') as Dialect[];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-phases-files-'));
  try {
    const file = path.join(dir, 'tasks.json');
    const lines = path.join(dir, 'tasks.jsonl');
    const size = await writeTaskFile(file, n);
    const linesSize = writeTaskLines(lines, n);
    console.log(`${n.toLocaleString('en-US')} tasks, ${(size / 1024 ** 2).toFixed(1)} MiB JSON, ${(linesSize / 1024 ** 2).toFixed(1)} MiB JSONL`);
    const only = (p: Phase) => values.only === undefined || values.only.some((part) => p.label.includes(part));
    const parsing: Phase[] = [
      { label: 'readTasks, JSON (json-task-reader.ts)', run: () => countReaderTasks(file) },
      { label: 'readTasks, JSONL (line-task-reader.ts)', run: () => countReaderTasks(lines, 'jsonl') },
      { label: 'prototype: split top-level array + JSON.parse per task', run: () => countSplitTasks(file) },
    ];
    if (parsing.some(only)) await runPhases('parsing only', n, rounds, parsing.filter(only));
    let inMemory: ImportTask[] | undefined; // made on first use: `--only` may not need it
    const tasks = () => (inMemory ??= memoryTasks(n));
    for (const dialect of dialects) await runPhases(dialect, n, rounds, dialectPhases(dialect, n, file, tasks).filter(only));
    console.log(`\npeak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
