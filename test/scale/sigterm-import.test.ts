/**
 * SIGTERM during a running import loses nothing: the import either completes or leaves no trace
 * and can be re-run. A real server child process (the embedded default on SQLite; `labelvault
 * serve` with Redis on a throwaway PostgreSQL database) receives a 200,000-task JSON import
 * (POST /api/projects/{id}/import, streamed over a plain HTTP request so the test decides when
 * each byte goes) and gets SIGTERM while the request is in flight:
 * - while the body is still arriving, the client then sending the rest: the import completes
 *   (201), the process exits 0, and after a restart the project holds exactly N tasks;
 * - with the body received and the server busy parsing and inserting: the same;
 * - while the client stalls mid-body past SHUTDOWN_GRACE_SECONDS (3 s here; 300 s for the two
 *   cases above, as a busy machine may take long over 200,000 tasks): the server closes the
 *   connection and exits 0; after a restart the project holds no task and no spooled file is
 *   left, and re-running the import gives exactly N.
 * And SIGKILL mid-body, which no handler survives: the spooled body stays behind until a start-up
 * finds it untouched for over an hour (the test ages it) and removes it, saying how many.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, createPgDatabase, DIALECTS } from '../harness.js';
import { ready, REDIS_URL, removeRedisKeys, start, stop, type Node, nodeEnv } from './nodes.js';

const N = 200_000;
const TOKEN = randomBytes(20).toString('hex');
const CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/></Choices></View>';
const BODY = Buffer.from(JSON.stringify(Array.from({ length: N }, (_, i) => ({ text: `task ${i} ${'x'.repeat(20)}` }))));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An import request whose body the test sends piece by piece. */
function openImport(node: Node, projectId: number) {
  const req = http.request(`${node.url}/api/projects/${projectId}/import`, {
    method: 'POST',
    headers: { authorization: `Token ${TOKEN}`, 'content-type': 'application/json', 'content-length': String(BODY.length) },
  });
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  response.catch(() => undefined); // observed by the test when it matters
  return { req, response };
}

/** The spooled import files under the data folder (the server writes the body there first). */
const spooled = (dataDir: string) => {
  const dir = path.join(dataDir, 'tmp');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith('import-')).map((f) => path.join(dir, f)) : [];
};

/** Waits until `check` holds (30 s at most). */
async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await sleep(10);
  }
}

