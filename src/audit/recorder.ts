/**
 * THE audit recorder: the only writer of `audit_events`. Each event is chained to the previous
 * one by an HMAC over its content and the previous hash (key derived from the server secret), so
 * an edit, deletion or reordering breaks the chain. Events are written inside the caller's
 * transaction: no change without its event, no event for a change that rolled back.
 *
 * One INSERT per event (prepared once, no query building; on SQLite run straight on the
 * connection the transaction holds): the predecessor's hash comes from
 * memory, and the database's insert trigger (migration 0009) skips an event that does not link
 * to the real last event; only then is the last hash read and the insert repeated. On PostgreSQL
 * that trigger also takes the advisory lock that serialises writers across processes.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { CompiledQuery, PostgresAdapter, type Transaction } from 'kysely';
import type SQLite from 'better-sqlite3';
import { sqliteOfTransaction, type Db } from '../db/database.js';
import type { AuditCheckpointsTable, AuditEventsTable, Database } from '../db/schema.js';
import { safeEqual, type Secrets } from '../security/secret-key.js';
import type { AuditAction } from './actions.js';

export const GENESIS_HASH = 'genesis';
const SECRET_FIELD = /pass(word)?|secret|token|key|credential|authorization|cookie|session/i;

/** Who did it, how and from where. */
export interface AuditSource {
  organizationId: number | null;
  actorUserId: number | null;
  actorEmail: string;
  authMethod: 'session' | 'token' | 'pat' | 'anonymous' | 'system';
  ip: string;
  userAgent: string;
  requestId: string;
  /** Told the id of each event recorded for this source (the request log keeps a request's range). */
  onRecorded?: (eventId: number) => void;
}

/** What happened. `changes` is `{field: {before, after}}` or details; secret fields are masked. */
export interface AuditDetails {
  action: AuditAction;
  objectType: string;
  objectId?: string | number | null;
  projectId?: number | null;
  organizationId?: number | null;
  changes?: Record<string, unknown>;
}

export const SYSTEM_SOURCE: AuditSource = {
  organizationId: null,
  actorUserId: null,
  actorEmail: 'system',
  authMethod: 'system',
  ip: '',
  userAgent: '',
  requestId: '',
};

/** Replaces the value of every secret-looking key with "***", recursively. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_FIELD.test(k) && v !== null && typeof v !== 'object' ? '***' : redact(v)]),
    );
  }
  return value;
}

type HashedFields = Omit<AuditEventsTable, 'id' | 'hash'>;

const hmacKeys = new WeakMap<Secrets, KeyObject>();

/** The chain key as a KeyObject, imported once per Secrets (createHmac would import a Buffer key on every call). */
function chainKey(secrets: Secrets): KeyObject {
  let k = hmacKeys.get(secrets);
  if (!k) {
    k = createSecretKey(secrets.key('audit'));
    hmacKeys.set(secrets, k);
  }
  return k;
}

/** The chained hash of one event: HMAC(key, previous hash + canonical content). */
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
  ]);
  return createHmac('sha256', key).update(canonical).digest('hex');
}

/** Column order of the recorder's one INSERT (the hashed fields, then the hash). */
const COLUMNS = ['prev_hash', 'created_at', 'organization_id', 'actor_user_id', 'actor_email', 'auth_method', 'ip', 'user_agent', 'request_id', 'action', 'object_type', 'object_id', 'project_id', 'changes', 'hash'] as const;
const INSERT_SQLITE = `insert into audit_events (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`;
const INSERT_PG = `insert into audit_events (${COLUMNS.join(', ')}) values (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) returning id`;
const LAST_HASH = 'select hash from audit_events order by id desc limit 1';

/**
 * The hash this process last appended, per database (keyed by its Kysely adapter, which a
 * database and its transactions share). Only a guess: the insert trigger (migration 0009) skips
 * an event whose predecessor is not the real last event, and the recorder then re-reads it. So a
 * stale guess (another process wrote, or the transaction that wrote it rolled back) costs one
 * extra read, never a fork.
 */
const heads = new WeakMap<object, { hash: string | undefined }>();

async function lastHash(trx: Transaction<Database>): Promise<string> {
  const r = await trx.executeQuery<{ hash: string }>(CompiledQuery.raw(LAST_HASH, []));
  return r.rows[0]?.hash ?? GENESIS_HASH;
}

/** The recorder's two statements, prepared once per SQLite connection. */
const sqliteStatements = new WeakMap<SQLite.Database, { insert: SQLite.Statement; last: SQLite.Statement }>();

/**
 * Runs the INSERT (and, when it was skipped, reads the last hash) straight on the SQLite
 * connection the transaction holds: the same statements in the same transaction, without
 * Kysely's per-query machinery, which costs as much as the insert itself on this hot path.
 */
function sqliteAppender(handle: SQLite.Database) {
  let s = sqliteStatements.get(handle);
  if (!s) sqliteStatements.set(handle, (s = { insert: handle.prepare(INSERT_SQLITE), last: handle.prepare(LAST_HASH).pluck() }));
  const { insert, last } = s;
  return {
    insert: (values: unknown[]) => {
      const r = insert.run(values);
      return { inserted: r.changes === 1, id: Number(r.lastInsertRowid) };
    },
    lastHash: () => (last.get() as string | undefined) ?? GENESIS_HASH,
  };
}

