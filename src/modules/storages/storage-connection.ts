/**
 * From a storage row (or a request's fields) to a working adapter: opens the sealed credentials,
 * applies the server's rules (SSRF policy on custom endpoints, trusted CAs, local-files switch)
 * and turns adapter failures into 400s naming the field at fault.
 */
import dns from 'node:dns';
import type net from 'node:net';
import type { AppDeps } from '../../app-deps.js';
import { fromJson, type StorageRow } from '../../db/schema.js';
import { AppError, invalid } from '../../http/errors.js';
import { createAddressPolicy, parseIpLiteral } from '../../outbound/address-policy.js';
import { outboundRequest } from '../../outbound/outbound.js';
import { CredentialsUnreadable, openCredentials } from '../../security/credentials-cipher.js';
import { AssumedRoleCache, type StsTransport } from '../../storage/aws-sts.js';
import { StorageError, type StorageAdapter } from '../../storage/storage-adapter.js';
import type { AdapterEnv } from '../../storage/storage-registry.js';
import { specOf, type StorageKind } from './storage-types.js';
import { tableOf } from './storages.repository.js';

/** The settings of a row, parsed. */
export const settingsOfRow = (row: StorageRow) => fromJson<Record<string, unknown>>(row.settings);

/** The opened credentials of a row ({} when none); a 400 naming `credentials` when they cannot be opened. */
export function credentialsOfRow(deps: AppDeps, kind: StorageKind, row: Pick<StorageRow, 'credentials'>): Record<string, string> {
  if (row.credentials === null) return {};
  try {
    return openCredentials(deps.secrets, tableOf(kind), row.credentials);
  } catch (err) {
    if (err instanceof CredentialsUnreadable) throw invalid({ credentials: [err.message] });
    throw err;
  }
}

/** A StorageError as a 400 naming its field (the type's endpoint field for `s3_endpoint`-like faults). */
export function storageProblem(err: unknown, endpointField: string | null): AppError {
  if (!(err instanceof StorageError)) throw err;
  const field = err.field === 's3_endpoint' && endpointField !== null ? endpointField : (err.field ?? 'storage');
  return invalid({ [field]: [err.message] }, 'Storage validation error');
}

/** Resolves host names with the outbound address policy applied to every answer (SSRF), for the SDK's agents. */
function policyLookup(deps: AppDeps): net.LookupFunction {
  const policy = createAddressPolicy(deps.config.outbound);
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err);
      for (const a of addresses) {
        const why = policy(a.address, hostname);
        if (why) return callback(Object.assign(new Error(`Refused to connect to ${hostname}: ${why}`), { code: 'EREFUSED' }));
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  }) as unknown as net.LookupFunction;
}

/**
 * Checks a custom endpoint URL: http(s), no credentials in it, and every address its host has
 * allowed by the SSRF rules (SSRF_ALLOWED_HOSTS to reach a private store). A 400 naming `field`.
 * With `resolve` false only an IP-literal host is checked (no DNS: used on every adapter creation).
 */
export async function checkEndpoint(deps: AppDeps, field: string, value: string, resolve = true): Promise<void> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid({ [field]: ['Enter a valid URL (http:// or https://).'] });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid({ [field]: ['Only http:// and https:// endpoints are accepted.'] });
  if (url.username !== '' || url.password !== '') throw invalid({ [field]: ['Put credentials in their own fields, not in the URL.'] });
  await checkHost(deps, field, url.hostname.replace(/^\[(.*)\]$/, '$1'), resolve);
}

/**
 * Checks a bare host name or IP address (Redis `host`): a plausible name, and every address it
 * resolves to allowed by the SSRF rules. A 400 naming `field`; `resolve` as in checkEndpoint.
 */
export async function checkHost(deps: AppDeps, field: string, host: string, resolve = true): Promise<void> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const literal = parseIpLiteral(bare);
  if (literal === null && !/^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/.test(bare)) {
    throw invalid({ [field]: ['Enter a host name or an IP address (no scheme, port or path).'] });
  }
  if (literal === null && !resolve) return;
  const policy = createAddressPolicy(deps.config.outbound);
  const addresses = literal !== null ? [literal] : (await dns.promises.lookup(bare, { all: true }).catch(() => [])).map((a) => a.address);
  if (addresses.length === 0) throw invalid({ [field]: [`Cannot resolve ${bare}.`] });
  for (const a of addresses) {
    const why = policy(a, bare);
    if (why) throw invalid({ [field]: [`Refused by the server's SSRF rules: ${why} (an administrator may allow it with SSRF_ALLOWED_HOSTS).`] });
  }
}

