/**
 * Scale-out (issue 9): annotation submissions per second against one app node and against two,
 * on the same PostgreSQL database and Redis, in one run.
 *
 * Two `labelvault serve` child processes (sources through tsx, NODE_ENV=production, LOG_LEVEL=warn,
 * API rate limit off) share a throwaway PostgreSQL database, the local Redis (127.0.0.1:6379, a key
 * prefix unique to the run) and one data folder. A project of tasks and N annotators is set up;
 * then this process submits annotations (POST /api/tasks/{id}/annotations, one new task per
 * submission, each by the annotator the task is assigned to, `--concurrency` requests in flight) in alternating
 * rounds (ABBA order): all to node 1, or round-robin to nodes 1 and 2. Both nodes run throughout, so the
 * only difference between the modes is where the requests go.
 *
 * It prints submissions/s per round, the median per mode and their ratio, with the CPU seconds
 * each side used per mode (the nodes and PostgreSQL's backends from /proc/<pid>/stat, this load
 * generator from process.cpuUsage) and how many backends were busy or waiting for a lock: on a
 * machine with few cores the nodes, PostgreSQL and the load generator compete for the same CPUs,
 * so a second node there adds no capacity, only a second process to schedule.
 *
 * Run: npm run bench:nodes [-- --annotators 20 --concurrency 16 --per-round 1000 --rounds 3]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../src/config/config.js';
import { openDeps } from '../src/deps.js';
import { createPgDatabase, freePort } from '../test/harness.js';
import { makeMember, makeOrganization, makeWorkspace, type Member } from '../test/factories.js';
import { REPO_ROOT } from './server-process.js';
import { arg, cpuSecondsOf, median } from './stats.js';

const num = (name: string, def: number) => Number(arg(name, String(def)));
const ANNOTATORS = num('annotators', 20);
const CONCURRENCY = num('concurrency', 16);
const PER_ROUND = num('per-round', 1000);
const ROUNDS = num('rounds', 3);
const WARMUP = num('warmup', 300);
const REDIS_URL = 'redis://127.0.0.1:6379';
const CONFIG = '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>';
const RESULT = JSON.stringify({ result: [{ id: 'r1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Positive'] } }] });

interface Node {
  name: string;
  url: string;
  child: ChildProcess;
  log: string[];
}

/** Starts `labelvault serve` (through tsx) on a free loopback port. */
async function startNode(name: string, env: Record<string, string>): Promise<Node> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], { cwd: REPO_ROOT, env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const keep = (d: Buffer) => {
    log.push(d.toString());
    if (log.length > 200) log.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { name, url: `http://127.0.0.1:${port}`, child, log };
}

/** Waits until the node answers /ready with 200 (90 s at most). */
async function waitReady(node: Node): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (node.child.exitCode !== null) throw new Error(`${node.name} exited ${node.child.exitCode}:\n${node.log.join('').slice(-4000)}`);
    if ((await fetch(`${node.url}/ready`).catch(() => null))?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${node.name} never became ready:\n${node.log.join('').slice(-4000)}`);
}

/** SIGTERM, then SIGKILL after 10 s. */
async function stopNode(node: Node): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.kill('SIGTERM');
  const killer = setTimeout(() => node.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}


/**
 * The PostgreSQL side of the run: CPU seconds of the backends serving the bench database (from
 * /proc, as this machine's PostgreSQL is local) and, sampled every 50 ms, how many of them are
 * running a statement and how many wait for a lock (the audit chain's advisory lock serialises
 * every audited write across processes).
 */
class PgWatch {
  private readonly client: pg.Client;
  private samples = { n: 0, active: 0, waiting: 0 };
  /** Lock waits seen, by kind (advisory, transactionid, tuple, …), over the whole run. */
  readonly waits = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(url: string) {
    this.client = new pg.Client({ connectionString: url });
  }

  async open(): Promise<void> {
    await this.client.connect();
  }

  /** CPU seconds per backend pid now. */
  async cpu(): Promise<Map<number, number>> {
    const r = await this.client.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    const out = new Map<number, number>();
    for (const { pid } of r.rows) {
      try {
        out.set(pid, cpuSecondsOf(pid));
      } catch {
        /* ended meanwhile */
      }
    }
    return out;
  }

  /** Starts sampling activity (and forgets earlier samples). */
  startSampling(): void {
    this.samples = { n: 0, active: 0, waiting: 0 };
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      // An advisory lock's keys show as classid/objid: (0, 7240311) is the audit chain's.
      const q = `select a.state, a.wait_event_type, case when l.locktype = 'advisory' then 'advisory ' || l.classid || '/' || l.objid else a.wait_event end as wait_event
                 from pg_stat_activity a left join pg_locks l on l.pid = a.pid and not l.granted
                 where a.datname = current_database() and a.pid <> pg_backend_pid()`;
      void this.client
        .query<{ state: string | null; wait_event_type: string | null; wait_event: string | null }>(q)
        .then((r) => {
          this.samples.n += 1;
          for (const b of r.rows) {
            if (b.state === 'active') this.samples.active += 1;
            if (b.wait_event_type !== 'Lock') continue;
            this.samples.waiting += 1;
            this.waits.set(b.wait_event ?? '?', (this.waits.get(b.wait_event ?? '?') ?? 0) + 1);
          }
        })
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, 50);
  }

  /** Stops sampling; mean backends active and waiting for a lock since startSampling. */
  stopSampling(): { active: number; waiting: number } {
    clearInterval(this.timer);
    const n = Math.max(1, this.samples.n);
    return { active: this.samples.active / n, waiting: this.samples.waiting / n };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.client.end();
  }
}

/** CPU seconds used between two PgWatch.cpu() readings (a backend new since the first counts whole). */
const pgCpuBetween = (before: Map<number, number>, after: Map<number, number>) => [...after].reduce((sum, [pid, s]) => sum + s - (before.get(pid) ?? 0), 0);

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/** POST one JSON body; resolves with the status code (the body is read and dropped). */
function post(url: string, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { authorization: `Token ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end(body);
  });
}

