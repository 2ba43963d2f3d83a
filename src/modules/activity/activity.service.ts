/**
 * Reading the logs: the raw request log in Label Studio Enterprise's activity-log shape (each
 * request with the audit events it recorded), and the semantic audit events themselves, paged
 * or streamed as JSONL / CSV. Always scoped to the caller's organization.
 */
import { sql, type SqlBool } from 'kysely';
import type { AppDeps } from '../../app-deps.js';
import type { Db } from '../../db/database.js';
import { containsText } from '../../db/sql-helpers.js';
import type { Actor } from '../../http/actor.js';
import { invalid } from '../../http/errors.js';
import { pageWindow } from '../../http/common-schemas.js';

export interface ActivityQuery {
  user?: number | undefined;
  project?: number | undefined;
  /** Label Studio's meaning: the workspace (organization) Owner's user id. */
  workspace?: number | undefined;
  /** Ours: a workspace's id, to keep the requests about its projects. */
  workspace_id?: number | undefined;
  method?: string | undefined;
  start_date?: string | undefined;
  end_date?: string | undefined;
  search?: string | undefined;
  ordering?: string | undefined;
  page?: number | undefined;
  page_size?: number | undefined;
  /** Label Studio's aliases of `page` and `page_size`. */
  start?: number | undefined;
  length?: number | undefined;
  action?: string | undefined;
  object_type?: string | undefined;
}

function isoOrRefuse(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalid({ [field]: ['A date or date-time (ISO 8601).'] });
  return new Date(t).toISOString();
}

/**
 * `GET /api/activity-logs/`: `{data, recordsTotal, recordsFiltered}`; a page past the end is 404.
 * `workspace` is, as in Label Studio Enterprise, the id of the workspace owner (the Owner of the
 * organization): the caller's own organization's Owner keeps everything, any other id nothing.
 * `workspace_id` keeps the requests about that workspace's projects (the route has already
 * checked the caller sees it).
 */
