/** Export (Label Studio's GET /api/projects/{id}/export and /export/formats), streamed. */
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { ErrorResponse, IdParams } from '../../http/common-schemas.js';
import { invalid } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { configOf, getProjectRow } from '../projects/projects.service.js';
import { CONTENT_TYPES, EXTENSIONS, exportChunks } from './exports.service.js';
import { EXPORT_FORMATS, type ExportFormatName } from './formats.js';

const FORMAT_NAMES = EXPORT_FORMATS.map((f) => f.name) as ExportFormatName[];
const ids = Type.Union([Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 100_000 }), Type.Integer({ minimum: 1 })]);

export const exportsRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/projects/:id/export/formats',
    summary: 'Export formats this server produces',
    tags: ['Export'],
    access: 'project.export',
    schema: {
      params: IdParams,
      response: {
        200: Type.Array(
          Type.Object(
            { name: Type.String(), title: Type.String(), description: Type.String(), link: Type.Optional(Type.String()), tags: Type.Optional(Type.Array(Type.String())), disabled: Type.Optional(Type.Boolean()) },
            { additionalProperties: false },
          ),
        ),
        404: ErrorResponse,
      },
    },
    audit: null,
    handler: async ({ deps, actor, params }) => {
      await getProjectRow(deps.db, actor, params.id);
      return EXPORT_FORMATS;
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/projects/:id/export',
    summary: 'Download the project’s tasks and annotations (JSON, JSON_MIN, CSV, TSV), streamed',
    tags: ['Export'],
    access: 'project.export',
    schema: {
      params: IdParams,
      querystring: Type.Object(
        {
          exportType: Type.Optional(Type.String({ maxLength: 20 })),
          export_type: Type.Optional(Type.String({ maxLength: 20 })),
          download_all_tasks: Type.Optional(Type.Boolean()),
          download_resources: Type.Optional(Type.Boolean()),
          ids: Type.Optional(ids),
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Any({ description: 'The export file' }), 400: ErrorResponse, 404: ErrorResponse },
    },
    audit: ['export.download'],
    handler: async ({ deps, actor, audit, params, query, reply }) => {
      const project = await getProjectRow(deps.db, actor, params.id);
      const format = (query.exportType ?? query.export_type ?? 'JSON').toUpperCase() as ExportFormatName;
      if (!FORMAT_NAMES.includes(format)) throw invalid({ exportType: [`One of ${FORMAT_NAMES.join(', ')}.`] });
      const selection = {
        projectId: project.id,
        allTasks: query.download_all_tasks === true || query.ids !== undefined,
        ids: query.ids === undefined ? undefined : Array.isArray(query.ids) ? query.ids : [query.ids],
      };
      await audit(deps.db, { action: 'export.download', objectType: 'project', objectId: project.id, projectId: project.id, changes: { format, all_tasks: selection.allTasks, ids: selection.ids?.length ?? null } });
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
      return reply
        .header('content-type', CONTENT_TYPES[format])
        .header('content-disposition', `attachment; filename="project-${project.id}-at-${stamp}.${EXTENSIONS[format]}"`)
        .send(Readable.from(exportChunks(deps.db, format, configOf(project), selection)));
    },
  }),
];
