/** Health, version and the OpenAPI document. */
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import { AppError } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { isRedisReady } from '../../redis/redis.js';

const Health = Type.Object({ status: Type.String() }, { additionalProperties: false });

export const systemRoutes = [
  defineRoute({
    method: 'GET',
    url: '/health',
    summary: 'Health check: 200 once the database (and Redis, when REDIS_URL is set) answers',
    tags: ['System'],
    access: { public: 'load balancers and the Label Studio SDK check_connection() call it unauthenticated' },
    schema: { response: { 200: Health, 503: Health } },
    audit: null,
    handler: async ({ deps, reply }) => {
      try {
        await sql`select 1`.execute(deps.db);
        if (deps.redis && !(await isRedisReady(deps.redis))) return reply.code(503).send({ status: 'DOWN' });
        return { status: 'UP' };
      } catch {
        return reply.code(503).send({ status: 'DOWN' });
      }
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/version',
    summary: 'Server version (Label Studio clients read edition and release)',
    tags: ['System'],
    access: { public: 'Label Studio SDK clients call it before authenticating' },
    schema: {
      response: {
        200: Type.Object(
          { release: Type.String(), edition: Type.String(), product: Type.String(), 'label-studio-os-package': Type.Object({ version: Type.String() }, { additionalProperties: false }) },
          { additionalProperties: false },
        ),
      },
    },
    audit: null,
    handler: async ({ deps }) => ({
      release: deps.version,
      // Not "Enterprise": Label Studio's SDK then uses the community export path, which we serve.
      edition: 'Community',
      product: 'labelvault',
      'label-studio-os-package': { version: deps.version },
    }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/schema',
    summary: 'OpenAPI 3.1 document generated from the route schemas',
    tags: ['System'],
    access: { public: 'the API description holds no data; clients generate code from it' },
    schema: { response: { 200: Type.Object({}, { additionalProperties: true }) } },
    audit: null,
    handler: async ({ req }) => {
      const doc = (req.server as unknown as { swagger?: () => object }).swagger?.();
      if (!doc) throw new AppError(503, 'SCHEMA_UNAVAILABLE', 'The API description is not ready.');
      return doc;
    },
  }),
];
