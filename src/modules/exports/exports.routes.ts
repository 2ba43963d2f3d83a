/**
 * Export (Label Studio's GET /api/projects/{id}/export and /export/formats), streamed, and
 * export snapshots (/api/projects/{id}/exports/…), written by a background job.
 */
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { ErrorResponse, Id, IdParams, Ids, NoContent } from '../../http/common-schemas.js';
import { defineRoute } from '../../http/route.js';
import { configOf, getProjectRow } from '../projects/projects.service.js';
import { attachmentName, CONTENT_TYPES, exportChunks, formatNamed } from './exports.service.js';
import { EXPORT_FORMATS } from './formats.js';
import {
  ConvertBody,
  ConvertResponse,
  CreateSnapshotBody,
  CreateSnapshotQuery,
  DownloadQuery,
  SnapshotCreatedResponse,
  SnapshotListQuery,
  SnapshotParams,
  SnapshotResponse,
} from './snapshots.schemas.js';
import { convertSnapshot, createSnapshot, deleteSnapshot, downloadSnapshot, getSnapshot, listSnapshots } from './snapshots.service.js';

const ids = Type.Union([Ids(100_000), Id()]);

export const exportsRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/projects/:id/export/formats',
    summary: 'Export formats this server produces',
    tags: ['Export'],
    access: 'project.export',
    scope: { project: { param: 'id' } },
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
    scope: { project: { param: 'id' } },
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
      const format = formatNamed(query.exportType ?? query.export_type);
      const selection = {
        projectId: project.id,
        allTasks: query.download_all_tasks === true || query.ids !== undefined,
        ids: query.ids === undefined ? undefined : Array.isArray(query.ids) ? query.ids : [query.ids],
      };
      await audit(deps.db, { action: 'export.download', objectType: 'project', objectId: project.id, projectId: project.id, changes: { format, all_tasks: selection.allTasks, ids: selection.ids?.length ?? null } });
      return reply
        .header('content-type', CONTENT_TYPES[format])
        .header('content-disposition', `attachment; filename="${attachmentName(project.id, new Date(), format)}"`)
        .send(Readable.from(exportChunks(deps.db, format, configOf(project), selection, (n) => deps.metrics?.countExported('download', n))));
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/projects/:id/exports',
    summary: 'Export snapshots of the project, newest first',
    tags: ['Export'],
    access: 'project.export',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, querystring: SnapshotListQuery, response: { 200: Type.Array(SnapshotResponse), 400: ErrorResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params, query }) => listSnapshots(deps, actor, { projectId: params.id, ordering: query.ordering }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/projects/:id/exports',
    summary: 'Create an export snapshot; a background job writes it (poll until status is completed)',
    tags: ['Export'],
    access: 'project.export',
    scope: { project: { param: 'id' } },
    schema: { params: IdParams, querystring: CreateSnapshotQuery, body: CreateSnapshotBody, response: { 201: SnapshotCreatedResponse, 400: ErrorResponse, 404: ErrorResponse, 503: ErrorResponse } },
    audit: ['export.create'],
    handler: async ({ deps, actor, audit, params, query, body, reply }) => {
      const interpolateKeyFrames = ['true', 'True', '1'].includes(query.interpolate_key_frames ?? 'false');
      return reply.code(201).send(await createSnapshot(deps, actor, audit, { projectId: params.id, input: body, interpolateKeyFrames }));
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/projects/:id/exports/:export_pk',
    summary: 'One export snapshot: status, counters, MD5',
    tags: ['Export'],
    access: 'project.export',
    scope: { project: { param: 'id' } },
    schema: { params: SnapshotParams, response: { 200: SnapshotResponse, 404: ErrorResponse } },
    audit: null,
    handler: async ({ deps, actor, params }) => getSnapshot(deps, actor, { projectId: params.id, exportPk: params.export_pk }),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/projects/:id/exports/:export_pk',
    summary: 'Delete an export snapshot and its file (an unfinished one is cancelled)',
    tags: ['Export'],
    access: 'project.export',
    scope: { project: { param: 'id' } },
    schema: { params: SnapshotParams, response: { 204: NoContent, 404: ErrorResponse } },
    audit: ['export.delete'],
    handler: async ({ deps, actor, audit, params, req, reply }) => {
      await deleteSnapshot(deps, actor, audit, { projectId: params.id, exportPk: params.export_pk, log: req.log });
      return reply.code(204).send();
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/projects/:id/exports/:export_pk/download',
    summary: 'Download a completed snapshot: JSON as stored, JSON_MIN/CSV/TSV converted while streaming',
    tags: ['Export'],
    access: 'project.export',
    scope: { project: { param: 'id' } },
    schema: {
      params: SnapshotParams,
      querystring: DownloadQuery,
      response: { 200: Type.Any({ description: 'The export file' }), 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse },
    },
    audit: ['export.download'],
    handler: async ({ deps, actor, audit, params, query, req, reply }) => {
      const format = formatNamed(query.exportType ?? query.export_type);
      const file = await downloadSnapshot(deps, actor, audit, { projectId: params.id, exportPk: params.export_pk, format, log: req.log });
      if (file.size !== undefined) void reply.header('content-length', file.size);
      return reply.header('content-type', file.contentType).header('content-disposition', `attachment; filename="${file.filename}"`).send(file.body);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/projects/:id/exports/:export_pk/convert',
    summary: 'Make a format available for download (conversion happens while downloading)',
    tags: ['Export'],
    access: 'project.export',
    scope: { project: { param: 'id' } },
    schema: { params: SnapshotParams, body: ConvertBody, response: { 200: ConvertResponse, 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse } },
    audit: ['export.create'],
    handler: async ({ deps, actor, audit, params, body }) => convertSnapshot(deps, actor, audit, { projectId: params.id, exportPk: params.export_pk, exportType: body.export_type }),
  }),
];
