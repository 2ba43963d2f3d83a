/**
 * The server process: load config, open the database, apply migrations, bootstrap the first
 * organization and Owner, build the app and listen. The only file that listens.
 */
import type { Server } from 'node:http';
import { buildApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config/config.js';
import { openDeps } from './deps.js';
import { createRedirectServer } from './http/https-redirect.js';
import { recoverInterruptedJobs, startRecurringJobs } from './jobs/job-definitions.js';
import { bootstrapInstance } from './modules/auth/bootstrap.service.js';

/** Starts the plain-HTTP listener that only redirects to HTTPS (HTTP_REDIRECT_PORT). */
async function listenRedirect(config: Config, port: number, httpsPort: string): Promise<Server> {
  const server = createRedirectServer({ publicUrl: config.server.publicUrl, httpsPort: Number(httpsPort) || 443 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: config.server.host, port }, resolve);
  });
  return server;
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const deps = await openDeps(config);
  // In-process jobs do not survive a restart: fail what the previous process left unfinished.
  await recoverInterruptedJobs(deps);
  const app = await buildApp(deps);
  const boot = await bootstrapInstance(deps);
  if (boot.createdOwner) app.log.info({ email: boot.createdOwner }, 'created the first Owner from LABEL_STUDIO_USERNAME');
  const address = await app.listen({ host: config.server.host, port: config.server.port });
  app.log.info({ database: deps.dialect, dataDir: config.dataDir }, `Labelvault ${deps.version} listening on ${address}`);
  const stopRecurringJobs = startRecurringJobs(deps, (err) => app.log.error({ err }, 'recurring job not enqueued'));
  const redirect = config.tls?.redirectPort === undefined ? undefined : await listenRedirect(config, config.tls.redirectPort, new URL(address).port);
  if (redirect) app.log.info(`plain HTTP on port ${config.tls!.redirectPort} redirects to HTTPS`);
  if (boot.setupToken) {
    // Printed to the console only (never logged as a field): whoever can read it may become Owner.
    const base = config.server.publicUrl ?? address;
    process.stdout.write(
      `\nNo user exists yet. Create the Owner with this one-time setup link (valid until used; a restart prints a new one):\n` +
        `  ${base}/user/setup?token=${boot.setupToken}\n` +
        `or from a shell:\n` +
        `  curl -X POST ${base}/api/auth/setup -H 'content-type: application/json' \\\n` +
        `    -d '{"setup_token": "${boot.setupToken}", "email": "you@example.com", "password": "a long passphrase"}'\n\n`,
    );
  }
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    stopRecurringJobs();
    redirect?.close();
    await app.close();
    await deps.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Labelvault failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
