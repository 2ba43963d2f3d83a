/**
 * Storage connections of a project (Label Studio's `/api/storages/…`): create, change, delete,
 * validate and start a sync. Choices, for clients:
 * - Create and PATCH check the connection, as Label Studio does (400 naming the field at fault:
 *   `bucket`, `path`, `s3_endpoint`, `aws_access_key_id`, …), so a saved storage works.
 * - Credentials are write-only: sealed at rest (security/credentials-cipher.ts), never in a
 *   response, log or audit event; an audit event says only which credential fields changed.
 *   On PATCH a credential field left out keeps its value; empty or null removes it.
 * - `project` cannot move a storage to another project (400 naming `project`).
 */
import type { AppDeps } from '../../app-deps.js';
import { fromJson, type ProjectRow, type StorageRow } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { invalid, notFound } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { sealCredentials } from '../../security/credentials-cipher.js';
import { adapterOfRow, credentialsOfRow, openAdapter, settingsOfRow, storageProblem } from './storage-connection.js';
import { settingNames, type StorageKind, type StorageTypeSpec } from './storage-types.js';
import { deleteStorageRow, findStorage, insertStorage, listStorageRows, tableOf, updateStorageRow } from './storages.repository.js';
import { enqueueImportSync, importSyncJobId } from './storage-sync.job.js';
import { enqueueExportSync, exportSyncJobId } from './storage-export.job.js';

/** Label Studio's defaults for settings left out on create. */
const DEFAULTS: Record<StorageKind, Record<string, unknown>> = {
  import: { presign: true, presign_ttl: 1, use_blob_urls: false, recursive_scan: false, regex_filter: null, prefix: null },
  export: { use_blob_urls: false, can_delete_objects: false, regex_filter: null, prefix: null },
};

/** A storage row in the API's shape (never its credentials). */
export function storageOut(row: StorageRow) {
  const settings = settingsOfRow(row);
  return {
    ...settings,
    id: row.id,
    type: row.type,
    project: row.project_id,
    title: row.title === '' ? null : row.title,
    description: row.description === '' ? null : row.description,
    status: row.status,
    last_sync: row.last_sync,
    last_sync_count: row.last_sync_count,
    last_sync_job: row.last_sync_job,
    traceback: row.traceback,
    meta: fromJson<Record<string, unknown>>(row.meta),
    synchronizable: true,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

type Body = Record<string, unknown>;

/** Splits a request body into settings and credentials of the type (unknown keys are refused by the schema). */
function split(spec: StorageTypeSpec, kind: StorageKind, body: Body) {
  const settings: Record<string, unknown> = {};
  for (const k of settingNames(spec, kind)) if (body[k] !== undefined) settings[k] = typeof body[k] === 'string' ? (body[k] as string).trim() : body[k];
  const credentials: Record<string, string | null> = {};
  for (const k of spec.credentials) if (body[k] !== undefined) credentials[k] = typeof body[k] === 'string' && (body[k] as string) !== '' ? (body[k] as string) : null;
  return { settings, credentials };
}

/** Refuses settings no sync could use: the required field, the regex. */
function checkSettings(spec: StorageTypeSpec, settings: Record<string, unknown>): void {
  const required = settings[spec.requiredField];
  if (typeof required !== 'string' || required === '') throw invalid({ [spec.requiredField]: ['This field is required.'] });
  const regex = settings.regex_filter;
  if (typeof regex === 'string' && regex !== '') {
    try {
      new RegExp(regex);
    } catch {
      throw invalid({ regex_filter: ['Not a valid regular expression.'] });
    }
  }
}

/** Merges new credential values into old ones (null removes). */
function mergeCredentials(old: Record<string, string>, changes: Record<string, string | null>): Record<string, string> {
  const out = { ...old };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Opens an adapter for the fields and checks the connection (400 naming the field at fault). */
async function checkConnection(deps: AppDeps, spec: StorageTypeSpec, settings: Record<string, unknown>, credentials: Record<string, string>): Promise<void> {
  checkSettings(spec, settings);
  const adapter = await openAdapter(deps, spec.type, settings, credentials, { resolveEndpoint: true });
  try {
    await adapter.validate();
  } catch (err) {
    throw storageProblem(err, spec.endpointField);
  } finally {
    adapter.close?.();
  }
}

/** A project's storages of a kind and type (all types when `spec` is null). */
export async function listStorages(deps: AppDeps, kind: StorageKind, spec: StorageTypeSpec | null, projectId: number) {
  return (await listStorageRows(deps.db, kind, projectId, spec?.type)).map(storageOut);
}

/** A storage of a kind and type (the route resolved its project); 404 when it is of another type. */
export async function getStorageRow(deps: AppDeps, kind: StorageKind, spec: StorageTypeSpec, id: number): Promise<StorageRow> {
  const row = await findStorage(deps.db, kind, id);
  if (!row || row.type !== spec.type) throw notFound('Storage not found.');
  return row;
}

/** Creates a storage after checking its connection; audited without credential values. */
export async function createStorage(deps: AppDeps, actor: Actor, audit: AuditFn, o: { kind: StorageKind; spec: StorageTypeSpec; project: ProjectRow; body: Body }) {
  const { settings, credentials } = split(o.spec, o.kind, o.body);
  const all = { ...DEFAULTS[o.kind], ...settings };
  const creds = mergeCredentials({}, credentials);
  await checkConnection(deps, o.spec, all, creds);
  return deps.db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    const row = await insertStorage(trx, o.kind, {
      projectId: o.project.id,
      type: o.spec.type,
      title: typeof o.body.title === 'string' ? o.body.title : '',
      description: typeof o.body.description === 'string' ? o.body.description : '',
      settings: JSON.stringify(all),
      credentials: Object.keys(creds).length > 0 ? sealCredentials(deps.secrets, tableOf(o.kind), creds) : null,
      createdBy: actor.userId,
      now,
    });
    await audit(trx, { action: 'storage.create', objectType: `${o.kind}_storage`, objectId: row.id, projectId: o.project.id, changes: { type: o.spec.type, title: row.title, settings: all, credentials: { fields: Object.keys(creds).sort() } } });
    return storageOut(row);
  });
}

/** Changes a storage (PATCH semantics), re-checking the connection; audits what changed. */
export async function updateStorage(deps: AppDeps, audit: AuditFn, o: { kind: StorageKind; spec: StorageTypeSpec; id: number; body: Body }) {
  const before = await getStorageRow(deps, o.kind, o.spec, o.id);
  if (o.body.project !== undefined && o.body.project !== before.project_id) throw invalid({ project: ['A storage stays with its project.'] });
  const { settings, credentials } = split(o.spec, o.kind, o.body);
  const oldSettings = settingsOfRow(before);
  const all = { ...oldSettings, ...settings };
  const credentialChanged = Object.keys(credentials);
  const creds = mergeCredentials(credentialChanged.length > 0 ? credentialsOfRow(deps, o.kind, before) : {}, credentials);
  await checkConnection(deps, o.spec, all, credentialChanged.length > 0 ? creds : credentialsOfRow(deps, o.kind, before));
  return deps.db.transaction().execute(async (trx) => {
    const changes: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(settings)) if (JSON.stringify(oldSettings[k]) !== JSON.stringify(v)) changes[k] = { before: oldSettings[k] ?? null, after: v };
    for (const k of ['title', 'description'] as const) if (typeof o.body[k] === 'string' && o.body[k] !== before[k]) changes[k] = { before: before[k], after: o.body[k] };
    if (credentialChanged.length > 0) changes.credentials = { status: 'changed', fields: credentialChanged.sort() };
    const row = await updateStorageRow(trx, o.kind, o.id, {
      settings: JSON.stringify(all),
      ...(typeof o.body.title === 'string' && { title: o.body.title }),
      ...(typeof o.body.description === 'string' && { description: o.body.description }),
      ...(credentialChanged.length > 0 && { credentials: Object.keys(creds).length > 0 ? sealCredentials(deps.secrets, tableOf(o.kind), creds) : null }),
      updated_at: new Date().toISOString(),
    });
    if (!row) throw notFound('Storage not found.');
    await audit(trx, { action: 'storage.update', objectType: `${o.kind}_storage`, objectId: o.id, projectId: row.project_id, changes });
    return storageOut(row);
  });
}

