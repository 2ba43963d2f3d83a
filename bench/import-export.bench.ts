/**
 * `npm run bench`: imports N tasks through the API and exports them (JSON and CSV), on SQLite and
 * PostgreSQL, beside a baseline measured in the same run (the same rows inserted straight into
 * the same database with prepared statements in one transaction); then imports a large file on
 * SQLite and reports the server's peak memory. Figures are printed, never asserted: the machine
 * is shared, so read the ratios, not the absolute numbers. See bench/README.md.
 *
 *   npm run bench -- --tasks 100000 --big 1000000 --dialects sqlite,postgres
 *                    [--server tsx|built] [--cpu-prof DIR] [--node-arg FLAG]…
 *   (or BENCH_TASKS, BENCH_BIG, BENCH_DIALECTS, BENCH_SERVER; --big 0 skips the large file)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPgDatabase } from '../test/harness.js';
import { BenchApi } from './api-client.js';
import { insertBaselinePg, insertBaselineSqlite, type BaselineResult } from './baseline.js';
import { annotatedCount, LABEL_CONFIG, writeTaskFile } from './bench-tasks.js';
import { buildServer, startServerProcess, TSX_SERVER, type ServerCommand, type ServerProcess } from './server-process.js';
import { cleanups, runCleanups } from './cleanups.js';
import { wholeNumber } from './stats.js';

type Dialect = 'sqlite' | 'postgres';

interface Options {
  tasks: number;
  big: number;
  dialects: Dialect[];
  server: 'tsx' | 'built';
  /** Node flags for the server child (--cpu-prof DIR becomes --cpu-prof --cpu-prof-dir=DIR). */
  nodeArgs: string[];
  /** Set once the server command is known (after compiling, for `built`). */
  command: ServerCommand;
}

