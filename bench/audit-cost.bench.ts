/**
 * The cost of auditing (issue "Audit log"): annotation submissions per second through the real
 * service, with the audit write and with it replaced by a no-op, alternating rounds in one run on
 * the same database, on SQLite and PostgreSQL. Prints both rates and the slowdown.
 * Run: npm run bench:audit [-- --per-round 300 --rounds 4]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
};
const PER_ROUND = arg('per-round', 300);
const ROUNDS = arg('rounds', 4);
const CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>';
const RESULT = [{ id: 'r1', from_name: 'c', to_name: 'text', type: 'choices', value: { choices: ['A'] } }];

async function run(dialect: 'sqlite' | 'postgres'): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-audit-bench-'));
  const pg = dialect === 'postgres' ? await createPgDatabase() : undefined;
  const deps: AppDeps & { close(): Promise<void> } = await openDeps(loadConfig({ ...baseEnv(dir), ...(pg && { DATABASE_URL: pg.url }) }));
  try {
    const org = await makeOrganization(deps);
    const m = await makeMember(deps, org.id, 'MA');
    const actor: Actor = { userId: m.id, email: m.email, username: m.email, isSuperuser: false, organizationId: org.id, role: 'MA', authMethod: 'token' };
    const source = { ...SYSTEM_SOURCE, organizationId: org.id, actorUserId: m.id, actorEmail: m.email, authMethod: 'token' as const, ip: '127.0.0.1', requestId: 'bench' };
    const audited: AuditFn = (db, d) => recordAuditEvent(db, deps.secrets, source, d);
    const silent: AuditFn = async () => undefined;
    const project = await createProject(deps, actor, silent, { label_config: CONFIG, maximum_annotations: 1_000_000 });
    const row = await getProjectRow(deps.db, actor, project.id);
    const tasks = Array.from({ length: PER_ROUND * ROUNDS * 2 }, (_, i) => ({ index: i, data: { text: `t${i}` }, meta: {}, annotations: [], predictions: [] }));
    const ids = (await importTasks(deps, actor, silent, row, tasks, { returnTaskIds: true })).task_ids!;
    let next = 0;
    const times = { audited: 0, silent: 0 };
    for (let r = 0; r < ROUNDS * 2; r++) {
      const mode = r % 2 === 0 ? 'audited' : 'silent';
      const started = process.hrtime.bigint();
      for (let i = 0; i < PER_ROUND; i++) await createAnnotation(deps, actor, mode === 'audited' ? audited : silent, ids[next++]!, { result: RESULT });
      times[mode] += Number(process.hrtime.bigint() - started) / 1e9;
    }
    const n = PER_ROUND * ROUNDS;
    const rate = (s: number) => n / s;
    const slowdown = (times.audited / times.silent - 1) * 100;
    process.stdout.write(
      `${dialect.padEnd(9)} with audit ${rate(times.audited).toFixed(0).padStart(6)}/s   without ${rate(times.silent).toFixed(0).padStart(6)}/s   audit costs ${slowdown.toFixed(1)}% (target < 15%)\n`,
    );
  } finally {
    await deps.close();
    await pg?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`annotation submissions through the service, ${PER_ROUND * ROUNDS} per mode, alternating rounds\n`);
for (const d of ['sqlite', 'postgres'] as const) await run(d);
