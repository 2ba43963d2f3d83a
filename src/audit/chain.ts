/**
 * The audit chain's hashing, checkpoint signatures and verification (`labelvault audit verify`).
 *
 * Chain order: `id` on SQLite (events are chained as they are written, one writer at a time);
 * `seq` on PostgreSQL (events are chained by the sealer after commit, see sealer.ts). Unsealed
 * PostgreSQL events carry the HMAC of their content alone and no predecessor.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { PostgresAdapter, type Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { AuditCheckpointsTable, AuditEventsTable, Database } from '../db/schema.js';
import { safeEqual, type Secrets } from '../security/secret-key.js';

export const GENESIS_HASH = 'genesis';

/** The advisory lock (PostgreSQL) held by whoever extends or prunes the chain: the sealer and the pruner. */
export const CHAIN_LOCK = 7240311;

export type HashedFields = Omit<AuditEventsTable, 'id' | 'hash' | 'seq'>;

const hmacKeys = new WeakMap<Secrets, KeyObject>();

/** The chain key as a KeyObject, imported once per Secrets (createHmac would import a Buffer key on every call). */
export function chainKey(secrets: Secrets): KeyObject {
  let k = hmacKeys.get(secrets);
  if (!k) {
    k = createSecretKey(secrets.key('audit'));
    hmacKeys.set(secrets, k);
  }
  return k;
}

/**
 * The chained hash of one event: HMAC(key, previous hash + canonical content). With `prev_hash`
 * null (an unsealed PostgreSQL event) it is the HMAC of the content alone.
 */
export function hashEvent(key: Buffer | KeyObject, e: HashedFields): string {
  const canonical = JSON.stringify([
    e.prev_hash,
    e.created_at,
    e.organization_id,
    e.actor_user_id,
    e.actor_email,
    e.auth_method,
    e.ip,
    e.user_agent,
    e.request_id,
    e.action,
    e.object_type,
    e.object_id,
    e.project_id,
    e.changes,
    // Events without a nonce (SQLite's, and PostgreSQL's from before migration 0014) hash as they always did.
    ...(e.nonce === null || e.nonce === undefined ? [] : [e.nonce]),
  ]);
  return createHmac('sha256', key).update(canonical).digest('hex');
}


/** The column that orders the chain: `seq` on PostgreSQL, `id` on SQLite. */
export function chainOrder(db: Pick<Db, 'getExecutor'>): 'seq' | 'id' {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'seq' : 'id';
}

/** The signed fields of a pruning checkpoint. */
export type CheckpointFields = Omit<AuditCheckpointsTable, 'id' | 'signature'>;

/** The signature of a pruning checkpoint: HMAC with the server secret (purpose "audit"). */
export function signCheckpoint(secrets: Secrets, c: CheckpointFields): string {
  return secrets.mac('audit', 'audit-checkpoint', c.created_at, c.last_event_id, c.last_event_hash, c.pruned_count, c.retention_days);
}

/** Result of walking the chain: the first broken event (or a bad checkpoint), if any. */
export interface ChainReport {
  checked: number;
  ok: boolean;
  brokenAtId?: number;
  reason?: string;
  /** When events were pruned: the checkpoint the walk started from (its id and last pruned position). */
  checkpoint?: { id: number; lastEventId: number };
  /** PostgreSQL: committed events not sealed yet (each checked against its content HMAC); absent when none. */
  unsealed?: number;
  /** The last chained event verified: keep it somewhere else and pass it back as `expectHead` later. */
  head?: ChainAnchor;
}

/** A place in the chain and the hash there, as `position:hash` (position: id on SQLite, seq on PostgreSQL). */
export interface ChainAnchor {
  position: number;
  hash: string;
}

/** Parses `position:hash` (as `audit verify` prints it); undefined when malformed. */
export function parseAnchor(text: string): ChainAnchor | undefined {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text.trim());
  return m ? { position: Number(m[1]), hash: m[2]! } : undefined;
}

/**
 * Walks the chain in its order and reports the first event whose link or hash is wrong. When
 * events were pruned, the walk starts from the newest checkpoint: its signature must match, no
 * event at or before its last pruned position may remain, and the first remaining event must
 * link to the hash it recorded. On PostgreSQL, events not sealed yet are then checked one by one
 * against the HMAC of their content (an edited or forged unsealed event is reported too).
 */
