/**
 * Child process of `bench/audit-http.bench.ts`: the real app, twice, on one set of deps (one
 * database, one connection pool, one process), listening on two loopback ports: one with the
 * audit recorder, one with a no-op in its place (BuildOptions.recordAudit, which only this
 * benchmark passes). Sets up an organization, a Manager with an API token, a project and
 * `BENCH_TASKS` tasks, prints one JSON line `{audited, silent, token, tasks}` and
 * serves until SIGTERM. Configured by the environment, as the server is.
 */
import { buildApp } from '../src/app.js';
import type { AuditWriter } from '../src/http/register.js';
import { loadConfig } from '../src/config/config.js';
import { openDeps } from '../src/deps.js';
import type { Actor } from '../src/http/actor.js';
import type { AuditFn } from '../src/http/route.js';
import { importTasks } from '../src/modules/imports/import.service.js';
import { createProject, getProjectRow } from '../src/modules/projects/projects.service.js';
import { makeMember, makeOrganization } from '../test/factories.js';

const CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>';
const count = Number(process.env['BENCH_TASKS'] ?? '10000');

const deps = await openDeps(loadConfig(process.env));
const org = await makeOrganization(deps);
const m = await makeMember(deps, org.id, 'MA');
const actor: Actor = { userId: m.id, email: m.email, username: m.email, isSuperuser: false, organizationId: org.id, role: 'MA', authMethod: 'token' };
const silentFn: AuditFn = async () => undefined;
const project = await createProject(deps, actor, silentFn, { label_config: CONFIG, maximum_annotations: 1_000_000 });
const row = await getProjectRow(deps.db, actor, project.id);
const tasks = Array.from({ length: count }, (_, i) => ({ index: i, data: { text: `Task ${i}: the delivery was quick and the product works great, mostly.` }, meta: {}, annotations: [], predictions: [] }));
const ids = (await importTasks(deps, actor, silentFn, row, tasks, { returnTaskIds: true })).task_ids!;

const noAudit: AuditWriter = async () => 0;
const audited = await buildApp(deps, { logger: false });
const silent = await buildApp(deps, { logger: false, recordAudit: noAudit });
const urls = { audited: await audited.listen({ host: '127.0.0.1', port: 0 }), silent: await silent.listen({ host: '127.0.0.1', port: 0 }) };
process.stdout.write(`${JSON.stringify({ ...urls, token: m.token, tasks: ids })}\n`);

process.once('SIGTERM', () => {
  void (async () => {
    await audited.close();
    await silent.close();
    await deps.close();
    process.exit(0);
  })();
});