/** Deletes a storage; tasks already synced stay (Label Studio's behaviour). */
export async function deleteStorage(deps: AppDeps, audit: AuditFn, o: { kind: StorageKind; spec: StorageTypeSpec; id: number }): Promise<void> {
  const row = await getStorageRow(deps, o.kind, o.spec, o.id);
  await deps.db.transaction().execute(async (trx) => {
    await deleteStorageRow(trx, o.kind, o.id);
    await audit(trx, { action: 'storage.delete', objectType: `${o.kind}_storage`, objectId: o.id, projectId: row.project_id, changes: { type: row.type, title: row.title, settings: settingsOfRow(row) } });
  });
}

/**
 * Checks a connection without saving it. With `id`, the saved storage (of the same project and
 * type) is the base and the given fields overlay it, so its credentials need not be re-sent.
 */
export async function validateStorage(deps: AppDeps, o: { kind: StorageKind; spec: StorageTypeSpec; project: ProjectRow; body: Body }): Promise<void> {
  const { settings, credentials } = split(o.spec, o.kind, o.body);
  let baseSettings: Record<string, unknown> = { ...DEFAULTS[o.kind] };
  let baseCreds: Record<string, string> = {};
  if (typeof o.body.id === 'number') {
    const row = await findStorage(deps.db, o.kind, o.body.id);
    if (!row || row.type !== o.spec.type || row.project_id !== o.project.id) throw invalid({ id: ['No such storage in this project.'] });
    baseSettings = settingsOfRow(row);
    baseCreds = credentialsOfRow(deps, o.kind, row);
  }
  await checkConnection(deps, o.spec, { ...baseSettings, ...settings }, mergeCredentials(baseCreds, credentials));
}

/** Queues a sync (import: objects → tasks; export: every annotation written); audited. */
export async function syncStorage(deps: AppDeps, actor: Actor, audit: AuditFn, o: { kind: StorageKind; spec: StorageTypeSpec; id: number }) {
  const row = await getStorageRow(deps, o.kind, o.spec, o.id);
  const adapter = await adapterOfRow(deps, o.kind, row); // refuses a storage the server no longer accepts (400)
  adapter.close?.();
  const jobId = o.kind === 'import' ? importSyncJobId(row.id) : exportSyncJobId(row.id);
  // Queued before the job exists, so the job's own status updates always come after this one.
  await deps.db.transaction().execute(async (trx) => {
    await updateStorageRow(trx, o.kind, o.id, { status: 'queued', last_sync_job: jobId, traceback: null });
    await audit(trx, { action: 'storage.sync', objectType: `${o.kind}_storage`, objectId: o.id, projectId: row.project_id, changes: { job: jobId } });
  });
  if (o.kind === 'import') await enqueueImportSync(deps, actor, row);
  else await enqueueExportSync(deps, actor, row);
  return storageOut((await findStorage(deps.db, o.kind, o.id)) ?? row);
}