interface DialectFigures {
  dialect: Dialect;
  importPerSec: number;
  baselinePerSec: number;
  importSeconds: number;
  bodySentSeconds: number;
  baselineSeconds: number;
  jsonPerSec: number;
  csvPerSec: number;
  jsonMb: number;
  csvMb: number;
  idleRssMb: number;
  importPeakMb: number;
  exportPeakMb: number;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      tasks: { type: 'string' },
      big: { type: 'string' },
      dialects: { type: 'string' },
      server: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'node-arg': { type: 'string', multiple: true },
    },
  });
  const dialects = (values.dialects ?? process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim());
  for (const d of dialects) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`--dialects: unknown dialect ${d}`);
  const tasks = wholeNumber(values.tasks ?? process.env.BENCH_TASKS, 100_000, 'tasks');
  if (tasks < 1) throw new Error('--tasks must be at least 1');
  const server = values.server ?? process.env.BENCH_SERVER ?? 'tsx';
  if (server !== 'tsx' && server !== 'built') throw new Error(`--server must be tsx or built, not ${server}`);
  const profile = values['cpu-prof'];
  return {
    tasks,
    big: wholeNumber(values.big ?? process.env.BENCH_BIG, 1_000_000, 'big'),
    dialects: dialects as Dialect[],
    server,
    nodeArgs: [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profile)}`] : []), ...(values['node-arg'] ?? [])],
    command: TSX_SERVER,
  };
}

/** Runs `work` with a temp dir, a database of the dialect and a server child on it; always tears down. */
async function withServer<T>(dialect: Dialect, opts: Options, work: (server: ServerProcess, api: BenchApi, db: { file?: string; url?: string }) => Promise<T>): Promise<T> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `labelvault-bench-${dialect}-`));
  const owed = cleanups.length;
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  try {
    const pgDb = dialect === 'postgres' ? await createPgDatabase() : undefined;
    if (pgDb) cleanups.push(pgDb.drop);
    const server = await startServerProcess({ dataDir, databaseUrl: pgDb?.url, command: opts.command, nodeArgs: opts.nodeArgs });
    cleanups.push(server.stop);
    const db = pgDb ? { url: pgDb.url } : { file: path.join(dataDir, 'labelvault.sqlite3') };
    return await work(server, new BenchApi(server.url, server.token), db);
  } finally {
    await runCleanups(owed);
  }
}

function expectCounts(what: string, got: { tasks: number; annotations?: number }, tasks: number): void {
  const annotations = annotatedCount(tasks);
  if (got.tasks !== tasks || (got.annotations !== undefined && got.annotations !== annotations)) {
    throw new Error(`${what}: expected ${tasks} tasks / ${annotations} annotations, got ${JSON.stringify(got)}`);
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - started) / 1000 };
}

async function runBaseline(api: BenchApi, db: { file?: string; url?: string }, tasks: number): Promise<BaselineResult> {
  const target = { projectId: await api.createProject('bench baseline', LABEL_CONFIG), userId: await api.currentUserId(), tasks };
  const result = db.file ? insertBaselineSqlite(db.file, target) : await insertBaselinePg(db.url!, target);
  expectCounts('baseline', result, tasks);
  return result;
}

/** Baseline, then API import, then JSON and CSV exports of the imported project. */
async function benchDialect(dialect: Dialect, opts: Options, file: string): Promise<DialectFigures> {
  return withServer(dialect, opts, async (server, api, db) => {
    const idleRssMb = server.rssMb();
    log(`${dialect}: baseline insert of ${opts.tasks} tasks`);
    const baseline = await runBaseline(api, db, opts.tasks);
    const projectId = await api.createProject('bench import', LABEL_CONFIG);
    log(`${dialect}: API import`);
    server.resetPeak();
    const imported = await timed(() => api.importFile(projectId, file));
    const importPeakMb = server.peakRssMb();
    expectCounts('API import', { tasks: imported.value.task_count, annotations: imported.value.annotation_count }, opts.tasks);
    log(`${dialect}: exports`);
    server.resetPeak();
    const json = await timed(() => api.exportTasks(projectId, 'JSON'));
    expectCounts('JSON export', json.value, opts.tasks);
    const csv = await timed(() => api.exportTasks(projectId, 'CSV'));
    expectCounts('CSV export', csv.value, opts.tasks);
    return {
      dialect,
      importPerSec: opts.tasks / imported.seconds,
      baselinePerSec: opts.tasks / baseline.seconds,
      importSeconds: imported.seconds,
      bodySentSeconds: imported.value.bodySentSeconds,
      baselineSeconds: baseline.seconds,
      jsonPerSec: opts.tasks / json.seconds,
      csvPerSec: opts.tasks / csv.seconds,
      jsonMb: json.value.bytes / 1024 ** 2,
      csvMb: csv.value.bytes / 1024 ** 2,
      idleRssMb,
      importPeakMb,
      exportPeakMb: server.peakRssMb(),
    };
  });
}

interface BigFigures {
  tasks: number;
  fileMb: number;
  seconds: number;
  idleRssMb: number;
  peakMb: number;
  profile: string;
  bodySentSeconds: number;
  slowestHealthSeconds: number;
}

/** Imports the large file on SQLite and reports the server's peak RSS over the import. */
async function benchBigImport(opts: Options, file: string, fileMb: number): Promise<BigFigures> {
  return withServer('sqlite', opts, async (server, api) => {
    const idleRssMb = server.rssMb();
    const projectId = await api.createProject('bench big import', LABEL_CONFIG);
    log(`sqlite: API import of ${opts.big} tasks (${fileMb.toFixed(0)} MiB)`);
    server.resetPeak();
    const importing = timed(() => api.importFile(projectId, file));
    const slowestHealthSeconds = await api.slowestHealth(importing);
    const imported = await importing;
    expectCounts('big API import', { tasks: imported.value.task_count, annotations: imported.value.annotation_count }, opts.big);
    const peakMb = server.peakRssMb();
    return { tasks: opts.big, fileMb, seconds: imported.seconds, idleRssMb, peakMb, profile: rssProfile(server.samples()), bodySentSeconds: imported.value.bodySentSeconds, slowestHealthSeconds };
  });
}

/** RSS at each tenth of the import's duration, to show whether memory grows with the file. */
function rssProfile(samples: { ms: number; mb: number }[]): string {
  if (samples.length === 0) return 'n/a';
  const points: string[] = [];
  for (let tenth = 1; tenth <= 10; tenth += 1) points.push(samples[Math.max(0, Math.ceil((samples.length * tenth) / 10) - 1)]!.mb.toFixed(0));
  return points.join(' ');
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function printTable(opts: Options, rows: DialectFigures[]): void {
  const head = ['dialect', 'API import t/s', 'baseline t/s', 'API/baseline', 'export JSON t/s', 'export CSV t/s', 'RSS idle MB', 'RSS peak import MB', 'RSS peak export MB'];
  const body = rows.map((r) => [
    r.dialect,
    fmt(r.importPerSec),
    fmt(r.baselinePerSec),
    (r.importPerSec / r.baselinePerSec).toFixed(2),
    fmt(r.jsonPerSec),
    fmt(r.csvPerSec),
    r.idleRssMb.toFixed(0),
    r.importPeakMb.toFixed(0),
    r.exportPeakMb.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${opts.tasks.toLocaleString('en-US')} tasks (every 10th with one annotation), server run by ${opts.server === 'tsx' ? 'tsx (src/main.ts)' : 'node (tsc output)'}; target: API/baseline >= 0.50`);
  console.log(line(head));
  for (const b of body) console.log(line(b));
  for (const r of rows) {
    console.log(
      `  ${r.dialect}: import ${r.importSeconds.toFixed(2)} s (body sent after ${r.bodySentSeconds.toFixed(2)} s) vs baseline ${r.baselineSeconds.toFixed(2)} s; ` +
        `export JSON ${r.jsonMb.toFixed(1)} MiB, CSV ${r.csvMb.toFixed(1)} MiB`,
    );
  }
}

