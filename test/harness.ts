/**
 * Test harness: the real server over HTTP on loopback, on a real SQLite file or a real
 * PostgreSQL database created for the test file (and dropped after). No fakes.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import type { AppDeps } from '../src/app-deps.js';
import { loadConfig } from '../src/config/config.js';
import { openDeps } from '../src/deps.js';
import { bootstrapInstance } from '../src/modules/auth/bootstrap.service.js';

export type DialectName = 'sqlite' | 'postgres';
export const DIALECTS: DialectName[] = ['sqlite', 'postgres'];

/** Admin connection used to create throwaway databases; this machine's PostgreSQL on loopback. */
export const PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates an empty PostgreSQL database; returns its URL and a dropper. */
export async function createPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `lv_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface TestServer {
  url: string;
  app: FastifyInstance;
  deps: AppDeps;
  dataDir: string;
  env: Record<string, string>;
  close: () => Promise<void>;
}

/** The environment every test server starts from (cheap password hashing, quiet logs). */
export function baseEnv(dataDir: string): Record<string, string> {
  return { NODE_ENV: 'test', LOG_LEVEL: 'silent', PASSWORD_HASH_COST: '14', LABELVAULT_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0' };
}

/** Starts the real app on a loopback port against a fresh database of the given dialect. */
export async function startServer(dialect: DialectName, extraEnv: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-test-'));
  const pgDb = dialect === 'postgres' ? await createPgDatabase() : undefined;
  const env = { ...baseEnv(dataDir), ...(pgDb && { DATABASE_URL: pgDb.url }), ...extraEnv };
  const config = loadConfig(env);
  const deps = await openDeps(config);
  await bootstrapInstance(deps);
  const app = await buildApp(deps, { logger: false });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    app,
    deps,
    dataDir,
    env,
    close: async () => {
      await app.close();
      await deps.close();
      await pgDb?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Res<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Auth {
  token?: string;
  bearer?: string;
  cookie?: string;
  csrf?: string;
  headers?: Record<string, string>;
}

/** One HTTP call to the test server with JSON in and out. */
export async function call<T = any>(server: { url: string }, method: string, p: string, opts: Auth & { body?: unknown } = {}): Promise<Res<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Token ${opts.token}`;
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.csrf) headers['x-csrftoken'] = opts.csrf;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${p}`, { method, headers, body: opts.body === undefined ? null : JSON.stringify(opts.body), redirect: 'manual' });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** The `name=value` pairs of a response's Set-Cookie headers, as a Cookie header. */
export function cookiesFrom(res: Res): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

/** A TCP port free on loopback right now (for servers a test starts itself). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** `fn` over `items` with at most `limit` calls in flight; the results in the items' order. */
export async function inPool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Polls `fn` every 100 ms until it returns something other than undefined (throws after `ms`). */
export async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
