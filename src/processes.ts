/**
 * The three ways to run Labelvault, one code path:
 * - `all` (the embedded default, `npm start` / dist/main.js): HTTP and jobs in one process;
 * - `http` (`labelvault serve`): HTTP only; jobs are enqueued on Redis for the workers;
 * - `worker` (`labelvault worker`): jobs only, with a small probe listener (/health, /ready,
 *   /metrics) on HOST:PORT for orchestrators and scrapers.
 * `serve` and `worker` need REDIS_URL (the shared queue) and SECRET_KEY (every node must sign
 * and check sessions and tokens with the same key). Nodes that serve HTTP apply pending
 * migrations and the first-run bootstrap under a PostgreSQL advisory lock, so two nodes starting
 * together never migrate at once; a worker waits until the schema is migrated.
 *
 * At start-up every role removes, in the background, spool files and unfinished writes left in the
 * data folder by processes killed outright (modules/imports/spool-files.ts).
 *
 * SIGTERM/SIGINT: stop taking requests and jobs, give in-flight requests SHUTDOWN_GRACE_SECONDS
 * to finish (then close their connections), let running jobs finish for SHUTDOWN_GRACE_SECONDS
 * (then re-queue them with Redis), close connections, exit 0.
 */
import type { Server } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { AppDeps } from './app-deps.js';
import { buildApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config/config.js';
import { isDatabaseReady, migrateToLatest } from './db/database.js';
import { openDeps } from './deps.js';
import { createRedirectServer } from './http/https-redirect.js';
import { loggerOptions } from './http/logging.js';
import { bearerMatches } from './http/metrics.js';
import { recoverInterruptedJobs, startRecurringJobs, type ProcessRole } from './jobs/job-definitions.js';
import { bootstrapInstance } from './modules/auth/bootstrap.service.js';
import { sweepSpoolFiles } from './modules/imports/spool-files.js';
import { readiness } from './modules/system/system.routes.js';

/** Key of the advisory lock held while a node migrates and bootstraps ("LVSTART"). */
const STARTUP_LOCK_KEY = 0x4c565354415254;

/** The settings a role needs beyond the embedded default; a ConfigError names each missing one. */
export function checkRole(config: Readonly<Config>, role: ProcessRole): void {
  if (role === 'all') return;
  const command = role === 'http' ? 'labelvault serve' : 'labelvault worker';
  const problems: string[] = [];
  if (config.redis === null) problems.push(`REDIS_URL: required by ${command} (jobs go through the shared queue on Redis; without Redis run the embedded server, npm start)`);
  if (config.secretKey === undefined) problems.push(`SECRET_KEY: required by ${command} (every node must use the same key for sessions and tokens)`);
  if (problems.length > 0) throw new ConfigError(problems);
}

/**
 * Runs `fn` holding a session-level PostgreSQL advisory lock on one pooled connection (other
 * nodes calling it wait); on SQLite (one process per file) it just runs `fn`.
 */
export async function withStartupLock<T>(deps: AppDeps, fn: () => Promise<T>): Promise<T> {
  if (deps.dialect !== 'postgres') return fn();
  return deps.db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${sql.lit(STARTUP_LOCK_KEY)})`.execute(conn);
    try {
      return await fn();
    } finally {
      await sql`select pg_advisory_unlock(${sql.lit(STARTUP_LOCK_KEY)})`.execute(conn);
    }
  });
}

/** Waits (polling every 2 s) until the database answers with every migration applied. */
async function waitForMigrations(deps: AppDeps, log: FastifyBaseLogger): Promise<void> {
  let told = false;
  while (!(await isDatabaseReady(deps.db))) {
    if (!told) log.info('waiting for the database to be migrated (labelvault migrate, or an app node starting)');
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

/** The worker's probe listener: /health (alive), /ready (dependencies) and /metrics (token), nothing else. */
async function listenProbes(deps: AppDeps, config: Readonly<Config>): Promise<FastifyInstance> {
  const probes = Fastify({ logger: loggerOptions(config.logLevel), return503OnClosing: true }) as unknown as FastifyInstance;
  probes.get('/health', async () => ({ status: 'UP' }));
  probes.get('/ready', async (_req, reply) => {
    const r = await readiness(deps);
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'READY' : 'NOT_READY', checks: r.checks });
  });
  probes.get('/metrics', async (req, reply) => {
    if (!deps.metrics || config.metrics === null) return reply.code(404).send({ status_code: 404, detail: 'Not found.', code: 'NOT_FOUND' });
    if (!bearerMatches(req.headers.authorization, config.metrics.token)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').send({ status_code: 401, detail: 'Send METRICS_TOKEN as Authorization: Bearer <token>.', code: 'METRICS_TOKEN_INVALID' });
    }
    const { contentType, body } = await deps.metrics.render();
    return reply.header('content-type', contentType).send(body);
  });
  await probes.listen({ host: config.server.host, port: config.server.port });
  return probes;
}

/** Starts the plain-HTTP listener that only redirects to HTTPS (HTTP_REDIRECT_PORT). */
async function listenRedirect(config: Readonly<Config>, port: number, httpsPort: string): Promise<Server> {
  const server = createRedirectServer({ publicUrl: config.server.publicUrl, httpsPort: Number(httpsPort) || 443 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: config.server.host, port }, resolve);
  });
  return server;
}

/** Prints the one-time setup link (console only, never logged as a field: whoever reads it may become Owner). */
function printSetupLink(base: string, setupToken: string): void {
  process.stdout.write(
    `\nNo user exists yet. Create the Owner with this one-time setup link (valid until used; a restart prints a new one):\n` +
      `  ${base}/user/setup?token=${setupToken}\n` +
      `or from a shell:\n` +
      `  curl -X POST ${base}/api/auth/setup -H 'content-type: application/json' \\\n` +
      `    -d '{"setup_token": "${setupToken}", "email": "you@example.com", "password": "a long passphrase"}'\n\n`,
  );
}

/** Longest wait, at shutdown, for handlers whose connection was cut to notice it and clean up. */
const SETTLE_MS = 5_000;

/** What shutdown must close on the HTTP side. */
interface HttpSide {
  app: FastifyInstance;
  redirect: Server | undefined;
  /** Resolves once every request has been answered or given up (at most `maxMs`). */
  settled(maxMs: number): Promise<void>;
}

/**
 * Tracks requests whose handler has not finished. A request whose connection shutdown cut keeps
 * running until its handler notices (an import then rolls back and removes its spooled body);
 * its handler's end still passes through onSend, though nothing can be sent any more.
 */
function trackRequests(app: FastifyInstance): (maxMs: number) => Promise<void> {
  const open = new Set<FastifyRequest>();
  let wake = () => undefined as void;
  const finished = (req: FastifyRequest) => {
    if (open.delete(req) && open.size === 0) wake();
  };
  app.addHook('onRequest', async (req) => void open.add(req));
  app.addHook('onSend', async (req, _reply, payload) => {
    finished(req);
    return payload;
  });
  app.addHook('onResponse', async (req) => finished(req));
  return (maxMs) =>
    new Promise<void>((resolve) => {
      if (open.size === 0) return resolve();
      const timer = setTimeout(resolve, maxMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
}

/** Starts the HTTP side (roles `all` and `http`); returns what shutdown must close. */
async function startHttp(deps: AppDeps, config: Readonly<Config>, role: ProcessRole): Promise<HttpSide> {
  const boot = await withStartupLock(deps, async () => {
    await migrateToLatest(deps.db);
    // In-process jobs do not survive a restart: fail what the previous process left unfinished.
    if (role === 'all') await recoverInterruptedJobs(deps);
    return bootstrapInstance(deps);
  });
  const app = await buildApp(deps);
  const settled = trackRequests(app);
  if (boot.createdOwner) app.log.info({ email: boot.createdOwner }, 'created the first Owner from LABEL_STUDIO_USERNAME');
  const address = await app.listen({ host: config.server.host, port: config.server.port });
  app.log.info({ database: deps.dialect, dataDir: config.dataDir, role, jobs: deps.jobs.survivesRestart ? 'redis' : 'in-process' }, `Labelvault ${deps.version} listening on ${address}`);
  const redirect = config.tls?.redirectPort === undefined ? undefined : await listenRedirect(config, config.tls.redirectPort, new URL(address).port);
  if (redirect) app.log.info(`plain HTTP on port ${config.tls!.redirectPort} redirects to HTTPS`);
  if (boot.setupToken) printSetupLink(config.server.publicUrl ?? address, boot.setupToken);
  return { app, redirect, settled };
}

/**
 * Removes, in the background, the spool files and unfinished file store writes that processes
 * killed outright left in the data folder (see modules/imports/spool-files.ts), and logs how many.
 */
function sweepAtStart(config: Readonly<Config>, log: FastifyBaseLogger): void {
  sweepSpoolFiles(config).then(
    (swept) => {
      const total = swept.spoolFiles + swept.unfinishedWrites;
      log[total > 0 ? 'warn' : 'info'](swept, `start-up sweep: removed ${total} file(s) left by a process that stopped abruptly`);
    },
    (err: unknown) => log.error({ err }, 'start-up sweep of spool files failed'),
  );
}

/**
 * Runs one Labelvault process in the given role until SIGTERM/SIGINT (see the module comment).
 * Throws ConfigError for missing settings; the caller prints it.
 */
export async function runProcess(role: ProcessRole, env?: Record<string, string | undefined>): Promise<void> {
  const config = loadConfig(env);
  checkRole(config, role);
  const deps = await openDeps(config, { migrate: false, role });
  let http: HttpSide | undefined;
  let probes: FastifyInstance | undefined;
  if (role === 'worker') {
    probes = await listenProbes(deps, config);
    await waitForMigrations(deps, probes.log);
    probes.log.info({ concurrency: config.jobs.workerConcurrency }, `Labelvault ${deps.version} worker taking jobs`);
  } else {
    http = await startHttp(deps, config, role);
  }
  const log = (http?.app ?? probes)!.log;
  sweepAtStart(config, log);
  const stopRecurringJobs = role === 'http' ? () => undefined : startRecurringJobs(deps.jobs, (err) => log.error({ err }, 'recurring job not enqueued'));
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal, graceSeconds: config.shutdown.graceMs / 1000 }, 'shutting down: finishing requests and running jobs');
    stopRecurringJobs();
    http?.redirect?.close();
    // Fastify stops accepting, answers 503 on kept-alive connections and waits for in-flight
    // requests; those still open after the grace period lose their connection (an import then
    // rolls back: it completes or leaves nothing), so the process stops before it is killed.
    const cutOff = setTimeout(() => http?.app.server.closeAllConnections(), config.shutdown.graceMs).unref();
    await http?.app.close();
    clearTimeout(cutOff);
    await http?.settled(SETTLE_MS);
    await deps.close();
    await probes?.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
