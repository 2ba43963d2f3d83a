/**
 * The cost of auditing as a client sees it: annotation submissions over HTTP
 * (`POST /api/tasks/{id}/annotations`, keep-alive, `--concurrency` in flight), to the real app
 * with the audit recorder and to the same app with a no-op in its place, on SQLite and
 * PostgreSQL. Both apps run in ONE child process on one database (bench/audit-http-server.ts), so
 * they share everything but the audit write; this process only sends requests. Rounds alternate
 * in ABBA order, the first pair is a warm-up, and the slowdown is the median of the ratios of
 * rounds run side by side. Also printed: the child's CPU per submission (plus the PostgreSQL
 * backends'), which a busy machine disturbs less than wall time. `npm run bench:audit` runs the
 * service-level benchmark (audit-cost.bench.ts) first, then this one.
 *
 * Run: npx tsx bench/audit-http.bench.ts [--per-round 400 --rounds 10 --concurrency 8 --dialects sqlite,postgres]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import pg from 'pg';
import { baseEnv, createPgDatabase } from '../test/harness.js';
import { REPO_ROOT } from './server-process.js';
import { arg, median, procCpuMs } from './stats.js';

const PER_ROUND = Number(arg('per-round', '400'));
const ROUNDS = Number(arg('rounds', '10'));
const CONCURRENCY = Number(arg('concurrency', '8'));
const DIALECTS = arg('dialects', 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
const RESULT = JSON.stringify({ result: [{ id: 'r1', from_name: 'c', to_name: 'text', type: 'choices', value: { choices: ['A'] } }] });

type Mode = 'audited' | 'silent';
interface Child {
  audited: string;
  silent: string;
  token: string;
  tasks: number[];
}


/** Sends `count` submissions to `url`, CONCURRENCY at a time, taking task ids from `next`; returns seconds. */
async function submit(url: string, token: string, tasks: number[], next: { i: number }, count: number): Promise<number> {
  let issued = 0;
  const failures: number[] = [];
  const started = performance.now();
  const lane = async () => {
    while (issued < count) {
      issued += 1;
      const task = tasks[next.i++];
      if (task === undefined) throw new Error('ran out of tasks');
      const res = await fetch(`${url}/api/tasks/${task}/annotations`, { method: 'POST', headers: { authorization: `Token ${token}`, 'content-type': 'application/json' }, body: RESULT });
      await res.arrayBuffer();
      if (res.status !== 201) failures.push(res.status);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  if (failures.length > 0) throw new Error(`${failures.length} submissions failed (statuses ${[...new Set(failures)].join(', ')})`);
  return (performance.now() - started) / 1000;
}

async function run(dialect: 'sqlite' | 'postgres'): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-audit-http-'));
  const db = dialect === 'postgres' ? await createPgDatabase() : undefined;
  const env = { ...process.env, ...baseEnv(dir), LOG_LEVEL: 'warn', API_RATE_LIMIT_PER_MINUTE: '0', BENCH_TASKS: String(PER_ROUND * 2 * (ROUNDS + 1) + 100), ...(db && { DATABASE_URL: db.url }) };
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/audit-http-server.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const pgClient = db && new pg.Client({ connectionString: db.url });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the bench server exited (${code}) before listening`)));
    });
    const c = JSON.parse(line) as Child;
    await pgClient?.connect();
    const backends = async () => (pgClient ? (await pgClient.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')).rows.map((r) => r.pid) : []);
    const next = { i: 0 };
    const rate: Record<Mode, number[]> = { audited: [], silent: [] };
    const cpu: Record<Mode, number[]> = { audited: [], silent: [] };
    const ratios: number[] = [];
    for (let pair = 0; pair <= ROUNDS; pair++) {
      const order: Mode[] = pair % 2 === 0 ? ['audited', 'silent'] : ['silent', 'audited'];
      const seconds: Partial<Record<Mode, number>> = {};
      for (const mode of order) {
        const pids = [child.pid!, ...(await backends())];
        const cpu0 = procCpuMs(pids);
        const s = await submit(c[mode], c.token, c.tasks, next, PER_ROUND);
        if (pair === 0) continue; // warm-up
        seconds[mode] = s;
        rate[mode].push(PER_ROUND / s);
        cpu[mode].push((procCpuMs(pids) - cpu0) / PER_ROUND);
      }
      if (pair > 0) ratios.push(seconds.audited! / seconds.silent!);
    }
    const slowdown = (median(ratios) - 1) * 100;
    const cpuCost = (median(cpu.audited) / median(cpu.silent) - 1) * 100;
    process.stdout.write(
      `${dialect.padEnd(9)} with audit ${median(rate.audited).toFixed(0).padStart(5)}/s   without ${median(rate.silent).toFixed(0).padStart(5)}/s   ` +
        `audit costs ${slowdown.toFixed(1)}% wall (pairs: ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})   ` +
        `server CPU/submission ${median(cpu.audited).toFixed(2)} vs ${median(cpu.silent).toFixed(2)} ms (${cpuCost.toFixed(1)}%)   target < 15%\n`,
    );
  } finally {
    await pgClient?.end();
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await db?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`annotation submissions over HTTP: ${ROUNDS} rounds of ${PER_ROUND} per mode after a warm-up pair, ${CONCURRENCY} in flight, ABBA order, medians\n`);
for (const d of DIALECTS) await run(d);
