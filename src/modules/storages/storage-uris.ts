/**
 * Storage URIs in task data (`s3://bucket/key`, `gs://…`, `azure-blob://…`) and the app URL that
 * replaces them in API responses (Label Studio's `/tasks/{id}/resolve/?fileuri=<url-safe base64>`).
 * No imports: the task mapper calls this on every task it serialises.
 */

/** The app URL a task's storage URI is replaced by in responses. */
export function resolveUrl(taskId: number, uri: string): string {
  return `/tasks/${taskId}/resolve/?fileuri=${Buffer.from(uri, 'utf8').toString('base64url')}`;
}

const STORAGE_SCHEMES = ['s3://', 'gs://', 'azure-blob://'];

/**
 * Task data with storage URIs (top-level strings, and strings in top-level lists) replaced by
 * their resolve URLs. Cheap: a prefix test per value, no query; a URI of no connected storage is
 * rewritten too and then refused by the resolve route.
 */
export function withResolvedUris(taskId: number, data: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(data)) {
    const r = typeof v === 'string' ? rewrite(taskId, v) : Array.isArray(v) ? rewriteList(taskId, v) : v;
    if (r !== v) (out ??= { ...data })[k] = r;
  }
  return out ?? data;
}

function rewrite(taskId: number, v: string): string {
  for (const s of STORAGE_SCHEMES) if (v.startsWith(s)) return resolveUrl(taskId, v);
  return v;
}

function rewriteList(taskId: number, list: unknown[]): unknown[] {
  let changed = false;
  const out = list.map((x) => {
    const r = typeof x === 'string' ? rewrite(taskId, x) : x;
    if (r !== x) changed = true;
    return r;
  });
  return changed ? out : list;
}
