/**
 * `GET /api/usage`: the organization's usage statistics, for Administrators and the Owner; and
 * `POST /api/usage/page-visits`, where the web app reports each page it shows (counted by pattern).
 */
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import { ErrorResponse } from '../../http/common-schemas.js';
import { invalid } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { parseLabelConfig } from '../label-config/label-config.parser.js';
import { webPagePattern } from './web-pages.js';

export const usageRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/usage',
    summary: 'Usage statistics of your organization, kept on this server only (Administrators, Owner)',
    tags: ['Usage'],
    access: 'usage.view',
    scope: 'organization',
    schema: {
      querystring: Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 })) }, { additionalProperties: false }),
      response: {
        200: Type.Object(
          {
            collect_analytics: Type.Boolean(),
            since: Type.String(),
            totals: Type.Record(Type.String(), Type.Integer()),
            daily: Type.Array(Type.Object({ day: Type.String(), metric: Type.String(), value: Type.Integer() }, { additionalProperties: false })),
            data_types: Type.Record(Type.String(), Type.Integer()),
            counts: Type.Object({ projects: Type.Integer(), tasks: Type.Integer(), annotations: Type.Integer(), members: Type.Integer() }, { additionalProperties: false }),
          },
          { additionalProperties: false },
        ),
        400: ErrorResponse,
      },
    },
    audit: null,
    handler: async ({ deps, actor, query, req }) => {
      const days = query.days ?? 30;
      if (days < 1) throw invalid({ days: ['At least 1.'] });
      const since = new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
      const collect = deps.config.usage.collect;
      await req.server.usage?.flush();
      const daily = collect
        ? await deps.db.selectFrom('usage_counters').select(['day', 'metric', 'value']).where('organization_id', '=', actor.organizationId).where('day', '>=', since).orderBy('day').orderBy('metric').execute()
        : [];
      const totals: Record<string, number> = {};
      for (const d of daily) totals[d.metric] = (totals[d.metric] ?? 0) + Number(d.value);
      // Figures read from the data itself (not collected): what kinds of data the projects label.
      const configs = await deps.db.selectFrom('projects').select('label_config').where('organization_id', '=', actor.organizationId).execute();
      const dataTypes: Record<string, number> = {};
      for (const c of configs) {
        try {
          for (const type of new Set(parseLabelConfig(c.label_config).objects.map((o) => o.type))) dataTypes[type] = (dataTypes[type] ?? 0) + 1;
        } catch {
          /* a config stored before a stricter parser: not counted */
        }
      }
      const one = async (q: Promise<{ n: number } | undefined>) => Number((await q)?.n ?? 0);
      const org = actor.organizationId;
      const counts = {
        projects: configs.length,
        tasks: await one(deps.db.selectFrom('tasks as t').innerJoin('projects as p', 'p.id', 't.project_id').select(sql<number>`count(*)`.as('n')).where('p.organization_id', '=', org).executeTakeFirst()),
        annotations: await one(deps.db.selectFrom('annotations as a').innerJoin('projects as p', 'p.id', 'a.project_id').select(sql<number>`count(*)`.as('n')).where('p.organization_id', '=', org).executeTakeFirst()),
        members: await one(deps.db.selectFrom('memberships').select(sql<number>`count(*)`.as('n')).where('organization_id', '=', org).executeTakeFirst()),
      };
      return { collect_analytics: collect, since, totals, daily: daily.map((d) => ({ ...d, value: Number(d.value) })), data_types: dataTypes, counts };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/usage/page-visits',
    summary: 'Count a visit of a web app page, by its route pattern (sent by the web app; nothing is kept with COLLECT_ANALYTICS=false)',
    tags: ['Usage'],
    access: { public: 'the login and signup pages are visited before signing in; only a known page pattern is counted, nothing else is kept' },
    changesNothing: 'adds one to a usage counter; no data of any organization changes',
    schema: {
      body: Type.Object({ path: Type.String({ minLength: 1, maxLength: 2048, description: 'The path of the page shown (its pattern is counted, never the path)' }) }, { additionalProperties: false }),
      response: {
        200: Type.Object(
          {
            collect_analytics: Type.Boolean({ description: 'False: nothing was counted, and the app may stop reporting' }),
            page: Type.Union([Type.String(), Type.Null()], { description: 'The pattern counted; null when the path is not a page of the app' }),
          },
          { additionalProperties: false },
        ),
        400: ErrorResponse,
      },
    },
    audit: null,
    handler: async ({ deps, actor, body, req }) => {
      const page = webPagePattern(body.path);
      if (page) req.server.usage?.count(actor?.organizationId ?? 0, `page:${page}`);
      return { collect_analytics: deps.config.usage.collect, page };
    },
  }),
];
