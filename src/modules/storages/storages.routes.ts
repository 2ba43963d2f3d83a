/**
 * Label Studio's storage API, for every type in storage-types.ts and both kinds:
 * `/api/storages/<type>` (import) and `/api/storages/export/<type>`: list (?project=), create,
 * get, patch, delete, `POST …/validate` and `POST …/<id>/sync`; `/api/storages?project=` and
 * `/api/storages/export?project=` list every type. Managers and above only (`storage.manage`).
 */
import { Type } from '@sinclair/typebox';
import { ErrorResponse, IdParams, NoContent } from '../../http/common-schemas.js';
import type { ScopeRule } from '../../authz/scope.js';
import { defineRoute, type AnyRoute } from '../../http/route.js';
import { STORAGE_TYPES, type StorageKind, type StorageTypeSpec } from './storage-types.js';
import { AnyStorageResponse, createBody, ListQuery, patchBody, storageResponse, validateBody } from './storages.schemas.js';
import { createStorage, deleteStorage, getStorageRow, listStorages, storageOut, syncStorage, updateStorage, validateStorage } from './storages.service.js';

const Refused = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

/** The seven routes of one type and kind. */
function typeRoutes(spec: StorageTypeSpec, kind: StorageKind): AnyRoute[] {
  const base = kind === 'import' ? `/api/storages/${spec.type}` : `/api/storages/export/${spec.type}`;
  const tags = [`Storage: ${spec.label}`];
  const what = `${spec.label} ${kind} storage`;
  const Out = storageResponse(spec, kind);
  const byId: ScopeRule = kind === 'import' ? { storage: { param: 'id' } } : { export_storage: { param: 'id' } };
  const routes = [
    defineRoute({
      method: 'GET',
      url: base,
      summary: `The project's ${what}s`,
      tags,
      access: 'storage.manage',
      scope: { project: { query: 'project' } },
      schema: { querystring: ListQuery, response: { 200: Type.Array(Out), ...Refused } },
      audit: null,
      handler: async ({ deps, scope }) => listStorages(deps, kind, spec, scope.project!.id),
    }),
    defineRoute({
      method: 'POST',
      url: base,
      summary: `Connect a ${what} (the connection is checked first; credentials are write-only)`,
      tags,
      access: 'storage.manage',
      scope: { project: { body: 'project' } },
      schema: { body: createBody(spec, kind), response: { 201: Out, ...Refused } },
      audit: ['storage.create'],
      handler: async ({ deps, actor, audit, scope, body, reply }) => reply.code(201).send(await createStorage(deps, actor, audit, { kind, spec, project: scope.project!, body })),
    }),
    defineRoute({
      method: 'POST',
      url: `${base}/validate`,
      summary: `Check a ${what}'s connection without saving it (with id: the saved one, overlaid by the fields given)`,
      tags,
      access: 'storage.manage',
      scope: { project: { body: 'project' } },
      schema: { body: validateBody(spec, kind), response: { 200: Type.Object({}, { additionalProperties: false }), ...Refused } },
      audit: null,
      changesNothing: 'validates a connection; nothing is saved',
      handler: async ({ deps, scope, body }) => {
        await validateStorage(deps, { kind, spec, project: scope.project!, body });
        return {};
      },
    }),
    defineRoute({
      method: 'GET',
      url: `${base}/:id`,
      summary: `One ${what}, with its sync status`,
      tags,
      access: 'storage.manage',
      scope: byId,
      schema: { params: IdParams, response: { 200: Out, 403: ErrorResponse, 404: ErrorResponse } },
      audit: null,
      handler: async ({ deps, params }) => storageOut(await getStorageRow(deps, kind, spec, params.id)),
    }),
    defineRoute({
      method: 'PATCH',
      url: `${base}/:id`,
      summary: `Change a ${what} (the connection is checked again; omitted credentials are kept)`,
      tags,
      access: 'storage.manage',
      scope: byId,
      schema: { params: IdParams, body: patchBody(spec, kind), response: { 200: Out, ...Refused } },
      audit: ['storage.update'],
      handler: async ({ deps, audit, params, body }) => updateStorage(deps, audit, { kind, spec, id: params.id, body }),
    }),
    defineRoute({
      method: 'DELETE',
      url: `${base}/:id`,
      summary: `Disconnect a ${what} (synced tasks and written objects stay)`,
      tags,
      access: 'storage.manage',
      scope: byId,
      schema: { params: IdParams, response: { 204: NoContent, 403: ErrorResponse, 404: ErrorResponse } },
      audit: ['storage.delete'],
      handler: async ({ deps, audit, params, reply }) => {
        await deleteStorage(deps, audit, { kind, spec, id: params.id });
        return reply.code(204).send();
      },
    }),
    defineRoute({
      method: 'POST',
      url: `${base}/:id/sync`,
      summary: kind === 'import' ? `Sync a ${what} in the background: new objects become tasks (status and counts on the storage)` : `Write every annotation of the project to a ${what} in the background`,
      tags,
      access: 'storage.manage',
      scope: byId,
      schema: { params: IdParams, response: { 200: Out, ...Refused } },
      audit: ['storage.sync'],
      bodyless: 'starts a sync of the storage named in the path',
      handler: async ({ deps, actor, audit, params }) => syncStorage(deps, actor, audit, { kind, spec, id: params.id }),
    }),
  ];
  return routes as AnyRoute[];
}

/** The all-types list of a kind. */
function allOfKind(kind: StorageKind): AnyRoute {
  const route = defineRoute({
    method: 'GET',
    url: kind === 'import' ? '/api/storages' : '/api/storages/export',
    summary: `The project's ${kind} storages of every type`,
    tags: ['Storage'],
    access: 'storage.manage',
    scope: { project: { query: 'project' } },
    schema: { querystring: ListQuery, response: { 200: Type.Array(AnyStorageResponse), ...Refused } },
    audit: null,
    handler: async ({ deps, scope }) => listStorages(deps, kind, null, scope.project!.id),
  });
  return route as AnyRoute;
}

export const storagesRoutes: AnyRoute[] = [allOfKind('import'), allOfKind('export'), ...STORAGE_TYPES.flatMap((spec) => [...typeRoutes(spec, 'import'), ...typeRoutes(spec, 'export')])];
