/**
 * The cost of auditing (issue "Audit log"): annotation submissions through the real service
 * (`createAnnotation`: checks, insert, task counters, commit), with the real audit recorder and
 * with a no-op in its place, on SQLite and PostgreSQL, in one run on the same database.
 *
 * Fairness: both modes do the same work apart from the audit write; rounds alternate in ABBA
 * order (so neither mode always runs second or on the bigger table); the first pair is a
 * warm-up and is dropped; each figure is the median over rounds, and the slowdown is the median
 * of the ratios of rounds run side by side. Beside wall-clock throughput it prints CPU time per
 * submission (this process, plus on PostgreSQL the server processes serving its connections, read
 * from /proc), which a busy shared machine disturbs far less than wall time.
 *
 * Run: npm run bench:audit [-- --per-round 200 --rounds 12 --dialects sqlite,postgres]
 *
 * `--mode audited` or `--mode silent` runs one mode only (every round), for counting instructions
 * per mode with `perf stat -e instructions:u,instructions:k` (see bench/README.md): a count a busy
 * machine barely disturbs, unlike wall time.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { AppDeps } from '../src/app-deps.js';
import { recordAuditEvent, SYSTEM_SOURCE } from '../src/audit/recorder.js';
import { loadConfig } from '../src/config/config.js';
import { openDeps } from '../src/deps.js';
import type { Actor } from '../src/http/actor.js';
import type { AuditFn } from '../src/http/route.js';
import { createAnnotation } from '../src/modules/annotations/annotations.service.js';
import { importTasks } from '../src/modules/imports/import.service.js';
import { createProject, getProjectRow } from '../src/modules/projects/projects.service.js';
import { baseEnv, createPgDatabase } from '../test/harness.js';
import { makeMember, makeOrganization } from '../test/factories.js';
import { arg, median, procCpuMs } from './stats.js';

const PER_ROUND = Number(arg('per-round', '200'));
const ROUNDS = Number(arg('rounds', '12'));
const DIALECTS = arg('dialects', 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
const ONLY = arg('mode', 'both');
if (!['both', 'audited', 'silent'].includes(ONLY)) throw new Error('--mode: both, audited or silent');
const CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>';
const RESULT = [{ id: 'r1', from_name: 'c', to_name: 'text', type: 'choices', value: { choices: ['A'] } }];

type Mode = 'audited' | 'silent';


async function run(dialect: 'sqlite' | 'postgres'): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-audit-bench-'));
  const pg = dialect === 'postgres' ? await createPgDatabase() : undefined;
  const deps: AppDeps & { close(): Promise<void> } = await openDeps(loadConfig({ ...baseEnv(dir), ...(pg && { DATABASE_URL: pg.url }) }));
  try {
    const org = await makeOrganization(deps);
    const m = await makeMember(deps, org.id, 'MA');
    const actor: Actor = { userId: m.id, email: m.email, username: m.email, isSuperuser: false, organizationId: org.id, role: 'MA', authMethod: 'token' };
    const source = {
      ...SYSTEM_SOURCE,
      organizationId: org.id,
      actorUserId: m.id,
      actorEmail: m.email,
      authMethod: 'token' as const,
      ip: '127.0.0.1',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    };
    let request = 0;
    // A fresh request id per event, as the server gives each request (random, so its index is written where it falls).
    const audited: AuditFn = (db, d) => recordAuditEvent(db, deps.secrets, { ...source, requestId: randomUUID() }, d).finally(() => void request++);
    const silent: AuditFn = async () => undefined;
    const project = await createProject(deps, actor, silent, { label_config: CONFIG, maximum_annotations: 1_000_000 });
    const row = await getProjectRow(deps.db, actor, project.id);
    const tasks = Array.from({ length: PER_ROUND * (ROUNDS + 2) * 2 }, (_, i) => ({ index: i, data: { text: `t${i}` }, meta: {}, annotations: [], predictions: [] }));
    const ids = (await importTasks(deps, actor, silent, row, tasks, { returnTaskIds: true })).task_ids!;
    const backends = async () =>
      pg ? (await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database()`.execute(deps.db)).rows.map((r) => r.pid) : [];
    let next = 0;
    const rate: Record<Mode, number[]> = { audited: [], silent: [] };
    const cpu: Record<Mode, number[]> = { audited: [], silent: [] };
    const ratios: number[] = [];
    // ABBA: pair k runs audited then silent when k is even, silent then audited when odd.
    for (let pair = 0; pair <= ROUNDS; pair++) {
      const order: Mode[] = ONLY !== 'both' ? [ONLY as Mode, ONLY as Mode] : pair % 2 === 0 ? ['audited', 'silent'] : ['silent', 'audited'];
      const seconds: Partial<Record<Mode, number>> = {};
      for (const mode of order) {
        const pids = await backends();
        const cpu0 = process.cpuUsage();
        const db0 = procCpuMs(pids);
        const started = process.hrtime.bigint();
        for (let i = 0; i < PER_ROUND; i++) await createAnnotation(deps, actor, mode === 'audited' ? audited : silent, ids[next++]!, { result: RESULT });
        const s = Number(process.hrtime.bigint() - started) / 1e9;
        const own = process.cpuUsage(cpu0);
        if (pair === 0) continue; // warm-up
        seconds[mode] = s;
        rate[mode].push(PER_ROUND / s);
        cpu[mode].push(((own.user + own.system) / 1000 + procCpuMs(pids) - db0) / PER_ROUND);
      }
      if (pair > 0 && ONLY === 'both') ratios.push(seconds.audited! / seconds.silent!);
    }
    if (ONLY !== 'both') {
      const mode = ONLY as Mode;
      process.stdout.write(`${dialect.padEnd(9)} ${mode} only: ${(PER_ROUND * 2 * (ROUNDS + 1)).toFixed(0)} submissions, median ${median(rate[mode]).toFixed(0)}/s\n`);
      return;
    }
    const slowdown = (median(ratios) - 1) * 100;
    const cpuCost = (median(cpu.audited) / median(cpu.silent) - 1) * 100;
    process.stdout.write(
      `${dialect.padEnd(9)} with audit ${median(rate.audited).toFixed(0).padStart(6)}/s   without ${median(rate.silent).toFixed(0).padStart(6)}/s   ` +
        `audit costs ${slowdown.toFixed(1)}% wall (pairs: ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})   ` +
        `CPU/submission ${median(cpu.audited).toFixed(3)} vs ${median(cpu.silent).toFixed(3)} ms (${cpuCost.toFixed(1)}%)   target < 15%\n`,
    );
    const events = await deps.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    if (Number(events.n) < request) throw new Error(`expected at least ${request} audit events, found ${events.n}`);
  } finally {
    await deps.close();
    await pg?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`annotation submissions through the service: ${ROUNDS} rounds of ${PER_ROUND} per mode after a warm-up pair, ABBA order, medians\n`);
for (const d of DIALECTS) await run(d);