export async function verifyAuditChain(db: Db, secrets: Secrets, opts: { expectHead?: ChainAnchor } = {}): Promise<ChainReport> {
  // One snapshot for the whole walk, so a prune or seal committing meanwhile is seen all or nothing.
  const tx = db.getExecutor().adapter instanceof PostgresAdapter ? db.transaction().setIsolationLevel('repeatable read') : db.transaction();
  return tx.execute((trx) => walkChain(trx, secrets, opts));
}

async function walkChain(db: Transaction<Database>, secrets: Secrets, opts: { expectHead?: ChainAnchor }): Promise<ChainReport> {
  const key = chainKey(secrets);
  const anchor = opts.expectHead;
  let head: ChainAnchor | undefined;
  const pos = chainOrder(db);
  let prev = GENESIS_HASH;
  let checked = 0;
  let after = 0;
  const cp = await db.selectFrom('audit_checkpoints').selectAll().orderBy('last_event_id', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const from = cp && { checkpoint: { id: cp.id, lastEventId: cp.last_event_id } };
  if (cp) {
    if (!safeEqual(signCheckpoint(secrets, cp), cp.signature)) {
      return { checked, ok: false, reason: `pruning checkpoint ${cp.id} does not match its signature (checkpoint edited)`, ...from };
    }
    const early = await db.selectFrom('audit_events').select('id').where(pos, '<=', cp.last_event_id).orderBy(pos).limit(1).executeTakeFirst();
    if (early) return { checked, ok: false, brokenAtId: early.id, reason: 'event at or before the pruning checkpoint (inserted, or checkpoint moved)', ...from };
    prev = cp.last_event_hash;
    after = cp.last_event_id;
    head = { position: after, hash: prev };
  }
  for (;;) {
    const rows = await db.selectFrom('audit_events').selectAll().where(pos, '>', after).orderBy(pos).limit(1000).execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      if (r.prev_hash !== prev) return { checked, ok: false, brokenAtId: r.id, reason: 'previous-hash link does not match (event deleted or reordered)', ...from };
      const { id: _id, hash, seq: _seq, ...fields } = r;
      if (hashEvent(key, fields) !== hash) return { checked, ok: false, brokenAtId: r.id, reason: 'content does not match its hash (event edited)', ...from };
      prev = hash;
      checked += 1;
      after = Number(r[pos]);
      if (anchor && after === anchor.position && hash !== anchor.hash) {
        return { checked, ok: false, brokenAtId: r.id, reason: `the event at the expected head ${anchor.position} has another hash (the chain was rewritten from there)`, ...from };
      }
    }
  }
  if (after > 0) head = { position: after, hash: prev };
  const missing = anchorMissing(anchor, head, cp && { position: cp.last_event_id, hash: cp.last_event_hash });
  if (missing) return { checked, ok: false, reason: missing, ...from, ...(head && { head }) };
  if (pos === 'id') return { checked, ok: true, ...from, ...(head && { head }) };
  let unsealed = 0;
  for (let afterId = 0; ; ) {
    const rows = await db.selectFrom('audit_events').selectAll().where('seq', 'is', null).where('id', '>', afterId).orderBy('id').limit(1000).execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      const { id: _id, hash, seq: _seq, ...fields } = r;
      if (fields.prev_hash !== null || hashEvent(key, fields) !== hash) {
        return { checked, ok: false, brokenAtId: r.id, reason: 'unsealed event does not match its content HMAC (edited, or written outside the recorder)', ...from, unsealed };
      }
      unsealed += 1;
      afterId = r.id;
    }
  }
  return { checked, ok: true, ...from, ...(unsealed > 0 && { unsealed }), ...(head && { head }) };
}

/**
 * Why an expected head is not in the chain: the chain ends before it (events at the end removed),
 * or the checkpoint sits exactly there with another hash. A head pruned since cannot be checked.
 */
function anchorMissing(anchor: ChainAnchor | undefined, head: ChainAnchor | undefined, checkpoint: ChainAnchor | undefined): string | undefined {
  if (!anchor) return undefined;
  if (checkpoint && anchor.position === checkpoint.position && anchor.hash !== checkpoint.hash) return `the pruning checkpoint at the expected head ${anchor.position} has another hash (the chain was rewritten)`;
  if (checkpoint && anchor.position <= checkpoint.position) return undefined;
  if (!head || head.position < anchor.position) return `the chain ends at ${head?.position ?? 0}, before the expected head ${anchor.position} (events at the end were removed)`;
  return undefined;
}
