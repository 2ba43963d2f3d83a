/**
 * Request and response shapes of the storage routes, built per type from storage-types.ts with
 * Label Studio's field names (`S3ImportStorage`, `LocalFilesExportStorage`, …). Credentials
 * appear only in request bodies; responses are serialised through schemas without them, so
 * nothing can leak them even by mistake.
 */
import { Type, type TProperties } from '@sinclair/typebox';
import { Id } from '../../http/common-schemas.js';
import { COMMON_SETTINGS, type StorageKind, type StorageTypeSpec } from './storage-types.js';

export const STATUSES = ['initialized', 'queued', 'in_progress', 'failed', 'completed', 'completed_with_errors'] as const;

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

function settingsOf(spec: StorageTypeSpec, kind: StorageKind): TProperties {
  return {
    ...COMMON_SETTINGS,
    ...spec.settings,
    ...(kind === 'import' ? spec.importSettings : { can_delete_objects: Type.Optional(Type.Union([Type.Boolean(), Type.Null()], { description: 'Delete the object when its annotation is deleted (default true)' })) }),
  };
}

function credentialsOf(spec: StorageTypeSpec): TProperties {
  return Object.fromEntries(spec.credentials.map((c) => [c, Type.Optional(Type.Union([Type.String({ maxLength: 8192 }), Type.Null()], { description: `${c} (write-only: never returned; empty or null removes it)` }))]));
}

const Common = {
  title: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()])),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
};

/** POST body: the project, the settings and the credentials. */
export const createBody = (spec: StorageTypeSpec, kind: StorageKind) =>
  Type.Object({ project: Id(), ...Common, ...settingsOf(spec, kind), ...credentialsOf(spec) }, { additionalProperties: false });

/** PATCH body: any field; `project`, when given, must be the storage's own. */
export const patchBody = (spec: StorageTypeSpec, kind: StorageKind) =>
  Type.Object({ project: Type.Optional(Id()), ...Common, ...settingsOf(spec, kind), ...credentialsOf(spec) }, { additionalProperties: false });

/** POST …/validate body: a storage to check; with `id`, that storage's saved fields overlaid by these. */
export const validateBody = (spec: StorageTypeSpec, kind: StorageKind) =>
  Type.Object({ id: Type.Optional(Id()), project: Id(), ...Common, ...settingsOf(spec, kind), ...credentialsOf(spec) }, { additionalProperties: false });

/** `?project=` of the lists. */
export const ListQuery = Type.Object({ project: Id(), ordering: Type.Optional(Type.String({ maxLength: 50 })) }, { additionalProperties: false });

/** One storage as the API returns it (never its credentials). */
export const storageResponse = (spec: StorageTypeSpec, kind: StorageKind) =>
  Type.Object(
    {
      id: Type.Integer(),
      type: Type.String(),
      project: Type.Integer(),
      title: Nullable(Type.String()),
      description: Nullable(Type.String()),
      ...settingsOf(spec, kind),
      status: Type.Union(STATUSES.map((s) => Type.Literal(s))),
      last_sync: Nullable(Type.String({ format: 'date-time' })),
      last_sync_count: Type.Union([Type.Integer(), Type.Null()]),
      last_sync_job: Nullable(Type.String()),
      traceback: Nullable(Type.String()),
      meta: Type.Record(Type.String(), Type.Unknown()),
      synchronizable: Type.Boolean(),
      created_at: Type.String({ format: 'date-time' }),
      updated_at: Type.String({ format: 'date-time' }),
    },
    { additionalProperties: false },
  );

/** Any storage (the all-types list): the common fields, settings passed through. */
export const AnyStorageResponse = Type.Object(
  {
    id: Type.Integer(),
    type: Type.String(),
    project: Type.Integer(),
    title: Nullable(Type.String()),
    status: Type.String(),
    last_sync: Nullable(Type.String({ format: 'date-time' })),
    last_sync_count: Type.Union([Type.Integer(), Type.Null()]),
  },
  { additionalProperties: true },
);
