/**
 * The real server in a child process (`node --import tsx src/main.ts`), so its memory is its own:
 * peak resident set size comes from /proc/<pid>/status (VmHWM), reset between phases through
 * /proc/<pid>/clear_refs, and cross-checked by polling VmRSS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/..), where the server's sources live. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** How the server runs: its sources through tsx, or JavaScript compiled by tsc (as `npm start` runs it). */
export interface ServerCommand {
  cwd: string;
  args: string[];
}

/** `node --import tsx src/main.ts` in the repository. */
export const TSX_SERVER: ServerCommand = { cwd: REPO_ROOT, args: ['--import', 'tsx', 'src/main.ts'] };

export interface ServerOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  command: ServerCommand;
  /** Extra node flags, e.g. --cpu-prof, --max-semi-space-size=…, --import ./probe.mjs. */
  nodeArgs?: string[];
  /** More environment for the server (e.g. SSRF_ALLOWED_HOSTS for a loopback storage emulator). */
  env?: Record<string, string>;
}

export interface ServerProcess {
  url: string;
  token: string;
  pid: number;
  /** Starts a new peak: the kernel's VmHWM and the poller's maximum. */
  resetPeak(): void;
  /** Peak RSS in MiB since the last reset (the larger of VmHWM and the polled maximum). */
  peakRssMb(): number;
  /** Current RSS in MiB. */
  rssMb(): number;
  /** RSS samples (ms since the last reset, MiB) taken every POLL_MS. */
  samples(): { ms: number; mb: number }[];
  /** The last lines the server wrote (stdout and stderr). */
  logTail(): string;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

const POLL_MS = 100;

/** A free TCP port on loopback. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // the process is gone
  }
}

const mb = (kb: number) => kb / 1024;

async function waitForHealth(url: string, child: ChildProcess, logTail: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before answering /health:\n${logTail()}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not answer /health within 60 s:\n${logTail()}`);
}

function serverEnv(opts: ServerOptions, port: number, token: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    LABELVAULT_DATA_DIR: opts.dataDir,
    PASSWORD_HASH_COST: '14',
    LABEL_STUDIO_USERNAME: 'bench-owner@example.test',
    LABEL_STUDIO_PASSWORD: `bench ${randomBytes(12).toString('hex')} passphrase`,
    LABEL_STUDIO_USER_TOKEN: token,
    ...(opts.databaseUrl !== undefined && { DATABASE_URL: opts.databaseUrl }),
    ...opts.env,
  };
}

/**
 * Compiles src/ with tsc into `dir` (never into the repository's dist/), beside a copy of
 * package.json and a link to node_modules, so `node dist/main.js` runs there as in production.
 */
export async function buildServer(dir: string): Promise<ServerCommand> {
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const outDir = path.join(dir, 'dist');
  const args = [tsc, '-p', path.join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', outDir, '--tsBuildInfoFile', path.join(dir, 'tsbuildinfo')];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`tsc failed (${code}):\n${output.slice(-4000)}`);
  fs.copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return { cwd: dir, args: [path.join(outDir, 'main.js')] };
}

/** Starts the server and waits until GET /health answers 200. */
export async function startServerProcess(opts: ServerOptions): Promise<ServerProcess> {
  const port = await freePort();
  const token = randomBytes(20).toString('hex');
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...opts.command.args], {
    cwd: opts.command.cwd,
    env: serverEnv(opts, port, token),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = once(child, 'exit');
  const pid = child.pid!;
  let polled = 0;
  let since = Date.now();
  let samples: { ms: number; mb: number }[] = [];
  const poller = setInterval(() => {
    const kb = statusKb(pid, 'VmRSS');
    polled = Math.max(polled, kb);
    samples.push({ ms: Date.now() - since, mb: mb(kb) });
  }, POLL_MS);
  poller.unref();
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    clearInterval(poller);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await waitForHealth(url, child, () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    token,
    pid,
    resetPeak: () => {
      fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
      polled = 0;
      since = Date.now();
      samples = [];
    },
    peakRssMb: () => mb(Math.max(statusKb(pid, 'VmHWM'), polled)),
    rssMb: () => mb(statusKb(pid, 'VmRSS')),
    samples: () => samples,
    logTail: () => log,
    stop,
  };
}
