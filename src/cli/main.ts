#!/usr/bin/env node
/**
 * The labelvault command: the server processes (serve, worker), user and organization creation,
 * migrations and audit-chain verification against the configured database (same environment
 * variables as the server).
 */
import { Command } from 'commander';
import { parseAnchor, verifyAuditChain } from '../audit/chain.js';
import { recordAuditEvent, SYSTEM_SOURCE } from '../audit/recorder.js';
import { sealPending } from '../audit/sealer.js';
import { pruneAuditLog } from '../audit/retention.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { migrateToLatest } from '../db/database.js';
import { openDeps } from '../deps.js';
import { AppError, invalid } from '../http/errors.js';
import { createUserInFirstOrganization } from '../modules/auth/bootstrap.service.js';
import { runProcess, withStartupLock } from '../processes.js';
import { formatReport, runDoctor } from './doctor.js';
import { createOrganizationWithOwner } from '../modules/organizations/organizations.service.js';
import { issueApiToken } from '../modules/tokens/api-token.service.js';

const program = new Command('labelvault').description('Labelvault administration').showHelpAfterError();

async function withDeps<T>(fn: (deps: Awaited<ReturnType<typeof openDeps>>) => Promise<T>, migrate = true): Promise<T> {
  // Enqueue-only with Redis: an administration command never takes jobs off the shared queue.
  const deps = await openDeps(loadConfig(), { migrate, role: 'http' });
  try {
    return await fn(deps);
  } finally {
    await deps.close();
  }
}

program
  .command('serve')
  .description('run an app node: HTTP only, jobs enqueued on Redis for the workers (needs REDIS_URL and SECRET_KEY)')
  .action(() => runProcess('http'));

program
  .command('worker')
  .description('run a worker: background jobs from the Redis queue, probes on HOST:PORT (needs REDIS_URL and SECRET_KEY)')
  .action(() => runProcess('worker'));

program
  .command('migrate')
  .description('apply pending database migrations (waits for a node migrating at the same time)')
  .action(() =>
    withDeps(async (deps) => {
      const applied = await withStartupLock(deps, () => migrateToLatest(deps.db));
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    }, false),
  );

const user = program.command('user').description('manage users');
user
  .command('create')
  .description('create a user in the first organization (the first user becomes its Owner)')
  .requiredOption('--email <email>', 'email address (login name)')
  .requiredOption('--password <password>', 'password (at least 8 characters, not a common one)')
  .option('--username <username>', 'username (default: from the email)')
  .option('--token', 'also issue an API token and print it once')
  .action((opts: { email: string; password: string; username?: string; token?: boolean }) =>
    withDeps(async (deps) => {
      const u = await createUserInFirstOrganization(deps, { email: opts.email, password: opts.password, username: opts.username });
      process.stdout.write(`created user ${u.id} <${u.email}>${u.is_superuser ? ' as Owner and superuser' : ' as Annotator'}\n`);
      if (opts.token) {
        const token = await deps.db.transaction().execute(async (trx) => {
          const t = await issueApiToken(trx, deps.secrets, u.id);
          await recordAuditEvent(trx, deps.secrets, { ...SYSTEM_SOURCE, actorEmail: 'cli' }, { action: 'token.reset', objectType: 'user', objectId: u.id, changes: { via: 'labelvault user create --token' } });
          return t;
        });
        process.stdout.write(`API token (shown once): ${token}\n`);
      }
    }),
  );

const org = program.command('org').description('manage organizations');
org
  .command('create')
  .description('create an organization owned by an existing user (who keeps their current active organization)')
  .requiredOption('--title <title>', 'the organization name')
  .requiredOption('--owner <email>', 'email (or id) of the existing user who becomes its Owner')
  .action((opts: { title: string; owner: string }) =>
    withDeps(async (deps) => {
      const cli = { ...SYSTEM_SOURCE, actorEmail: 'cli' };
      const created = await createOrganizationWithOwner(deps, (db, d) => recordAuditEvent(db, deps.secrets, cli, d), { title: opts.title, owner: opts.owner });
      process.stdout.write(`created organization ${created.id} "${created.title}" owned by ${opts.owner}\n`);
    }),
  );

