/**
 * What the GCS adapter authenticates with when a storage has no key: the registry refuses
 * Google's own endpoints (googleapis.com, however spelled) unless STORAGE_SERVER_CREDENTIALS_ENABLED,
 * and the adapter itself gives the SDK an auth client that sends nothing, so even the SDK's
 * default endpoint gets no Application Default Credentials. No request leaves the process here.
 */
import { describe, expect, it } from 'vitest';
import { anonymousAuthClient, GcsAdapter } from '../../src/storage/gcs.adapter.js';
import { createAdapter, isGoogleEndpoint } from '../../src/storage/storage-registry.js';

/** The SDK's auth client of an adapter (what authorizes each of its requests). */
const authOf = (a: GcsAdapter) => (a as unknown as { bucket: { storage: { authClient: { authorizeRequest(o: { url: string; headers?: Record<string, string> }): Promise<{ headers: Record<string, string> }>; cachedCredential: unknown } } } }).bucket.storage.authClient;

describe('GCS without a key', () => {
  it("names Google's endpoints, however spelled, and nothing else", () => {
    for (const e of ['https://storage.googleapis.com', 'https://storage.googleapis.com/', 'HTTPS://Storage.GoogleApis.COM:443/x', 'https://storage.googleapis.com.', 'https://storage.googleapis.com..', 'https://a.b.googleapis.com', 'https://googleapis.com', 'https://storage\uff0egoogleapis\uff0ecom', 'not a url']) {
      expect(isGoogleEndpoint(e), e).toBe(true);
    }
    for (const e of ['http://127.0.0.1:4443', 'https://googleapis.com.example.org', 'https://evilgoogleapis.com', 'https://gcs.internal:9000/storage/v1']) {
      expect(isGoogleEndpoint(e), e).toBe(false);
    }
  });

  it("is refused for Google's endpoints, allowed for another (an emulator) only with an auth client that sends nothing", async () => {
    const env = { localFiles: { enabled: false, documentRoot: null }, ca: null, lookup: null };
    expect(() => createAdapter('gcs', { bucket: 'b', gcs_endpoint: 'https://storage.googleapis.com/' }, {}, env)).toThrow(/STORAGE_SERVER_CREDENTIALS_ENABLED/);
    const emulator = createAdapter('gcs', { bucket: 'b', gcs_endpoint: 'http://127.0.0.1:4443' }, {}, env) as GcsAdapter;
    expect(authOf(emulator).cachedCredential).not.toBeNull();
    // Even at the SDK's default endpoint (where it would otherwise send ADC) no header is added.
    const adapter = new GcsAdapter({ bucket: 'b', prefix: '', projectId: null, endpoint: null, credentialsJson: null, serverCredentials: false });
    const opts = await authOf(adapter).authorizeRequest({ url: 'https://storage.googleapis.com/storage/v1/b/b/o', headers: { 'x-kept': '1' } });
    expect(opts.headers).toEqual({ 'x-kept': '1' });
    expect(await anonymousAuthClient().getRequestHeaders()).toEqual({});
  });

  it('uses the SDK default (ADC) only when the server allows it', () => {
    const env = { localFiles: { enabled: false, documentRoot: null }, ca: null, lookup: null, serverCredentials: true };
    const a = createAdapter('gcs', { bucket: 'b' }, {}, env) as GcsAdapter;
    expect(authOf(a).cachedCredential).toBeNull();
  });
});
