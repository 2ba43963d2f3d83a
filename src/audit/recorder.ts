/**
 * THE audit recorder: the only writer of `audit_events`. Events are chained by an HMAC over each
 * event's content and the previous event's hash (key derived from the server secret), so an edit,
 * deletion or reordering breaks the chain. Events are written inside the caller's transaction: no
 * change without its event, no event for a change that rolled back.
 *
 * One INSERT per event, prepared once:
 * - SQLite (one writer at a time): the event is chained as it is written. The predecessor's hash
 *   comes from memory; the insert trigger (migration 0009) skips an event that does not link to
 *   the real last event, and only then is the last hash read and the insert repeated. The
 *   statement runs straight on the connection the transaction holds.
 * - PostgreSQL (many writers on many nodes): the event is written unsealed, its hash the HMAC of
 *   its content alone, with no lock and no read; after commit the sealer (sealer.ts) chains
 *   committed events in batches. Writers never wait for each other (migration 0012).
 */
import { randomBytes } from 'node:crypto';
import { CompiledQuery, PostgresAdapter, type Transaction } from 'kysely';
import type SQLite from 'better-sqlite3';
import { sqliteOfTransaction, type Db } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { Secrets } from '../security/secret-key.js';
import type { AuditAction } from './actions.js';
import { chainKey, GENESIS_HASH, hashEvent, type HashedFields } from './chain.js';
import { notifySealer } from './sealer.js';

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

/** A secret's whole value masked: every non-null leaf becomes "***", objects and arrays keep their shape. */
function mask(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map(mask);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isMarker(k, v) ? v : mask(v)]));
  return '***';
}

const NAME = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * The one shape kept under a secret key: `{status: 'changed', fields: ['aws_access_key_id']}` says
 * WHICH secrets changed and how, never their values (a lowercase word, a list of field names).
 */
const isMarker = (k: string, v: unknown): boolean =>
  (k === 'fields' && Array.isArray(v) && v.every((x) => typeof x === 'string' && NAME.test(x))) || (k === 'status' && typeof v === 'string' && NAME.test(v));

/** Replaces every value under a secret-looking key with "***", recursively (see mask). */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_FIELD.test(k) ? mask(v) : redact(v)]));
  }
  return value;
}

/** Column order of the recorder's one INSERT (the hashed fields, then the hash). */
const COLUMNS = ['prev_hash', 'created_at', 'organization_id', 'actor_user_id', 'actor_email', 'auth_method', 'ip', 'user_agent', 'request_id', 'action', 'object_type', 'object_id', 'project_id', 'changes', 'nonce', 'hash'] as const;
const INSERT_SQLITE = `insert into audit_events (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`;
const INSERT_PG = `insert into audit_events (${COLUMNS.join(', ')}) values (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) returning id`;
/** The fields an event is built from; its hash is filled in by the writer. */
type NewEvent = HashedFields & { hash: string };
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

/** The same through Kysely (a SQLite database not opened by openDatabase). */
function kyselyAppender(trx: Transaction<Database>, insert: string) {
  return {
    insert: async (values: unknown[]) => {
      const r = await trx.executeQuery<{ id: number | string }>(CompiledQuery.raw(insert, values));
      return { inserted: r.numAffectedRows === 1n, id: Number(r.rows[0]?.id ?? r.insertId) };
    },
    lastHash: () => lastHash(trx),
  };
}

function buildEvent(source: AuditSource, d: AuditDetails, prevHash: string | null, nonce: string | null): NewEvent {
  return {
    prev_hash: prevHash,
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
    nonce,
    hash: '',
  };
}

/**
 * PostgreSQL: one INSERT of the unsealed event (content HMAC, no predecessor, a unique random
 * nonce so the row cannot be inserted twice); the sealer chains it after commit.
 */
async function appendUnsealed(trx: Transaction<Database>, secrets: Secrets, source: AuditSource, d: AuditDetails): Promise<number> {
  const row = buildEvent(source, d, null, randomBytes(16).toString('base64url'));
  row.hash = hashEvent(chainKey(secrets), row);
  const r = await trx.executeQuery<{ id: number | string }>(CompiledQuery.raw(INSERT_PG, COLUMNS.map((c) => row[c])));
  const id = Number(r.rows[0]?.id);
  notifySealer(trx);
  source.onRecorded?.(id);
  return id;
}

async function appendInTransaction(trx: Transaction<Database>, secrets: Secrets, source: AuditSource, d: AuditDetails): Promise<number> {
  const adapter = trx.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return appendUnsealed(trx, secrets, source, d);
  const handle = sqliteOfTransaction(trx);
  const append = handle ? sqliteAppender(handle) : kyselyAppender(trx, INSERT_SQLITE);
  let head = heads.get(adapter);
  if (!head) heads.set(adapter, (head = { hash: undefined }));
  const row = buildEvent(source, d, head.hash ?? (await append.lastHash()), null);
  // Twice at most: after a skipped insert this transaction holds SQLite's write lock, so the re-read is final.
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
