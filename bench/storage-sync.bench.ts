/**
 * `npm run bench:sync`: an S3 import storage synced from s3rver (on loopback), in tasks created per
 * second, beside s3rver's own LIST rate measured in the same run (objects per second of a plain
 * ListObjectsV2 pagination over the same keys, 1,000 per page, from this process). Target: the
 * sync within 2× of the LIST rate in media mode (`use_blob_urls`: one task per object, no object
 * read). JSON mode (each object read and parsed as a task) is a secondary figure on fewer objects.
 * Figures are printed, never asserted. See bench/README.md.
 *
 *   npm run bench:sync -- [--objects 100000] [--json-objects 10000] [--dialects sqlite,postgres]
 *                         [--fill disk|api] [--server tsx|built] [--cpu-prof DIR] [--node-arg FLAG]…
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPgDatabase } from '../test/harness.js';
import { startS3rver, type S3rver } from '../test/storage/s3rver.js';
import { BenchApi } from './api-client.js';
import { checkSample, fillOnDisk, fillThroughApi, listAll, objectSet, processCpuSeconds, type ListFigures, type ObjectSet } from './s3-objects.js';
import { buildServer, startServerProcess, TSX_SERVER, type ServerCommand, type ServerProcess } from './server-process.js';
import { cleanups, runCleanups } from './cleanups.js';
import { wholeNumber } from './stats.js';

type Dialect = 'sqlite' | 'postgres';

interface Options {
  objects: number;
  jsonObjects: number;
  dialects: Dialect[];
  fill: 'disk' | 'api';
  server: 'tsx' | 'built';
  nodeArgs: string[];
  command: ServerCommand;
}

const LABEL_CONFIG =
  '<View><Image name="image" value="$image"/><Choices name="quality" toName="image"><Choice value="Good"/><Choice value="Bad"/></Choices></View>';

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      objects: { type: 'string' },
      'json-objects': { type: 'string' },
      dialects: { type: 'string' },
      fill: { type: 'string' },
      server: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'node-arg': { type: 'string', multiple: true },
    },
  });
  const dialects = (values.dialects ?? 'sqlite').split(',').map((d) => d.trim());
  for (const d of dialects) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`--dialects: unknown dialect ${d}`);
  const fill = values.fill ?? 'disk';
  if (fill !== 'disk' && fill !== 'api') throw new Error(`--fill must be disk or api, not ${fill}`);
  const server = values.server ?? 'tsx';
  if (server !== 'tsx' && server !== 'built') throw new Error(`--server must be tsx or built, not ${server}`);
  const objects = wholeNumber(values.objects, 100_000, 'objects');
  if (objects < 1) throw new Error('--objects must be at least 1');
  const profile = values['cpu-prof'];
  return {
    objects,
    jsonObjects: wholeNumber(values['json-objects'], 10_000, 'json-objects'),
    dialects: dialects as Dialect[],
    fill,
    server,
    nodeArgs: [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profile)}`] : []), ...(values['node-arg'] ?? [])],
    command: TSX_SERVER,
  };
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** One sync measured: wall time from POST …/sync until GET shows it completed, and CPU used meanwhile. */
interface SyncFigures {
  tasks: number;
  seconds: number;
  serverCpu: number;
  s3rverCpu: number;
}

/** The API calls of a storage: create, sync, poll. */
class StorageApi {
  constructor(
    private readonly server: ServerProcess,
    private readonly s3: S3rver,
  ) {}

