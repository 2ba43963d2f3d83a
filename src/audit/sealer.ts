/**
 * The audit sealer (PostgreSQL): chains committed events after the fact, in batches.
 *
 * Writers insert events unsealed (`seq` NULL, `hash` the HMAC of the content alone) and take no
 * lock, so audited writes on many app nodes never queue behind each other. A sealing pass, in one
 * short transaction holding the chain's advisory lock (skipped when another process holds it):
 * reads the chain's head, takes up to `batch` unsealed events in id order, checks each against
 * its content HMAC (an event edited or written outside the recorder is refused and stays
 * unsealed, for `audit verify` to report), numbers them after the head and writes their chained
 * hashes, all in one UPDATE (which the append-only trigger allows for exactly this).
 *
 * Every process that records events on PostgreSQL runs an {@link AuditSealer} (opened with its
 * deps): a pass shortly after each recorded event, one every `intervalMs` for events committed
 * later or by a process that stopped, and a last one on close. The CLI seals before it verifies.
 * On SQLite events are chained as they are written; everything here is a no-op there.
 */
import { PostgresAdapter, sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { Secrets } from '../security/secret-key.js';
import { CHAIN_LOCK, chainKey, GENESIS_HASH, hashEvent } from './chain.js';

/** What one call of {@link sealAuditEvents} did. */
export interface SealResult {
  /** Events sealed. */
  sealed: number;
  /** Another process held the chain's lock: nothing was done. */
  busy: boolean;
  /** Ids of unsealed events whose content does not match their HMAC (left unsealed). */
  refused: number[];
}

const isPostgres = (db: Pick<Db, 'getExecutor'>) => db.getExecutor().adapter instanceof PostgresAdapter;

/** Seals every unsealed event this transaction's snapshots can see, `batch` per transaction. */
export async function sealAuditEvents(db: Db, secrets: Secrets, opts: { batch?: number } = {}): Promise<SealResult> {
  const result: SealResult = { sealed: 0, busy: false, refused: [] };
  if (!isPostgres(db)) return result;
  const batch = opts.batch ?? 500;
  const key = chainKey(secrets);
  for (let cursor = 0; ; ) {
    const step = await db.transaction().execute(async (trx) => {
      const lock = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${CHAIN_LOCK}) as ok, set_config('labelvault.audit_seal', 'on', true)`.execute(trx);
      if (!lock.rows[0]?.ok) return null;
      const rows = await trx.selectFrom('audit_events').selectAll().where('seq', 'is', null).where('id', '>', cursor).orderBy('id').limit(batch).execute();
      if (rows.length === 0) return { sealed: 0, more: false };
      // The head: the last sealed event, or (everything pruned and nothing sealed since) the checkpoint.
      const head =
        (await trx.selectFrom('audit_events').select(['seq', 'hash']).where('seq', 'is not', null).orderBy('seq', 'desc').limit(1).executeTakeFirst()) ??
        (await trx.selectFrom('audit_checkpoints').select(['last_event_id as seq', 'last_event_hash as hash']).orderBy('last_event_id', 'desc').limit(1).executeTakeFirst());
      let seq = Number(head?.seq ?? 0);
      let prev = head?.hash ?? GENESIS_HASH;
      const ids: number[] = [];
      const seqs: number[] = [];
      const prevs: string[] = [];
      const hashes: string[] = [];
      for (const r of rows) {
        const { id, hash, seq: _seq, ...fields } = r;
        cursor = id;
        if (fields.prev_hash !== null || hashEvent(key, fields) !== hash) {
          result.refused.push(id);
          continue;
        }
        const chained = hashEvent(key, { ...fields, prev_hash: prev });
        ids.push(id);
        seqs.push((seq += 1));
        prevs.push(prev);
        hashes.push(chained);
        prev = chained;
      }
      if (ids.length > 0) {
        await sql`update audit_events as e set seq = v.seq, prev_hash = v.prev_hash, hash = v.hash
          from unnest(${ids}::bigint[], ${seqs}::bigint[], ${prevs}::text[], ${hashes}::text[]) as v(id, seq, prev_hash, hash)
          where e.id = v.id`.execute(trx);
      }
      return { sealed: ids.length, more: rows.length === batch };
    });
    if (step === null) return { ...result, busy: true };
    result.sealed += step.sealed;
    if (!step.more) return result;
  }
}

/** Seals until done, waiting while another process holds the lock (for the CLI, shutdown and tests). */
export async function sealPending(db: Db, secrets: Secrets, opts: { timeoutMs?: number } = {}): Promise<SealResult> {
  const until = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const r = await sealAuditEvents(db, secrets);
    if (!r.busy) return r;
    if (Date.now() > until) throw new Error('The audit chain stayed locked by another process; nothing was sealed.');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The sealer running in this process, per database (keyed by the Kysely adapter its transactions share). */
const sealers = new WeakMap<object, AuditSealer>();

/** Asks this process's sealer for a pass soon (called by the recorder, inside the writing transaction). */
export function notifySealer(db: Pick<Db, 'getExecutor'>): void {
  sealers.get(db.getExecutor().adapter)?.notify();
}

/** Runs sealing passes in the background for one PostgreSQL database; see the module comment. */
export class AuditSealer {
  private readonly timer: NodeJS.Timeout;
  private soon: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly reported = new Set<number>();
  /** When passes started finding the lock taken (undefined: the last pass got it). */
  private busySince: number | undefined;
  /** When each kind of warning was last given (one per kind a minute). */
  private readonly warned = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly secrets: Secrets,
    private readonly opts: { intervalMs?: number; delayMs?: number; onError?: (err: unknown) => void } = {},
  ) {
    this.timer = setInterval(() => this.kick(), opts.intervalMs ?? 1000).unref();
    sealers.set(db.getExecutor().adapter, this);
  }

  /** Schedules a pass after `delayMs` (default 20 ms: the writing transaction has usually committed by then). */
  notify(delayMs = this.opts.delayMs ?? 20): void {
    if (this.stopped || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.kick();
    }, delayMs).unref();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async pass(): Promise<void> {
    try {
      const r = await sealAuditEvents(this.db, this.secrets);
      if (r.busy) {
        this.notify(100);
        this.busySince ??= Date.now();
        // Sealing passes are short: a lock held for a minute is another session's (or a stuck one).
        if (Date.now() - this.busySince > 60_000) this.fail(new Error(`the audit chain's lock (advisory ${CHAIN_LOCK}) has been held elsewhere for ${Math.round((Date.now() - this.busySince) / 1000)} s: committed events stay unsealed until it is released`), 'busy');
      } else this.busySince = undefined;
      const fresh = r.refused.filter((id) => !this.reported.has(id));
      for (const id of fresh) this.reported.add(id);
      if (fresh.length > 0) this.fail(new Error(`audit events ${fresh.join(', ')} do not match their content HMAC and were not sealed (edited, or written outside the recorder); run \`labelvault audit verify\``));
    } catch (err) {
      // E.g. a worker started before the migrations were applied: said once a minute, not every second.
      this.fail(err, 'error');
    }
  }

  /** Reports a problem; with a `kind`, at most once a minute for that kind. */
  private fail(err: unknown, kind?: string): void {
    if (kind !== undefined) {
      const last = this.warned.get(kind);
      if (last !== undefined && Date.now() - last < 60_000) return;
      this.warned.set(kind, Date.now());
    }
    if (this.opts.onError) this.opts.onError(err);
    else process.emitWarning(`audit sealer: ${err instanceof Error ? err.message : String(err)}`);
  }

  /** Stops the timers and runs a last pass (the database must still be open). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    await this.running;
    try {
      await sealPending(this.db, this.secrets, { timeoutMs: 2000 });
    } catch (err) {
      this.fail(err);
    }
    sealers.delete(this.db.getExecutor().adapter);
  }
}