/** The same through Kysely (PostgreSQL, or a database not opened by openDatabase). */
function kyselyAppender(trx: Transaction<Database>, insert: string) {
  return {
    insert: async (values: unknown[]) => {
      const r = await trx.executeQuery<{ id: number | string }>(CompiledQuery.raw(insert, values));
      return { inserted: r.numAffectedRows === 1n, id: Number(r.rows[0]?.id ?? r.insertId) };
    },
    lastHash: () => lastHash(trx),
  };
}

async function appendInTransaction(trx: Transaction<Database>, secrets: Secrets, source: AuditSource, d: AuditDetails): Promise<number> {
  const adapter = trx.getExecutor().adapter;
  const handle = sqliteOfTransaction(trx);
  const append = handle ? sqliteAppender(handle) : kyselyAppender(trx, adapter instanceof PostgresAdapter ? INSERT_PG : INSERT_SQLITE);
  let head = heads.get(adapter);
  if (!head) heads.set(adapter, (head = { hash: undefined }));
  const row: HashedFields & { hash: string } = {
    prev_hash: head.hash ?? (await append.lastHash()),
    created_at: new Date().toISOString(),
    organization_id: d.organizationId !== undefined ? d.organizationId : source.organizationId,
    actor_user_id: source.actorUserId,
    actor_email: source.actorEmail,
    auth_method: source.authMethod,
    ip: source.ip,
    user_agent: source.userAgent.length > 512 ? source.userAgent.slice(0, 512) : source.userAgent,
    request_id: source.requestId,
    action: d.action,
    object_type: d.objectType,
    object_id: d.objectId === undefined || d.objectId === null ? null : String(d.objectId),
    project_id: d.projectId ?? null,
    changes: JSON.stringify(redact(d.changes ?? {})),
    hash: '',
  };
  // Twice at most: after a skipped insert this transaction holds the chain's write lock (the
  // SQLite write lock, or the advisory lock the PostgreSQL trigger took), so the re-read is final.
  for (let attempt = 0; attempt < 3; attempt++) {
    row.hash = hashEvent(chainKey(secrets), row);
    const r = await append.insert(COLUMNS.map((c) => row[c]));
    if (r.inserted) {
      head.hash = row.hash;
      source.onRecorded?.(r.id);
      return r.id;
    }
    row.prev_hash = await append.lastHash();
  }
  head.hash = undefined;
  throw new Error('The audit event was not appended: the chain head kept moving.');
}

/**
 * Appends one event. Pass the transaction of the change it records; given the plain database
 * handle (events that record no change, such as a failed login) it opens its own.
 */
export async function recordAuditEvent(db: Db | Transaction<Database>, secrets: Secrets, source: AuditSource, details: AuditDetails): Promise<number> {
  if (db.isTransaction) return appendInTransaction(db as Transaction<Database>, secrets, source, details);
  return db.transaction().execute((trx) => appendInTransaction(trx, secrets, source, details));
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
  /** When events were pruned: the checkpoint the walk started from (its id and last pruned event). */
  checkpoint?: { id: number; lastEventId: number };
}

/**
 * Walks the chain in id order and reports the first event whose link or hash is wrong. When
 * events were pruned, the walk starts from the newest checkpoint: its signature must match, no
 * event at or before its last pruned id may remain, and the first remaining event must link to
 * the hash it recorded.
 */
export async function verifyAuditChain(db: Db, secrets: Secrets): Promise<ChainReport> {
  const key = chainKey(secrets);
  let prev = GENESIS_HASH;
  let checked = 0;
  let afterId = 0;
  const cp = await db.selectFrom('audit_checkpoints').selectAll().orderBy('last_event_id', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const from = cp && { checkpoint: { id: cp.id, lastEventId: cp.last_event_id } };
  if (cp) {
    if (!safeEqual(signCheckpoint(secrets, cp), cp.signature)) {
      return { checked, ok: false, reason: `pruning checkpoint ${cp.id} does not match its signature (checkpoint edited)`, ...from };
    }
    const early = await db.selectFrom('audit_events').select('id').where('id', '<=', cp.last_event_id).orderBy('id').limit(1).executeTakeFirst();
    if (early) return { checked, ok: false, brokenAtId: early.id, reason: 'event at or before the pruning checkpoint (inserted, or checkpoint moved)', ...from };
    prev = cp.last_event_hash;
    afterId = cp.last_event_id;
  }
  for (;;) {
    const rows = await db.selectFrom('audit_events').selectAll().where('id', '>', afterId).orderBy('id').limit(1000).execute();
    if (rows.length === 0) return { checked, ok: true, ...from };
    for (const r of rows) {
      if (r.prev_hash !== prev) return { checked, ok: false, brokenAtId: r.id, reason: 'previous-hash link does not match (event deleted or reordered)', ...from };
      const { id: _id, hash, ...fields } = r;
      if (hashEvent(key, fields) !== hash) return { checked, ok: false, brokenAtId: r.id, reason: 'content does not match its hash (event edited)', ...from };
      prev = hash;
      checked += 1;
      afterId = r.id;
    }
  }
}
