/** The activity log (Label Studio Enterprise's /api/activity-logs) and the audit events. */
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { ErrorResponse, Id, pageEnvelope, pageWindow, Paginated, PagingQuery } from '../../http/common-schemas.js';
import { defineRoute } from '../../http/route.js';
import { eventOut, eventsQuery, exportEvents, listActivity } from './activity.service.js';

const Str = (max = 200) => Type.Optional(Type.String({ maxLength: max }));
const EventFilters = {
  action: Str(100),
  object_type: Str(100),
  object_id: Str(100),
  user: Type.Optional(Id()),
  project: Type.Optional(Id()),
  start_date: Str(40),
  end_date: Str(40),
};
const Event = Type.Object(
  {
    id: Type.Integer(),
    created_at: Type.String(),
    organization_id: Type.Union([Type.Integer(), Type.Null()]),
    actor_user_id: Type.Union([Type.Integer(), Type.Null()]),
    actor_email: Type.String(),
    auth_method: Type.String(),
    ip: Type.String(),
    user_agent: Type.String(),
    request_id: Type.String(),
    action: Type.String(),
    object_type: Type.String(),
    object_id: Type.Union([Type.String(), Type.Null()]),
    project_id: Type.Union([Type.Integer(), Type.Null()]),
    changes: Type.Record(Type.String(), Type.Unknown()),
    prev_hash: Type.Union([Type.String(), Type.Null()], { description: 'Hash of the previous event in chain order; null on PostgreSQL until the event is sealed' }),
    hash: Type.String(),
    seq: Type.Union([Type.Integer(), Type.Null()], { description: 'Place in the chain on PostgreSQL (null until sealed); always null on SQLite, where the chain follows id' }),
  },
  { additionalProperties: false },
);
const ActivityLog = Type.Object(
  {
    id: Type.Integer(),
    datetime: Type.String(),
    email: Type.String(),
    user_id: Type.Union([Type.Integer(), Type.Null()]),
    organization_id: Type.Union([Type.Integer(), Type.Null()]),
    project_id: Type.Union([Type.Integer(), Type.Null()]),
    request_method: Type.String(),
    request_url: Type.String(),
    response_code: Type.String(),
    duration: Type.Integer(),
    ip_address: Type.String(),
    user_agent: Type.String(),
    http_referer: Type.String(),
    auth_method: Type.String(),
    request_id: Type.String(),
    user_session: Type.Union([Type.String({ maxLength: 8 }), Type.Null()], { description: 'Which browser session sent the request: 8 hex characters derived from the session (null for token or anonymous requests)' }),
    workspace_owner_id: Type.Union([Type.Integer(), Type.Null()], { description: 'The user id of the Owner of the organization (Label Studio calls it the workspace owner)' }),
    extra_data: Type.Object({ events: Type.Array(Type.Object({ action: Type.String(), object_type: Type.String(), object_id: Type.Union([Type.String(), Type.Null()]), project_id: Type.Union([Type.Integer(), Type.Null()]), changes: Type.Unknown() }, { additionalProperties: false })) }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

export const activityRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/activity-logs',
    summary: 'Every API request of your organization, with the audit events it recorded (Administrators, Owner)',
    tags: ['Audit'],
    access: 'audit.view',
    // `workspace_id` narrows to that workspace's projects; one the caller cannot see is 404.
    scope: { workspace: { query: 'workspace_id' }, optional: true },
    schema: {
      querystring: Type.Object(
        {
          ...PagingQuery,
          start: Type.Optional(Type.Integer({ minimum: 1, description: 'Label Studio\'s alias of `page` (a page number, not an offset)' })),
          length: Type.Optional(Type.Integer({ minimum: -1, maximum: 10_000_000, description: 'Label Studio\'s alias of `page_size` (-1: all)' })),
          user: Type.Optional(Id()),
          project: Type.Optional(Id()),
          workspace: Type.Optional(Id({ description: "Label Studio's meaning: the workspace owner's user id (the Owner of your organization keeps everything; any other id matches nothing)" })),
          workspace_id: Type.Optional(Id({ description: "A workspace's id: only the requests about its projects" })),
          method: Type.Optional(Type.Union(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'all'].map((m) => Type.Literal(m)))),
          start_date: Str(40),
          end_date: Str(40),
          search: Str(),
          ordering: Type.Optional(Type.Union(['datetime', '-datetime', 'id', '-id'].map((m) => Type.Literal(m)))),
          action: Str(100),
          object_type: Str(100),
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ data: Type.Array(ActivityLog), recordsTotal: Type.Integer(), recordsFiltered: Type.Integer() }, { additionalProperties: false }), 400: ErrorResponse, 404: ErrorResponse },
    },
    audit: null,
    handler: async ({ deps, actor, query, req }) => {
      await req.server.requestLog.flush();
      return listActivity(deps, actor, query);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/audit-events',
    summary: 'Your organization’s audit events, oldest first, with their chain hashes (Administrators, Owner)',
    tags: ['Audit'],
    access: 'audit.view',
    scope: 'organization',
    schema: { querystring: Type.Object({ ...PagingQuery, ...EventFilters }, { additionalProperties: false }), response: { 200: Paginated(Event), 400: ErrorResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, query, req }) => {
      const base = eventsQuery(deps.db, actor, query);
      const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const w = pageWindow(query, total);
      const rows = await base.selectAll().orderBy('id').limit(w.size).offset(w.offset).execute();
      return pageEnvelope(req.url, w, total, rows.map(eventOut));
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/audit-events/export',
    summary: 'Download the matching audit events as JSONL or CSV, streamed (Administrators, Owner)',
    tags: ['Audit'],
    access: 'audit.view',
    scope: 'organization',
    schema: {
      querystring: Type.Object({ ...EventFilters, format: Type.Union([Type.Literal('jsonl'), Type.Literal('csv')]) }, { additionalProperties: false }),
      response: { 200: Type.Any({ description: 'JSONL or CSV file' }), 400: ErrorResponse },
    },
    audit: ['export.download'],
    handler: async ({ deps, actor, audit, query, reply }) => {
      const { format, ...filters } = query;
      await audit(deps.db, { action: 'export.download', objectType: 'audit_events', changes: { format, filters } });
      return reply
        .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-events.${format}"`)
        .send(Readable.from(exportEvents(deps.db, actor, filters, format)));
    },
  }),
];
