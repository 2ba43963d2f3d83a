/**
 * Labelvault processes for the scale-out tests: `labelvault serve` / `worker` (or the embedded
 * default) started as real child processes (TypeScript through tsx) on free loopback ports,
 * waited on through /ready, stopped with a signal. Plus the removal of a run's Redis keys.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../harness.js';

/** The local Redis the scale-out tests use (each run under its own key prefix). */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = path.resolve(import.meta.dirname, '../..');

/** A running child process and what it printed. */
export interface Node {
  name: string;
  url: string;
  child: ChildProcess;
  output: string[];
}

/** Starts `labelvault <command>` (`all`: the embedded default, src/main.ts) as a child process on a free port. */
export async function start(name: string, command: 'serve' | 'worker' | 'all', env: Record<string, string>): Promise<Node> {
  const port = await freePort();
  const args = command === 'all' ? ['src/main.ts'] : ['src/cli/main.ts', command];
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  return { name, url: `http://127.0.0.1:${port}`, child, output };
}

/** Waits until a node answers /ready with 200 (120 s at most: tsx compiles on start, and this machine may be busy). */
export async function ready(node: Node): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (node.child.exitCode !== null) throw new Error(`${node.name} exited ${node.child.exitCode}:\n${node.output.join('')}`);
    const r = await fetch(`${node.url}/ready`).catch(() => null);
    if (r?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${node.name} never became ready:\n${node.output.join('')}`);
}

/** Sends a signal (SIGTERM by default) and resolves with the exit code (null when killed by the signal). */
export async function stop(node: Node, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return node.child.exitCode;
  const exited = new Promise<number | null>((resolve) => node.child.once('exit', (code) => resolve(code)));
  node.child.kill(signal);
  return exited;
}

/** Removes every Redis key under a test run's prefix. */
export async function removeRedisKeys(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

/**
 * The environment every node of a scale test starts with: test mode, quiet logs, cheap password
 * hashing, loopback, and the shared data folder; `more` adds the database, Redis and the rest.
 */
export function nodeEnv(dataDir: string, more: Record<string, string>): Record<string, string> {
  return { NODE_ENV: 'test', LOG_LEVEL: 'warn', PASSWORD_HASH_COST: '14', HOST: '127.0.0.1', LABELVAULT_DATA_DIR: dataDir, ...more };
}