export async function listActivity(deps: AppDeps, actor: Actor, q: ActivityQuery) {
  const owner = await deps.db.selectFrom('memberships').select('user_id').where('organization_id', '=', actor.organizationId).where('role', '=', 'OW').executeTakeFirst();
  const ownerId = owner?.user_id ?? null;
  const org = deps.db.selectFrom('request_logs').where('organization_id', '=', actor.organizationId);
  let f = org;
  if (q.workspace !== undefined && q.workspace !== ownerId) f = f.where(sql<SqlBool>`1 = 0`);
  if (q.user !== undefined) f = f.where('user_id', '=', q.user);
  if (q.project !== undefined) f = f.where('project_id', '=', q.project);
  if (q.workspace_id !== undefined) {
    const ws = q.workspace_id;
    f = f.where('project_id', 'in', (eb) => eb.selectFrom('projects').select('projects.id').where('projects.workspace_id', '=', ws).where('projects.organization_id', '=', actor.organizationId));
  }
  if (q.method && q.method !== 'all') f = f.where('method', '=', q.method);
  const start = isoOrRefuse('start_date', q.start_date);
  const end = isoOrRefuse('end_date', q.end_date);
  if (start) f = f.where('created_at', '>=', start);
  if (end) f = f.where('created_at', '<=', end);
  if (q.search) {
    const text = q.search;
    f = f.where((eb) => eb.or([containsText('url', text), containsText('email', text)]));
  }
  if (q.action || q.object_type) {
    f = f.where(({ exists, selectFrom }) => {
      let sub = selectFrom('audit_events as e')
        .select('e.id')
        .whereRef('e.id', '>=', 'request_logs.first_event_id')
        .whereRef('e.id', '<=', 'request_logs.last_event_id')
        .whereRef('e.request_id', '=', 'request_logs.request_id');
      if (q.action) sub = sub.where('e.action', '=', q.action);
      if (q.object_type) sub = sub.where('e.object_type', '=', q.object_type);
      return exists(sub);
    });
  }
  const count = async (b: typeof org) => Number((await b.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const [total, filtered] = await Promise.all([count(org), count(f)]);
  const w = pageWindow({ page: q.page ?? q.start, page_size: q.page_size ?? q.length }, filtered);
  const desc = (q.ordering ?? '-datetime').startsWith('-');
  const rows = await f.selectAll().orderBy('id', desc ? 'desc' : 'asc').limit(w.size).offset(w.offset).execute();
  // Each request's events lie in the id range it recorded (primary-key ranges, no request_id index).
  const ranged = rows.filter((r) => r.first_event_id !== null && r.last_event_id !== null);
  const events = ranged.length
    ? await deps.db
        .selectFrom('audit_events')
        .select(['request_id', 'action', 'object_type', 'object_id', 'project_id', 'changes'])
        .where((eb) => eb.or(ranged.map((r) => eb.and([eb('id', '>=', r.first_event_id!), eb('id', '<=', r.last_event_id!), eb('request_id', '=', r.request_id)]))))
        .orderBy('id')
        .execute()
    : [];
  const data = rows.map((r) => ({
    id: r.id,
    datetime: r.created_at,
    email: r.email,
    user_id: r.user_id,
    organization_id: r.organization_id,
    project_id: r.project_id,
    request_method: r.method,
    request_url: r.url,
    response_code: String(r.status),
    duration: r.duration_ms,
    ip_address: r.ip,
    user_agent: r.user_agent,
    http_referer: r.referer,
    auth_method: r.auth_method,
    request_id: r.request_id,
    // Label Studio's fields: the session is not recorded per request; the workspace owner is the organization's Owner.
    user_session: r.session_tag,
    workspace_owner_id: ownerId,
    extra_data: {
      events: events
        .filter((e) => e.request_id === r.request_id)
        .map((e) => ({ action: e.action, object_type: e.object_type, object_id: e.object_id, project_id: e.project_id, changes: JSON.parse(e.changes) as unknown })),
    },
  }));
  return { data, recordsTotal: total, recordsFiltered: filtered };
}

export interface EventQuery {
  action?: string | undefined;
  object_type?: string | undefined;
  object_id?: string | undefined;
  user?: number | undefined;
  project?: number | undefined;
  start_date?: string | undefined;
  end_date?: string | undefined;
}

/** The organization's audit events matching the filters, oldest first (a query to page or stream). */
export function eventsQuery(db: Db, actor: Actor, q: EventQuery) {
  let f = db.selectFrom('audit_events').where('organization_id', '=', actor.organizationId);
  if (q.action) f = f.where('action', '=', q.action);
  if (q.object_type) f = f.where('object_type', '=', q.object_type);
  if (q.object_id) f = f.where('object_id', '=', q.object_id);
  if (q.user !== undefined) f = f.where('actor_user_id', '=', q.user);
  if (q.project !== undefined) f = f.where('project_id', '=', q.project);
  const start = isoOrRefuse('start_date', q.start_date);
  const end = isoOrRefuse('end_date', q.end_date);
  if (start) f = f.where('created_at', '>=', start);
  if (end) f = f.where('created_at', '<=', end);
  return f;
}

/**
 * One event as the API shows it (the chain hashes included, so exports can be checked: in `id`
 * order on SQLite, in `seq` order on PostgreSQL, where `prev_hash` and `seq` are null until the
 * event is sealed, within about a second of its commit, and `hash` is meanwhile its content HMAC).
 */
export function eventOut(e: { id: number; created_at: string; organization_id: number | null; actor_user_id: number | null; actor_email: string; auth_method: string; ip: string; user_agent: string; request_id: string; action: string; object_type: string; object_id: string | null; project_id: number | null; changes: string; prev_hash: string | null; hash: string; seq: number | null }) {
  return { ...e, changes: JSON.parse(e.changes) as Record<string, unknown> };
}

const CSV_COLUMNS = ['id', 'created_at', 'organization_id', 'actor_user_id', 'actor_email', 'auth_method', 'ip', 'user_agent', 'request_id', 'action', 'object_type', 'object_id', 'project_id', 'changes', 'prev_hash', 'hash', 'seq'] as const;

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  // A leading =, +, - or @ would be run as a formula by spreadsheet programs.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Streams the matching events as JSONL or CSV, in id order, a batch at a time. */
export async function* exportEvents(db: Db, actor: Actor, q: EventQuery, format: 'jsonl' | 'csv'): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  let after = 0;
  for (;;) {
    const rows = await eventsQuery(db, actor, q).selectAll().where('id', '>', after).orderBy('id').limit(1000).execute();
    if (rows.length === 0) return;
    let chunk = '';
    for (const r of rows) {
      chunk += format === 'jsonl' ? `${JSON.stringify(eventOut(r))}\n` : `${CSV_COLUMNS.map((c) => csvCell(r[c])).join(',')}\r\n`;
    }
    yield chunk;
    after = rows[rows.length - 1]!.id;
  }
}
