/**
 * The access matrix's recipes for the storage and media routes (see access-matrix.test.ts): no
 * storage server runs here, so create, PATCH and validate check the connection and answer 400
 * after access was granted; rows are inserted directly; S3 presigns offline (media answers 303).
 * GCS points at the loopback GCS double holding no bucket (it answers 404 at once: the SDK
 * retries a refused connection for about seven seconds, which made these recipes most of the
 * matrix's time), so its checks answer 400 too.
 */
import { sealCredentials } from '../../src/security/credentials-cipher.js';
import { call, type TestServer } from '../harness.js';
import type { Member } from '../factories.js';

/** What these recipes read of the matrix's context (its Ctx has more). */
interface Ctx {
  place: { projectId: number; owner: Member };
  author: Member;
}
/** A request as the matrix sends it. */
interface Req {
  path: string;
  body?: unknown;
  ok?: number[];
}
type Recipe = (c: Ctx) => Promise<Req>;

/** Recipes keyed `METHOD /url`, on the server the matrix currently runs against; `gcsEndpoint` is a GCS double with no bucket. */
export function storageRecipes(server: () => TestServer, gcsEndpoint: () => string): Record<string, Recipe> {
  const p = (c: Ctx) => c.place.projectId;
  /** Settings of a storage row per type (nothing listens at these endpoints, or holds the bucket: connection checks answer 400). */
  const rowSettings = (): Record<'s3' | 's3s' | 'localfiles' | 'azure' | 'gcs' | 'redis', Record<string, unknown>> => ({
    s3: { bucket: 'matrix', s3_endpoint: 'http://127.0.0.1:9', presign: true, presign_ttl: 1 },
    s3s: { bucket: 'matrix', s3_endpoint: 'http://127.0.0.1:9', presign: true, presign_ttl: 1 },
    localfiles: { path: '/nonexistent/matrix' },
    azure: { container: 'matrix', account_name: 'matrix', azure_blob_endpoint: 'http://127.0.0.1:9/matrix', presign: true, presign_ttl: 1 },
    gcs: { bucket: 'matrix', gcs_endpoint: gcsEndpoint(), presign: true, presign_ttl: 1 },
    redis: { host: '127.0.0.1', port: '9', db: 0, path: 'matrix' },
  });
  type StorageType = keyof ReturnType<typeof rowSettings>;

  /**
   * Recipes for the Azure, GCS and Redis storage routes, import and export alike: create, validate
   * and PATCH check the connection (nothing listens: 400 after access was granted); sync only
   * queues a job (200); list, get and delete succeed.
   */
  function cloudStorageRecipes(): Record<string, Recipe> {
    const out: Record<string, Recipe> = {};
    for (const type of ['azure', 'gcs', 'redis'] as const) {
      for (const kind of ['import', 'export'] as const) {
        const base = kind === 'import' ? `/api/storages/${type}` : `/api/storages/export/${type}`;
        const settings = () => {
          const { presign: _p, presign_ttl: _t, ...rest } = rowSettings()[type];
          return rest;
        };
        out[`GET ${base}`] = async (c) => ({ path: `${base}?project=${p(c)}` });
        out[`POST ${base}`] = async (c) => ({ path: base, body: { project: p(c), ...settings() }, ok: [400] });
        out[`POST ${base}/validate`] = async (c) => ({ path: `${base}/validate`, body: { project: p(c), ...settings() }, ok: [400] });
        out[`GET ${base}/:id`] = async (c) => ({ path: `${base}/${await storageRow(c, kind, type)}` });
        out[`PATCH ${base}/:id`] = async (c) => ({ path: `${base}/${await storageRow(c, kind, type)}`, body: { title: 'Renamed' }, ok: [400] });
        out[`DELETE ${base}/:id`] = async (c) => ({ path: `${base}/${await storageRow(c, kind, type)}` });
        out[`POST ${base}/:id/sync`] = async (c) => ({ path: `${base}/${await storageRow(c, kind, type)}/sync` });
      }
    }
    return out;
  }

  /**
   * Recipes for the `s3s` routes (Label Studio Enterprise's S3 with IAM role), import and export:
   * their rows and bodies name no role_arn (no STS runs here), so create, validate, PATCH and sync
   * answer 400 naming it after access was granted; list, get and delete succeed.
   */
  function s3WithRoleRecipes(): Record<string, Recipe> {
    const out: Record<string, Recipe> = {};
    for (const kind of ['import', 'export'] as const) {
      const base = kind === 'import' ? '/api/storages/s3s' : '/api/storages/export/s3s';
      const body = (c: Ctx) => ({ project: p(c), bucket: 'matrix', s3_endpoint: 'http://127.0.0.1:9' });
      out[`GET ${base}`] = async (c) => ({ path: `${base}?project=${p(c)}` });
      out[`POST ${base}`] = async (c) => ({ path: base, body: body(c), ok: [400] });
      out[`POST ${base}/validate`] = async (c) => ({ path: `${base}/validate`, body: body(c), ok: [400] });
      out[`GET ${base}/:id`] = async (c) => ({ path: `${base}/${await storageRow(c, kind, 's3s')}` });
      out[`PATCH ${base}/:id`] = async (c) => ({ path: `${base}/${await storageRow(c, kind, 's3s')}`, body: { title: 'Renamed' }, ok: [400] });
      out[`DELETE ${base}/:id`] = async (c) => ({ path: `${base}/${await storageRow(c, kind, 's3s')}` });
      out[`POST ${base}/:id/sync`] = async (c) => ({ path: `${base}/${await storageRow(c, kind, 's3s')}/sync`, ok: [400] });
    }
    return out;
  }

  /** The url-safe base64 of the object the storage recipes serve. */
  const MATRIX_URI = Buffer.from('s3://matrix/m.jpg').toString('base64url');

  /**
   * A storage row of the place's project, inserted directly (creating one through the API checks the
   * connection, and no storage server runs here): S3 presigns offline, so media routes answer 303.
   */
  async function storageRow(c: Ctx, kind: 'import' | 'export', type: StorageType): Promise<number> {
    const now = new Date().toISOString();
    const settings = rowSettings()[type];
    const table = kind === 'import' ? 'import_storages' : 'export_storages';
    const row = await server().deps.db
      .insertInto(table)
      .values({ project_id: c.place.projectId, type, title: 'matrix', description: '', settings: JSON.stringify(settings), credentials: type === 's3' ? sealCredentials(server().deps.secrets, table, { aws_access_key_id: 'matrix', aws_secret_access_key: 'matrix' }) : null, meta: '{}', created_by_id: null, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** A media URL of a fresh task (assigned to the caller, so Annotators may open it) referencing the storage's object. */
  async function mediaPath(c: Ctx, verb: 'resolve' | 'presign'): Promise<string> {
    await storageRow(c, 'import', 's3');
    const t = await call(server(), 'POST', '/api/tasks', { token: c.place.owner.token, body: { project: c.place.projectId, data: { text: 'm', image: 's3://matrix/m.jpg' } } });
    await server().deps.db.insertInto('task_assignments').values({ task_id: t.body.id, project_id: c.place.projectId, user_id: c.author.id, type: 'AN', assigned_by_id: null, created_at: new Date().toISOString() }).execute();
    return `/tasks/${t.body.id}/${verb}?fileuri=${MATRIX_URI}`;
  }

  return {
    'GET /api/storages': async (c) => ({ path: `/api/storages?project=${p(c)}` }),
    'GET /api/storages/export': async (c) => ({ path: `/api/storages/export?project=${p(c)}` }),
    'GET /api/storages/s3': async (c) => ({ path: `/api/storages/s3?project=${p(c)}` }),
    'POST /api/storages/s3': async (c) => ({ path: '/api/storages/s3', body: { project: p(c), bucket: 'matrix', s3_endpoint: 'http://127.0.0.1:9' }, ok: [400] }),
    'POST /api/storages/s3/validate': async (c) => ({ path: '/api/storages/s3/validate', body: { project: p(c), bucket: 'matrix', s3_endpoint: 'http://127.0.0.1:9' }, ok: [400] }),
    'GET /api/storages/s3/:id': async (c) => ({ path: `/api/storages/s3/${await storageRow(c, 'import', 's3')}` }),
    'PATCH /api/storages/s3/:id': async (c) => ({ path: `/api/storages/s3/${await storageRow(c, 'import', 's3')}`, body: { title: 'Renamed' }, ok: [400] }),
    'DELETE /api/storages/s3/:id': async (c) => ({ path: `/api/storages/s3/${await storageRow(c, 'import', 's3')}` }),
    'POST /api/storages/s3/:id/sync': async (c) => ({ path: `/api/storages/s3/${await storageRow(c, 'import', 's3')}/sync` }),
    'GET /api/storages/localfiles': async (c) => ({ path: `/api/storages/localfiles?project=${p(c)}` }),
    'POST /api/storages/localfiles': async (c) => ({ path: '/api/storages/localfiles', body: { project: p(c), path: '/nonexistent/matrix' }, ok: [400] }),
    'POST /api/storages/localfiles/validate': async (c) => ({ path: '/api/storages/localfiles/validate', body: { project: p(c), path: '/nonexistent/matrix' }, ok: [400] }),
    'GET /api/storages/localfiles/:id': async (c) => ({ path: `/api/storages/localfiles/${await storageRow(c, 'import', 'localfiles')}` }),
    'PATCH /api/storages/localfiles/:id': async (c) => ({ path: `/api/storages/localfiles/${await storageRow(c, 'import', 'localfiles')}`, body: { title: 'Renamed' }, ok: [400] }),
    'DELETE /api/storages/localfiles/:id': async (c) => ({ path: `/api/storages/localfiles/${await storageRow(c, 'import', 'localfiles')}` }),
    'POST /api/storages/localfiles/:id/sync': async (c) => ({ path: `/api/storages/localfiles/${await storageRow(c, 'import', 'localfiles')}/sync`, ok: [400] }),
    'GET /api/storages/export/s3': async (c) => ({ path: `/api/storages/export/s3?project=${p(c)}` }),
    'POST /api/storages/export/s3': async (c) => ({ path: '/api/storages/export/s3', body: { project: p(c), bucket: 'matrix', s3_endpoint: 'http://127.0.0.1:9' }, ok: [400] }),
    'POST /api/storages/export/s3/validate': async (c) => ({ path: '/api/storages/export/s3/validate', body: { project: p(c), bucket: 'matrix', s3_endpoint: 'http://127.0.0.1:9' }, ok: [400] }),
    'GET /api/storages/export/s3/:id': async (c) => ({ path: `/api/storages/export/s3/${await storageRow(c, 'export', 's3')}` }),
    'PATCH /api/storages/export/s3/:id': async (c) => ({ path: `/api/storages/export/s3/${await storageRow(c, 'export', 's3')}`, body: { title: 'Renamed' }, ok: [400] }),
    'DELETE /api/storages/export/s3/:id': async (c) => ({ path: `/api/storages/export/s3/${await storageRow(c, 'export', 's3')}` }),
    'POST /api/storages/export/s3/:id/sync': async (c) => ({ path: `/api/storages/export/s3/${await storageRow(c, 'export', 's3')}/sync` }),
    'GET /api/storages/export/localfiles': async (c) => ({ path: `/api/storages/export/localfiles?project=${p(c)}` }),
    'POST /api/storages/export/localfiles': async (c) => ({ path: '/api/storages/export/localfiles', body: { project: p(c), path: '/nonexistent/matrix' }, ok: [400] }),
    'POST /api/storages/export/localfiles/validate': async (c) => ({ path: '/api/storages/export/localfiles/validate', body: { project: p(c), path: '/nonexistent/matrix' }, ok: [400] }),
    'GET /api/storages/export/localfiles/:id': async (c) => ({ path: `/api/storages/export/localfiles/${await storageRow(c, 'export', 'localfiles')}` }),
    'PATCH /api/storages/export/localfiles/:id': async (c) => ({ path: `/api/storages/export/localfiles/${await storageRow(c, 'export', 'localfiles')}`, body: { title: 'Renamed' }, ok: [400] }),
    'DELETE /api/storages/export/localfiles/:id': async (c) => ({ path: `/api/storages/export/localfiles/${await storageRow(c, 'export', 'localfiles')}` }),
    'POST /api/storages/export/localfiles/:id/sync': async (c) => ({ path: `/api/storages/export/localfiles/${await storageRow(c, 'export', 'localfiles')}/sync`, ok: [400] }),
    ...cloudStorageRecipes(),
    ...s3WithRoleRecipes(),
    // Local files serving is off in the matrix's server: 403 for everyone allowed (the permission's 403 names it; this one does not).
    'GET /data/local-files': async () => ({ path: '/data/local-files/?d=pics/a.jpg', ok: [403] }),
    'GET /tasks/:id/resolve': async (c) => ({ path: await mediaPath(c, 'resolve'), ok: [303] }),
    'GET /tasks/:id/presign': async (c) => ({ path: await mediaPath(c, 'presign'), ok: [303] }),
    'GET /projects/:id/resolve': async (c) => {
      await storageRow(c, 'import', 's3');
      return { path: `/projects/${p(c)}/resolve?fileuri=${MATRIX_URI}`, ok: [303] };
    },
    'GET /projects/:id/presign': async (c) => {
      await storageRow(c, 'import', 's3');
      return { path: `/projects/${p(c)}/presign?fileuri=${MATRIX_URI}`, ok: [303] };
    },
  };
}
