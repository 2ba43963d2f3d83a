/**
 * THE audit recorder: the only writer of `audit_events`. Each event is chained to the previous
 * one by an HMAC over its content and the previous hash (key derived from the server secret), so
 * an edit, deletion or reordering breaks the chain. Events are written inside the caller's
 * transaction: no change without its event, no event for a change that rolled back.
 */
import { createHmac } from 'node:crypto';
import { PostgresAdapter, sql, type Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { AuditEventsTable, Database } from '../db/schema.js';
import type { Secrets } from '../security/secret-key.js';
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

/** The chained hash of one event: HMAC(key, previous hash + canonical content). */
export function hashEvent(key: Buffer, e: HashedFields): string {
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

async function appendInTransaction(trx: Transaction<Database>, secrets: Secrets, source: AuditSource, d: AuditDetails): Promise<void> {
  if (trx.getExecutor().adapter instanceof PostgresAdapter) {
    // Serialise writers so each event sees its true predecessor; released at commit.
    await sql`select pg_advisory_xact_lock(7240311)`.execute(trx);
  }
  const last = await trx.selectFrom('audit_events').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const row: HashedFields = {
    prev_hash: last?.hash ?? GENESIS_HASH,
    created_at: new Date().toISOString(),
    organization_id: d.organizationId !== undefined ? d.organizationId : source.organizationId,
    actor_user_id: source.actorUserId,
    actor_email: source.actorEmail,
    auth_method: source.authMethod,
    ip: source.ip,
    user_agent: source.userAgent.slice(0, 512),
    request_id: source.requestId,
    action: d.action,
    object_type: d.objectType,
    object_id: d.objectId === undefined || d.objectId === null ? null : String(d.objectId),
    project_id: d.projectId ?? null,
    changes: JSON.stringify(redact(d.changes ?? {})),
  };
  await trx.insertInto('audit_events').values({ ...row, hash: hashEvent(secrets.key('audit'), row) }).execute();
}

/**
 * Appends one event. Pass the transaction of the change it records; given the plain database
 * handle (events that record no change, such as a failed login) it opens its own.
 */
export async function recordAuditEvent(db: Db | Transaction<Database>, secrets: Secrets, source: AuditSource, details: AuditDetails): Promise<void> {
  if (db.isTransaction) {
    await appendInTransaction(db as Transaction<Database>, secrets, source, details);
  } else {
    await db.transaction().execute((trx) => appendInTransaction(trx, secrets, source, details));
  }
}

/** Result of walking the chain: the first broken event, if any. */
export interface ChainReport {
  checked: number;
  ok: boolean;
  brokenAtId?: number;
  reason?: string;
}

/** Walks the whole chain in id order and reports the first event whose link or hash is wrong. */
export async function verifyAuditChain(db: Db, secrets: Secrets): Promise<ChainReport> {
  const key = secrets.key('audit');
  let prev = GENESIS_HASH;
  let checked = 0;
  let afterId = 0;
  for (;;) {
    const rows = await db.selectFrom('audit_events').selectAll().where('id', '>', afterId).orderBy('id').limit(1000).execute();
    if (rows.length === 0) return { checked, ok: true };
    for (const r of rows) {
      if (r.prev_hash !== prev) return { checked, ok: false, brokenAtId: r.id, reason: 'previous-hash link does not match (event deleted or reordered)' };
      const { id: _id, hash, ...fields } = r;
      if (hashEvent(key, fields) !== hash) return { checked, ok: false, brokenAtId: r.id, reason: 'content does not match its hash (event edited)' };
      prev = hash;
      checked += 1;
      afterId = r.id;
    }
  }
}