describe.each(DIALECTS)('SIGTERM during a 200k-task import (%s)', (dialect) => {
  const prefix = `lvtest-sigterm-${randomBytes(4).toString('hex')}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-sigterm-'));
  let pg: { url: string; drop: () => Promise<void> } | undefined;
  let env: Record<string, string>;
  let node: Node;
  const command = dialect === 'sqlite' ? 'all' : 'serve';

  beforeAll(async () => {
    pg = dialect === 'postgres' ? await createPgDatabase() : undefined;
    env = nodeEnv(dataDir, {
      SHUTDOWN_GRACE_SECONDS: '300',
      LABEL_STUDIO_USERNAME: 'owner@example.com',
      LABEL_STUDIO_PASSWORD: 'a long enough passphrase',
      LABEL_STUDIO_USER_TOKEN: TOKEN,
      ...(pg && { DATABASE_URL: pg.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, SECRET_KEY: randomBytes(32).toString('base64url') }),
    });
    await startNode();
  }, 120_000);

  afterAll(async () => {
    if (node) await stop(node);
    if (pg) await removeRedisKeys(prefix);
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  /** Starts the server on the test's database (with `extra` settings) and waits until it is ready. */
  async function startNode(extra: Record<string, string> = {}): Promise<void> {
    node = await start('server', command, { ...env, ...extra });
    await ready(node);
  }

  /** SIGTERM; expects exit code 0; starts the server again (with `extra` settings). */
  async function restart(extra: Record<string, string> = {}): Promise<void> {
    expect(await stop(node), node.output.join('')).toBe(0);
    await startNode(extra);
  }

  // A test that failed half-way leaves the next one a running server.
  afterEach(async () => {
    if (node.child.exitCode === null && node.child.signalCode === null) return;
    await startNode();
  }, 120_000);

  const project = async (title: string) => {
    const r = await call(node, 'POST', '/api/projects', { token: TOKEN, body: { title, label_config: CONFIG } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id as number;
  };
  const taskCount = async (id: number) => (await call(node, 'GET', `/api/projects/${id}`, { token: TOKEN })).body.task_number as number;

  it('SIGTERM while the body arrives: the import completes, all N tasks are there after a restart', async () => {
    const id = await project('arriving');
    const { req, response } = openImport(node, id);
    req.write(BODY.subarray(0, BODY.length / 2));
    await waitFor(() => spooled(dataDir).length === 1, 'the server spools the body');
    const exited = stop(node);
    await sleep(300);
    req.end(BODY.subarray(BODY.length / 2));
    expect(await response).toMatchObject({ status: 201, body: { task_count: N } });
    expect(await exited).toBe(0);
    await startNode();
    expect(await taskCount(id)).toBe(N);
  }, 300_000);

  it('SIGTERM while the server inserts: the import completes, all N tasks are there after a restart', async () => {
    const id = await project('inserting');
    const { req, response } = openImport(node, id);
    req.end(BODY);
    await waitFor(() => spooled(dataDir).some((f) => fs.statSync(f, { throwIfNoEntry: false })?.size === BODY.length), 'the whole body is spooled');
    const exited = stop(node);
    expect(await response).toMatchObject({ status: 201, body: { task_count: N } });
    expect(await exited).toBe(0);
    await startNode();
    expect(await taskCount(id)).toBe(N);
  }, 300_000);

  it('SIGTERM while the client stalls past the grace period: no trace after a restart, and a re-run gives N', async () => {
    await restart({ SHUTDOWN_GRACE_SECONDS: '3' });
    const id = await project('stalled');
    const { req, response } = openImport(node, id);
    req.write(BODY.subarray(0, BODY.length / 2));
    await waitFor(() => spooled(dataDir).length === 1, 'the server spools the body');
    const t0 = Date.now();
    expect(await stop(node)).toBe(0);
    // It waited for the request for SHUTDOWN_GRACE_SECONDS (3), then gave up on it.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2_500);
    await expect(response).rejects.toThrow();
    req.destroy();
    await startNode();
    expect(await taskCount(id)).toBe(0);
    expect(spooled(dataDir)).toEqual([]);
    const again = openImport(node, id);
    again.req.end(BODY);
    expect(await again.response).toMatchObject({ status: 201, body: { task_count: N } });
    expect(await taskCount(id)).toBe(N);
  }, 300_000);

  it('SIGKILL while the body arrives leaves the spooled body; a start-up an hour later removes it and says so', async () => {
    const id = await project('killed');
    const { req, response } = openImport(node, id);
    req.write(BODY.subarray(0, BODY.length / 4));
    await waitFor(() => spooled(dataDir).length === 1, 'the server spools the body');
    const [left] = spooled(dataDir);
    expect(await stop(node, 'SIGKILL')).toBeNull();
    await expect(response).rejects.toThrow();
    req.destroy();
    expect(spooled(dataDir)).toEqual([left]);
    const young = path.join(dataDir, 'tmp', `import-${randomBytes(8).toString('hex')}`);
    fs.writeFileSync(young, '['); // another live process's spool file: recent, so kept
    const anHourAgo = new Date(Date.now() - 61 * 60 * 1000);
    fs.utimesSync(left!, anHourAgo, anHourAgo);
    await startNode();
    await waitFor(() => node.output.join('').includes('start-up sweep'), 'the start-up sweep logs what it removed');
    expect(node.output.join('')).toMatch(/"spoolFiles":1,"unfinishedWrites":0/);
    expect(spooled(dataDir)).toEqual([young]);
    fs.rmSync(young);
    expect(await taskCount(id)).toBe(0);
  }, 300_000);
});
