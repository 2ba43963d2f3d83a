/**
 * The raw request log, as Label Studio keeps it: method, URL (secrets masked), status, duration,
 * user, IP and user agent of every API request. Entries are buffered and written in batches
 * (every second, or every 200 entries) so logging never sits on a request's path; the semantic
 * audit events (recorder.ts) are the transactional record, found from these by the range of event
 * ids each request wrote (and its request id within that range). A login request is attributed to
 * the account it names when that account exists (its active organization, so the organization's
 * Administrators see failed logins too); one naming an unknown email stays without organization.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/database.js';
import type { Insertable } from 'kysely';
import type { RequestLogsTable } from '../db/schema.js';
import { maskUrl } from '../http/logging.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who a request is about when it carries no credentials of its own: the account a login
     * names (set by the login route). Takes precedence over `actor` in the log entry.
     */
    logSubject: LogSubject | null;
  }
}

/** The user, organization and authentication method a request-log entry is attributed to. */
export interface LogSubject {
  organizationId: number | null;
  userId: number;
  email: string;
  authMethod: string;
}

const FLUSH_MS = 1000;
const FLUSH_AT = 200;
const LOGGED = /^\/(api|data)\//;
const PROJECT_IN_URL = /^\/api\/projects\/(\d+)(\/|\?|$)/;

/** Buffers request-log entries and writes them in batches. */
export class RequestLogWriter {
  private buffer: Insertable<RequestLogsTable>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Queues one entry. */
  push(entry: Insertable<RequestLogsTable>): void {
    this.buffer.push(entry);
    if (this.buffer.length >= FLUSH_AT) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  /** Writes what is buffered (tests call it to read their own requests back). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    this.writing = this.writing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.db.insertInto('request_logs').values(batch).execute();
      } catch (err) {
        this.onError(err);
      }
    });
    return this.writing;
  }
}

/** Label Studio's `user_session`: a short label of the session, derived one way from its stored hash (never usable to sign in). */
export function sessionTag(sessionTokenHash: string): string {
  return createHash('sha256').update(`labelvault-session-tag:${sessionTokenHash}`).digest('hex').slice(0, 8);
}

function entryOf(req: FastifyRequest, reply: FastifyReply): Insertable<RequestLogsTable> {
  const who = req.logSubject ?? req.actor;
  const project = PROJECT_IN_URL.exec(req.url)?.[1];
  return {
    created_at: new Date().toISOString(),
    organization_id: who?.organizationId ?? null,
    user_id: who?.userId ?? null,
    email: who?.email ?? '',
    auth_method: who?.authMethod ?? 'anonymous',
    method: req.method,
    url: maskUrl(req.url).slice(0, 1024),
    status: reply.statusCode,
    duration_ms: Math.round(reply.elapsedTime),
    ip: req.ip,
    user_agent: String(req.headers['user-agent'] ?? '').slice(0, 512),
    referer: maskUrl(String(req.headers.referer ?? '')).slice(0, 1024),
    project_id: project === undefined ? null : Number(project),
    request_id: String(req.id),
    first_event_id: req.auditRange?.first ?? null,
    last_event_id: req.auditRange?.last ?? null,
    session_tag: req.sessionTokenHash === null ? null : sessionTag(req.sessionTokenHash),
  };
}

/** Logs every /api and /data request of the app; flushes when the app closes. */
export function registerRequestLog(app: FastifyInstance, db: Db): RequestLogWriter {
  const writer = new RequestLogWriter(db, (err) => app.log.error({ err }, 'request log write failed'));
  app.decorateRequest('logSubject', null);
  app.addHook('onResponse', async (req, reply) => {
    if (LOGGED.test(req.url)) writer.push(entryOf(req, reply));
  });
  app.addHook('onClose', async () => writer.flush());
  return writer;
}