interface Load {
  tasks: number[];
  annotators: Member[];
  next: number;
}

/** Submits `count` annotations spread over `nodes` (round-robin), CONCURRENCY at a time; returns submissions/s. */
async function submit(load: Load, nodes: Node[], count: number): Promise<number> {
  let issued = 0;
  const failures: number[] = [];
  const started = performance.now();
  const lane = async () => {
    while (issued < count) {
      const i = issued++;
      const k = load.next++;
      const taskId = load.tasks[k];
      if (taskId === undefined) throw new Error('ran out of tasks: raise the imported count');
      const status = await post(`${nodes[i % nodes.length]!.url}/api/tasks/${taskId}/annotations`, load.annotators[k % load.annotators.length]!.token, RESULT);
      if (status !== 201) failures.push(status);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const seconds = (performance.now() - started) / 1000;
  if (failures.length > 0) throw new Error(`${failures.length} submissions failed (statuses ${[...new Set(failures)].join(', ')})`);
  return count / seconds;
}


/** Creates the organization, annotators, workspace and project, and imports the tasks; returns the load. */
async function setUp(env: Record<string, string>, node: Node, taskCount: number): Promise<Load> {
  const deps = await openDeps(loadConfig({ ...env, PORT: '0', LOG_LEVEL: 'silent' }), { migrate: false, role: 'http' });
  try {
    const org = await makeOrganization(deps);
    const manager = await makeMember(deps, org.id, 'MA');
    const annotators: Member[] = [];
    for (let i = 0; i < ANNOTATORS; i += 1) annotators.push(await makeMember(deps, org.id, 'AN'));
    const workspace = await makeWorkspace(deps, org.id, [manager, ...annotators]);
    const headers = { authorization: `Token ${manager.token}`, 'content-type': 'application/json' };
    const made = await fetch(`${node.url}/api/projects`, { method: 'POST', headers, body: JSON.stringify({ title: 'Nodes bench', label_config: CONFIG, workspace }) });
    const project = ((await made.json()) as { id: number }).id;
    if (made.status !== 201) throw new Error(`create project: HTTP ${made.status}`);
    const body = JSON.stringify(Array.from({ length: taskCount }, (_, i) => ({ text: `Task ${i}: the delivery was quick and the product works great, mostly.` })));
    const imported = await fetch(`${node.url}/api/projects/${project}/import?return_task_ids=true`, { method: 'POST', headers, body });
    const summary = (await imported.json()) as { task_ids?: number[] };
    if (imported.status !== 201 || !summary.task_ids) throw new Error(`import: HTTP ${imported.status}`);
    // Annotators write only on their own tasks: task k is assigned to annotator k mod N (as the
    // assignment API would, written here directly so setting up is quick).
    const tasks = summary.task_ids;
    const now = new Date().toISOString();
    for (let i = 0; i < tasks.length; i += 1000) {
      const rows = tasks.slice(i, i + 1000).map((taskId, j) => ({ task_id: taskId, project_id: project, user_id: annotators[(i + j) % ANNOTATORS]!.id, type: 'AN', assigned_by_id: manager.id, created_at: now }));
      await deps.db.insertInto('task_assignments').values(rows).execute();
    }
    return { tasks, annotators, next: 0 };
  } finally {
    await deps.close();
  }
}

async function main(): Promise<void> {
  const prefix = `lvbench-nodes-${randomBytes(4).toString('hex')}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-bench-nodes-'));
  const database = await createPgDatabase();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    LABELVAULT_DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    SECRET_KEY: randomBytes(32).toString('base64url'),
    PASSWORD_HASH_COST: '14',
    API_RATE_LIMIT_PER_MINUTE: '0',
    SHUTDOWN_GRACE_SECONDS: '5',
  };
  const nodes: Node[] = [];
  const cleanUp = async () => {
    for (const n of nodes) await stopNode(n);
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
  try {
    // One node migrates first; the second then starts on the current schema.
    nodes.push(await startNode('node 1', env));
    await waitReady(nodes[0]!);
    nodes.push(await startNode('node 2', env));
    await waitReady(nodes[1]!);
    const load = await setUp(env, nodes[0]!, 2 * WARMUP + 2 * ROUNDS * PER_ROUND);
    const [one, two] = [[nodes[0]!], [nodes[0]!, nodes[1]!]];
    await submit(load, one, WARMUP);
    await submit(load, two, WARMUP);
    const watch = new PgWatch(database.url);
    await watch.open();
    try {
      report(await measure(load, one, two, nodes, watch));
      const waits = [...watch.waits].sort((a, b) => b[1] - a[1]);
      const all = waits.reduce((sum, [, n]) => sum + n, 0) || 1;
      process.stdout.write(`lock waits by kind (share of samples; advisory 0/7240311 is the audit chain): ${waits.map(([k, n]) => `${k} ${((100 * n) / all).toFixed(0)}%`).join(', ') || 'none'}\n`);
    } finally {
      await watch.close();
    }
  } finally {
    await cleanUp();
    agent.destroy();
  }
}

interface ModeFigures {
  rates: number[];
  /** CPU seconds over the mode's rounds: node 1, node 2, PostgreSQL backends, load generator. */
  cpu: [number, number, number, number];
  seconds: number;
  /** Sums over rounds of the mean PostgreSQL backends active / waiting for a lock. */
  active: number;
  waiting: number;
}

/** Alternating rounds of each mode, with the CPU each process used and PostgreSQL's activity. */
async function measure(load: Load, one: Node[], two: Node[], nodes: Node[], watch: PgWatch): Promise<[ModeFigures, ModeFigures]> {
  const empty = (): ModeFigures => ({ rates: [], cpu: [0, 0, 0, 0], seconds: 0, active: 0, waiting: 0 });
  const figures: [ModeFigures, ModeFigures] = [empty(), empty()];
  const own = () => {
    const u = process.cpuUsage();
    return [cpuSecondsOf(nodes[0]!.child.pid!), cpuSecondsOf(nodes[1]!.child.pid!), (u.user + u.system) / 1e6];
  };
  for (let r = 0; r < ROUNDS; r += 1) {
    // ABBA order (1-2, 2-1, …): neither mode always runs on the larger table or the warmer cache.
    for (const m of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const [before, pgBefore] = [own(), await watch.cpu()];
      watch.startSampling();
      const t0 = performance.now();
      const rate = await submit(load, m === 0 ? one : two, PER_ROUND);
      const seconds = (performance.now() - t0) / 1000;
      const activity = watch.stopSampling();
      const [after, pgAfter] = [own(), await watch.cpu()];
      const f = figures[m]!;
      f.seconds += seconds;
      f.cpu[0] += after[0]! - before[0]!;
      f.cpu[1] += after[1]! - before[1]!;
      f.cpu[2] += pgCpuBetween(pgBefore, pgAfter);
      f.cpu[3] += after[2]! - before[2]!;
      f.active += activity.active;
      f.waiting += activity.waiting;
      f.rates.push(rate);
      process.stdout.write(`round ${r + 1}, ${m === 0 ? '1 node ' : '2 nodes'}: ${rate.toFixed(0)} submissions/s\n`);
    }
  }
  return figures;
}

function report([one, two]: [ModeFigures, ModeFigures]): void {
  const cpus = os.cpus().length;
  const line = (label: string, f: ModeFigures) => {
    const perS = f.cpu.map((c) => (c / f.seconds).toFixed(2));
    const total = f.cpu.reduce((a, b) => a + b, 0);
    const perSubmission = (total / (f.rates.length * PER_ROUND)) * 1000;
    return [
      `${label}: median ${median(f.rates).toFixed(0)} submissions/s (rounds ${f.rates.map((x) => x.toFixed(0)).join(', ')})`,
      `   CPU s/s: node 1 ${perS[0]}, node 2 ${perS[1]}, PostgreSQL ${perS[2]}, load generator ${perS[3]} (together ${(total / f.seconds).toFixed(2)} of ${cpus} cores; ${perSubmission.toFixed(1)} ms CPU per submission)`,
      `   PostgreSQL backends: ${(f.active / f.rates.length).toFixed(1)} running a statement on average, ${(f.waiting / f.rates.length).toFixed(1)} of them waiting for a lock`,
    ].join('\n');
  };
  process.stdout.write(
    [
      '',
      `annotation submissions, ${ROUNDS} rounds of ${PER_ROUND} per mode, ${CONCURRENCY} in flight, ${ANNOTATORS} annotators, PostgreSQL + Redis`,
      line('1 node ', one),
      line('2 nodes', two),
      `ratio 2 nodes / 1 node: ${(median(two.rates) / median(one.rates)).toFixed(2)}`,
      `cores: ${cpus}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}. Both nodes, PostgreSQL and this load generator share these cores:`,
      `a second node on the same machine adds no CPU, so the ratio shows what spreading requests costs or gains, not what a second machine would add.`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