/**
 * STS requests of S3 storages that assume a role go through the outbound module: the SSRF rules,
 * the CAs the S3 client trusts (AWS_CA_BUNDLE or CUSTOM_CA_CERTS), a short time limit, a small
 * body, and no redirect (a signed request is never re-sent elsewhere).
 */
function stsTransport(deps: AppDeps, ca: readonly string[] | null): StsTransport {
  const config = { outbound: deps.config.outbound, trust: { ...deps.config.trust, ca: ca ?? undefined } };
  return async (url, request) => {
    try {
      const res = await outboundRequest(url, { config, method: 'POST', headers: request.headers, body: request.body, timeoutMs: 10_000, maxBytes: 64 * 1024, maxRedirects: 0 });
      return { status: res.status, body: res.body.toString('utf8') };
    } catch (err) {
      if (err instanceof AppError) throw new StorageError('unreachable', `STS (AWS_ENDPOINT_URL_STS): ${err.message}`, 'role_arn');
      throw err;
    }
  };
}

/** Each server's cache of assumed-role credentials (keyed by its config: one per app, as tests start several). */
const roleCaches = new WeakMap<object, AssumedRoleCache>();

function roleCacheOf(deps: AppDeps): AssumedRoleCache {
  let cache = roleCaches.get(deps.config);
  if (!cache) roleCaches.set(deps.config, (cache = new AssumedRoleCache()));
  return cache;
}

/**
 * The server-wide facts adapters need. `storage` names the saved storage the adapter serves
 * (`import-12`), for the RoleSessionName of an assumed role and its credential cache; absent for
 * a connection check, which asks STS afresh.
 */
export function adapterEnv(deps: AppDeps, storage?: string): AdapterEnv {
  const t = deps.config.trust;
  const ca = t.awsCaBundle ? [...t.awsCaBundle.certs, ...t.customCas] : (t.ca ?? null);
  const sts = { endpoint: deps.config.storages.stsEndpoint, transport: stsTransport(deps, ca), sessionName: `labelvault-${storage ?? 'check'}`, cache: storage !== undefined ? roleCacheOf(deps) : null };
  return { localFiles: deps.config.localFiles, ca, trustCa: t.ca ?? null, lookup: policyLookup(deps), serverCredentials: deps.config.storages.serverCredentials, sts };
}

/**
 * An adapter for settings and credentials of a type; a 400 naming the field for a refused
 * configuration (local files disabled, path outside the root, endpoint refused).
 */
export async function openAdapter(deps: AppDeps, type: string, settings: Record<string, unknown>, credentials: Record<string, string>, opts: { resolveEndpoint: boolean; storage?: string }): Promise<StorageAdapter> {
  const spec = specOf(type);
  const endpoint = spec.endpointField ? settings[spec.endpointField] : undefined;
  const check = typeof endpoint === 'string' && endpoint.trim() !== '' ? (resolve: boolean) => (spec.endpointKind === 'host' ? checkHost : checkEndpoint)(deps, spec.endpointField!, endpoint.trim(), resolve) : null;
  // Its form first; its addresses (DNS) only after the adapter's own refusals (no key of its own…),
  // so a refused configuration is refused before any look-up of its host.
  await check?.(false);
  // The registry (and with it the cloud SDKs, about 60 MB) loads on the first storage use, not at start.
  const { createAdapter } = await import('../../storage/storage-registry.js');
  let adapter: StorageAdapter;
  try {
    adapter = createAdapter(type, settings, credentials, adapterEnv(deps, opts.storage));
  } catch (err) {
    throw storageProblem(err, spec.endpointField);
  }
  if (opts.resolveEndpoint) await check?.(true);
  return adapter;
}

/** The adapter of a saved storage. */
export async function adapterOfRow(deps: AppDeps, kind: StorageKind, row: StorageRow): Promise<StorageAdapter> {
  return openAdapter(deps, row.type, settingsOfRow(row), credentialsOfRow(deps, kind, row), { resolveEndpoint: false, storage: `${kind}-${row.id}` });
}