function printBig(big: BigFigures): void {
  const verdict = big.peakMb < 300 ? 'under' : 'OVER';
  console.log(
    `\nlarge import (sqlite): ${big.tasks.toLocaleString('en-US')} tasks, ${big.fileMb.toFixed(0)} MiB file, ${big.seconds.toFixed(1)} s ` +
      `(${fmt(big.tasks / big.seconds)} tasks/s); server RSS idle ${big.idleRssMb.toFixed(0)} MB, peak ${big.peakMb.toFixed(0)} MB (${verdict} the 300 MB target)`,
  );
  console.log(`  server RSS (MB) at each tenth of the import: ${big.profile}`);
  console.log(`  body sent after ${big.bodySentSeconds.toFixed(1)} s; slowest GET /health during the import: ${big.slowestHealthSeconds.toFixed(2)} s`);
}

async function main(): Promise<void> {
  const opts = readOptions();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-bench-files-'));
  cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));
  try {
    if (opts.server === 'built') {
      log('compiling the server with tsc');
      opts.command = await buildServer(path.join(work, 'server'));
    }
    log(`server: node ${[...opts.nodeArgs, ...opts.command.args].join(' ')}`);
    log(`writing ${opts.tasks} tasks`);
    const file = path.join(work, 'tasks.json');
    await writeTaskFile(file, opts.tasks);
    const rows: DialectFigures[] = [];
    for (const dialect of opts.dialects) rows.push(await benchDialect(dialect, opts, file));
    printTable(opts, rows);
    if (opts.big > 0) {
      fs.rmSync(file);
      log(`writing ${opts.big} tasks`);
      const bigFile = path.join(work, 'big-tasks.json');
      const size = await writeTaskFile(bigFile, opts.big);
      printBig(await benchBigImport(opts, bigFile, size / 1024 ** 2));
    }
  } finally {
    await runCleanups();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