  private async call(method: string, url: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.server.url}${url}`, {
      method,
      headers: { authorization: `Token ${this.server.token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${JSON.stringify(json).slice(0, 2000)}`);
    return json;
  }

  async createS3(project: number, set: ObjectSet, media: boolean): Promise<number> {
    const body = {
      project,
      title: `bench ${set.bucket}`,
      bucket: set.bucket,
      prefix: set.prefix,
      s3_endpoint: this.s3.endpoint,
      aws_access_key_id: this.s3.accessKeyId,
      aws_secret_access_key: this.s3.secretAccessKey,
      use_blob_urls: media,
      recursive_scan: true,
    };
    return (await this.call('POST', '/api/storages/s3', body)).id as number;
  }

  /** Starts a sync and polls every 200 ms until the storage is completed (throws if it failed). */
  async sync(id: number): Promise<SyncFigures> {
    const cpu0 = processCpuSeconds(this.server.pid);
    const s3Cpu0 = processCpuSeconds(this.s3.pid);
    const started = performance.now();
    await this.call('POST', `/api/storages/s3/${id}/sync`);
    for (;;) {
      const row = await this.call('GET', `/api/storages/s3/${id}`);
      if (row.status === 'failed') throw new Error(`sync failed: ${String(row.traceback)}\n${this.server.logTail()}`);
      if (row.status === 'completed') {
        return { tasks: Number(row.last_sync_count), seconds: (performance.now() - started) / 1000, serverCpu: processCpuSeconds(this.server.pid) - cpu0, s3rverCpu: processCpuSeconds(this.s3.pid) - s3Cpu0 };
      }
      await new Promise((r) => setTimeout(r, 200)); // a poll costs the server ~2 ms (token check, scope, row)
    }
  }

  async taskCount(project: number): Promise<number> {
    return Number((await this.call('GET', `/api/projects/${project}`)).task_number);
  }
}

/** A mode's figures: LIST before and after the sync, the first sync and an idempotent re-sync. */
interface ModeFigures {
  dialect: Dialect;
  mode: 'media' | 'json';
  objects: number;
  lists: ListFigures[];
  listS3rverCpu: number;
  sync: SyncFigures;
  resync: SyncFigures;
}

async function listTimed(s3: S3rver, set: ObjectSet): Promise<ListFigures & { s3rverCpu: number }> {
  const cpu0 = processCpuSeconds(s3.pid);
  const figures = await listAll(s3.client, set);
  if (figures.count !== set.count) throw new Error(`LIST of ${set.bucket} found ${figures.count} objects, expected ${set.count}`);
  return { ...figures, s3rverCpu: processCpuSeconds(s3.pid) - cpu0 };
}

async function benchMode(s3: S3rver, server: ServerProcess, dialect: Dialect, set: ObjectSet, media: boolean): Promise<ModeFigures> {
  const mode = media ? 'media' : 'json';
  const api = new StorageApi(server, s3);
  const project = await new BenchApi(server.url, server.token).createProject(`bench sync ${mode}`, LABEL_CONFIG);
  const storage = await api.createS3(project, set, media);
  log(`${dialect} ${mode}: LIST ×2, sync of ${set.count} objects, re-sync, LIST`);
  const before = [await listTimed(s3, set), await listTimed(s3, set)];
  const sync = await api.sync(storage);
  if (sync.tasks !== set.count) throw new Error(`${mode} sync created ${sync.tasks} tasks, expected ${set.count}`);
  const resync = await api.sync(storage);
  if (resync.tasks !== 0) throw new Error(`${mode} re-sync created ${resync.tasks} tasks, expected 0`);
  const after = await listTimed(s3, set);
  const stored = await api.taskCount(project);
  if (stored !== set.count) throw new Error(`${mode}: the project holds ${stored} tasks, expected ${set.count}`);
  const lists = [...before, after];
  return { dialect, mode, objects: set.count, lists, listS3rverCpu: Math.min(...lists.map((l) => l.s3rverCpu)), sync, resync };
}

async function withServer<T>(dialect: Dialect, opts: Options, work: (server: ServerProcess) => Promise<T>): Promise<T> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `labelvault-bench-sync-${dialect}-`));
  const owed = cleanups.length;
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  try {
    const pgDb = dialect === 'postgres' ? await createPgDatabase() : undefined;
    if (pgDb) cleanups.push(pgDb.drop);
    const server = await startServerProcess({ dataDir, databaseUrl: pgDb?.url, command: opts.command, nodeArgs: opts.nodeArgs, env: { SSRF_ALLOWED_HOSTS: '127.0.0.1' } });
    cleanups.push(server.stop);
    return await work(server);
  } finally {
    await runCleanups(owed);
  }
}

async function fill(s3: S3rver, set: ObjectSet, how: Options['fill']): Promise<void> {
  await s3.createBucket(set.bucket);
  const started = performance.now();
  if (how === 'disk') await fillOnDisk(s3.client, s3.dir, set);
  else await fillThroughApi(s3.client, set);
  await checkSample(s3.client, set);
  const seconds = (performance.now() - started) / 1000;
  log(`filled ${set.bucket}: ${fmt(set.count)} objects ${how === 'disk' ? "in s3rver's folder" : 'through PutObject'} in ${seconds.toFixed(1)} s (${fmt(set.count / seconds)}/s)`);
}

function printMode(f: ModeFigures): void {
  const best = f.lists.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const median = [...f.lists].sort((a, b) => a.seconds - b.seconds)[Math.floor(f.lists.length / 2)]!;
  const listRate = f.objects / best.seconds;
  const syncRate = f.sync.tasks / f.sync.seconds;
  const ratio = listRate / syncRate;
  // CPU seconds per object of both processes: what a shared machine disturbs least.
  const cpuRatio = (f.sync.serverCpu + f.sync.s3rverCpu) / (best.cpuSeconds + f.listS3rverCpu);
  console.log(`\n${f.dialect}, ${f.mode} mode, ${fmt(f.objects)} objects`);
  console.log(`  LIST (ListObjectsV2, 1,000/page): ${f.lists.map((l) => `${l.seconds.toFixed(2)} s`).join(', ')} → best ${fmt(listRate)} objects/s; CPU s3rver ${f.listS3rverCpu.toFixed(1)} s, client ${best.cpuSeconds.toFixed(1)} s`);
  console.log(`  sync: ${f.sync.seconds.toFixed(2)} s → ${fmt(syncRate)} tasks/s; CPU server ${f.sync.serverCpu.toFixed(1)} s, s3rver ${f.sync.s3rverCpu.toFixed(1)} s`);
  console.log(`  re-sync (nothing new): ${f.resync.seconds.toFixed(2)} s; CPU server ${f.resync.serverCpu.toFixed(1)} s, s3rver ${f.resync.s3rverCpu.toFixed(1)} s`);
  console.log(`  LIST rate / sync rate: ${ratio.toFixed(2)} against the fastest LIST, ${(f.sync.seconds / median.seconds).toFixed(2)} against the median${f.mode === 'media' ? ` (target ≤ 2: ${ratio <= 2 ? 'met' : 'NOT met'})` : ''}`);
  console.log(`  CPU (server + s3rver) of the sync / CPU (client + s3rver) of a LIST: ${cpuRatio.toFixed(2)}`);
}

async function main(): Promise<void> {
  const opts = readOptions();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-bench-sync-'));
  cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));
  try {
    console.log(`cores: ${os.cpus().length}; load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    if (opts.server === 'built') {
      log('compiling the server with tsc');
      opts.command = await buildServer(path.join(work, 'server'));
    }
    const s3 = await startS3rver();
    cleanups.push(s3.stop);
    const media = objectSet('bench-media', 'img/', 'jpg', opts.objects, (i) => `image ${i}`);
    const json = objectSet('bench-json', 'tasks/', 'json', opts.jsonObjects, (i) => JSON.stringify({ image: `s3://bench-media/${media.key(i)}`, n: i }));
    await fill(s3, media, opts.fill);
    if (json.count > 0) await fill(s3, json, opts.fill);
    const figures: ModeFigures[] = [];
    for (const dialect of opts.dialects) {
      await withServer(dialect, opts, async (server) => {
        figures.push(await benchMode(s3, server, dialect, media, true));
        if (json.count > 0) figures.push(await benchMode(s3, server, dialect, json, false));
      });
    }
    console.log(`\nserver run by ${opts.server === 'tsx' ? 'tsx (src/main.ts)' : 'node (tsc output)'}; load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    for (const f of figures) printMode(f);
  } finally {
    await runCleanups();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