const audit = program.command('audit').description('audit log');
audit
  .command('verify')
  .description('walk the audit hash chain and report the first broken link (on PostgreSQL, seals committed events first); prints the head to keep')
  .option('--expect-head <position:hash>', 'a head printed by an earlier run (kept outside the database): the chain must still reach it with the same hash')
  .action((opts: { expectHead?: string }) =>
    withDeps(async (deps) => {
      const expectHead = opts.expectHead === undefined ? undefined : parseAnchor(opts.expectHead);
      if (opts.expectHead !== undefined && !expectHead) throw invalid({ 'expect-head': ['As printed by audit verify: <position>:<64 hex digits>.'] });
      await sealPending(deps.db, deps.secrets);
      const r = await verifyAuditChain(deps.db, deps.secrets, expectHead && { expectHead });
      const from = r.checkpoint ? ` after pruning checkpoint ${r.checkpoint.id} (chain positions up to ${r.checkpoint.lastEventId} pruned)` : '';
      const pending = r.unsealed ? `; ${r.unsealed} events committed since are not sealed yet (their content HMACs match)` : '';
      if (r.ok) process.stdout.write(`audit chain intact: ${r.checked} events verified${from}${pending}\n`);
      if (r.ok && r.head) process.stdout.write(`head ${r.head.position}:${r.head.hash} (keep it elsewhere; pass it later as --expect-head to detect events removed from the end)\n`);
      else {
        process.stdout.write(`audit chain BROKEN${r.brokenAtId === undefined ? '' : ` at event ${r.brokenAtId}`}: ${r.reason} (${r.checked} events verified before it)\n`);
        process.exitCode = 1;
      }
    }),
  );
audit
  .command('prune')
  .description('delete audit events older than the retention (AUDIT_RETENTION_DAYS, or --days) and write a signed checkpoint')
  .option('--days <days>', 'retention in days for this run (default: AUDIT_RETENTION_DAYS)')
  .action((opts: { days?: string }) =>
    withDeps(async (deps) => {
      if (opts.days !== undefined && !/^\d{1,5}$/.test(opts.days)) throw invalid({ days: ['A whole number of days (0 keeps everything).'] });
      const retentionDays = opts.days === undefined ? deps.config.audit.retentionDays : Number(opts.days);
      if (retentionDays === 0) {
        process.stdout.write('retention is 0 days (keep forever): nothing pruned; set AUDIT_RETENTION_DAYS or pass --days\n');
        return;
      }
      const r = await pruneAuditLog(deps, { retentionDays, source: { ...SYSTEM_SOURCE, actorEmail: 'cli' } });
      process.stdout.write(
        r.checkpoint
          ? `pruned ${r.pruned} audit events older than ${r.cutoff}; checkpoint ${r.checkpoint.id} records event ${r.checkpoint.lastEventId}\n`
          : `no audit events older than ${r.cutoff} to prune\n`,
      );
    }),
  );

program
  .command('doctor')
  .description('print a hardening report of the configuration, with a fix for each warning')
  .option('--strict', 'exit with status 1 when there is any warning (for CI pipelines)')
  .action(async (opts: { strict?: boolean }) => {
    const config = loadConfig();
    const findings = await runDoctor(config);
    process.stdout.write(formatReport(config, findings));
    if (opts.strict && findings.some((f) => f.level === 'warn')) process.exitCode = 1;
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else if (err instanceof AppError) {
    const fields = err.validationErrors ? Object.entries(err.validationErrors).map(([f, m]) => `\n  ${f}: ${m.join(' ')}`).join('') : '';
    process.stderr.write(`error: ${err.message}${fields}\n`);
  } else process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
