/**
 * Scale-out on this machine: two app nodes (`labelvault serve`) and one worker (`labelvault
 * worker`), each a real child process on loopback, against one throwaway PostgreSQL database and
 * the local Redis (127.0.0.1:6379, a key prefix unique to the run, removed afterwards). The
 * export folder is one shared LABELVAULT_DATA_DIR, as app nodes must share it.
 *
 * Both app nodes start at once on the empty database: the start-up lock lets one migrate while
 * the other waits. The test drives them alternately through the API: a session started on node 1
 * continues on node 2; 50 annotators spread over both nodes never get the same task
 * (maximum_annotations 1); an export snapshot requested on node 1 is built by the worker (app
 * nodes only enqueue) and downloaded from node 2. Every process exits 0 on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDeps } from '../../src/app-deps.js';
import { loadConfig } from '../../src/config/config.js';
import { openDeps } from '../../src/deps.js';
import { call, cookiesFrom, createPgDatabase } from '../harness.js';
import { makeMember, makeOrganization, makeWorkspace, PASSWORD, type Member } from '../factories.js';
import { ready, REDIS_URL, removeRedisKeys, start, stop, type Node, nodeEnv } from './nodes.js';

const CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>';
const choice = [{ id: 'r1', from_name: 'c', to_name: 'text', type: 'choices', value: { choices: ['A'] } }];

describe('two app nodes and a worker on one PostgreSQL database and Redis', () => {
  const prefix = `lvtest-scale-${randomBytes(4).toString('hex')}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-scale-'));
  let pg: { url: string; drop: () => Promise<void> };
  let env: Record<string, string>;
  let node1: Node;
  let node2: Node;
  let worker: Node;
  let deps: AppDeps & { close: () => Promise<void> };
  let manager: Member;
  let annotators: Member[];
  let projectId: number;

  beforeAll(async () => {
    pg = await createPgDatabase();
    env = nodeEnv(dataDir, {
      DATABASE_URL: pg.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      SECRET_KEY: randomBytes(32).toString('base64url'),
      SHUTDOWN_GRACE_SECONDS: '5',
    });
    // Both app nodes on the empty database at once: one migrates, the other waits for the lock.
    [node1, node2] = await Promise.all([start('node 1', 'serve', env), start('node 2', 'serve', env)]);
    worker = await start('worker', 'worker', env);
    await Promise.all([ready(node1), ready(node2), ready(worker)]);
    // The test's own view of the database, for factories (enqueue-only: it takes no jobs).
    deps = await openDeps(loadConfig({ ...env, PORT: '0', LOG_LEVEL: 'silent' }), { migrate: false, role: 'http' });
    const org = await makeOrganization(deps);
    manager = await makeMember(deps, org.id, 'MA');
    annotators = [];
    for (let i = 0; i < 50; i += 1) annotators.push(await makeMember(deps, org.id, 'AN'));
    const workspaceId = await makeWorkspace(deps, org.id, [manager, ...annotators]);
    const made = await call(node1, 'POST', '/api/projects', { token: manager.token, body: { title: 'Scale', label_config: CONFIG, workspace: workspaceId, maximum_annotations: 1 } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    projectId = made.body.id;
    const imported = await call(node2, 'POST', `/api/projects/${projectId}/import`, { token: manager.token, body: Array.from({ length: 120 }, (_, i) => ({ text: `t${i}` })) });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await deps?.close();
    for (const n of [node1, node2, worker]) if (n) await stop(n);
    await removeRedisKeys(prefix);
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('migrated the database exactly once although both nodes started together', async () => {
    const rows = await deps.db.selectFrom('kysely_migration' as never).select('name' as never).execute();
    const names = rows.map((r) => (r as { name: string }).name);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
    const orgs = await deps.db.selectFrom('organizations').select('id').execute();
    // The first-run bootstrap made one first organization (plus the test's own).
    expect(orgs).toHaveLength(2);
  });

  it('a session started on node 1 continues on node 2, and a logout on node 2 ends it on node 1', async () => {
    const who = annotators[0]!;
    const login = await call(node1, 'POST', '/api/auth/login', { body: { email: who.email, password: PASSWORD } });
    expect(login.status).toBe(200);
    const cookie = cookiesFrom(login);
    const csrf = login.body.csrf_token as string;
    expect((await call(node2, 'GET', '/api/current-user/whoami', { cookie })).body).toMatchObject({ email: who.email });
    expect((await call(node2, 'PATCH', '/api/current-user', { cookie, csrf: 'x'.repeat(43), body: { first_name: 'Ann' } })).status).toBe(403);
    expect((await call(node2, 'PATCH', '/api/current-user', { cookie, csrf, body: { first_name: 'Ann' } })).status).toBe(200);
    expect((await call(node1, 'GET', '/api/current-user/whoami', { cookie })).body).toMatchObject({ first_name: 'Ann' });
    expect((await call(node2, 'POST', '/api/auth/logout', { cookie, csrf })).status).toBe(204);
    expect((await call(node1, 'GET', '/api/current-user/whoami', { cookie })).status).toBe(401);
  });

  it('50 annotators spread over both nodes never receive the same task (maximum_annotations 1)', async () => {
    const nodes = [node1, node2];
    const round = () => Promise.all(annotators.map((a, i) => call(nodes[i % 2]!, 'GET', `/api/projects/${projectId}/next`, { token: a.token })));
    const first = await round();
    expect(first.map((r) => r.status)).toEqual(annotators.map(() => 200));
    const firstIds = first.map((r) => r.body.id as number);
    expect(new Set(firstIds).size).toBe(50);
    // Each submits on the other node; the next round hands out 50 more, all new.
    const submitted = await Promise.all(
      annotators.map((a, i) => call(nodes[(i + 1) % 2]!, 'POST', `/api/tasks/${firstIds[i]}/annotations`, { token: a.token, body: { result: choice } })),
    );
    expect(submitted.map((r) => r.status)).toEqual(annotators.map(() => 201));
    const second = await round();
    const secondIds = second.map((r) => r.body.id as number);
    expect(new Set([...firstIds, ...secondIds]).size).toBe(100);
    // Asking again on the other node returns the task already reserved, not another one.
    const again = await call(node2, 'GET', `/api/projects/${projectId}/next`, { token: annotators[0]!.token });
    expect(again.body.id).toBe(secondIds[0]);
  }, 120_000);

  it('an export snapshot requested on node 1 is built by the worker and downloaded from node 2', async () => {
    const created = await call(node1, 'POST', `/api/projects/${projectId}/exports/`, { token: manager.token, body: {} });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as number;
    const deadline = Date.now() + 30_000;
    let status = '';
    while (Date.now() < deadline) {
      status = (await call(node2, 'GET', `/api/projects/${projectId}/exports/${id}`, { token: manager.token })).body.status;
      if (status === 'completed' || status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe('completed');
    const res = await fetch(`${node2.url}/api/projects/${projectId}/exports/${id}/download?exportType=JSON`, { headers: { authorization: `Token ${manager.token}` } });
    expect(res.status).toBe(200);
    const tasks = (await res.json()) as { annotations: unknown[] }[];
    expect(tasks).toHaveLength(120);
    expect(tasks.filter((t) => t.annotations.length === 1)).toHaveLength(50);
    // Another organization cannot download it from either node.
    const stranger = await makeOrganization(deps);
    expect((await call(node2, 'GET', `/api/projects/${projectId}/exports/${id}/download?exportType=JSON`, { token: stranger.owner.token })).status).toBe(404);
  }, 60_000);

  it('every process stops on SIGTERM with exit code 0', async () => {
    expect(await stop(node1)).toBe(0);
    // Node 2 still serves while node 1 is gone.
    expect((await call(node2, 'GET', '/ready')).status).toBe(200);
    expect(await stop(worker)).toBe(0);
    expect(await stop(node2)).toBe(0);
  }, 60_000);
});
