/**
 * A small loopback DOUBLE of Google Cloud Storage — not an emulator, and not Google. No GCS
 * emulator runs on this machine (the Firebase one needs Java 21 and a download), so the GCS
 * adapter (the real @google-cloud/storage SDK, pointed here with `apiEndpoint`) is tested against
 * this stand-in, written from the public JSON API and V4 signing documentation:
 * - JSON API: bucket get, objects list (prefix, delimiter, maxResults, pageToken), object get
 *   (metadata, `alt=media` with Range), multipart upload, delete. Requests are not authenticated
 *   (with a custom endpoint the SDK sends no OAuth token).
 * - V4 signed URLs (`GET /<bucket>/<object>?X-Goog-…`): the signature is verified for real with
 *   the service account's public key over the canonical request (host header = the host name
 *   WITHOUT the port, as the SDK signs it), the credential's account must be the expected one,
 *   and `X-Goog-Date + X-Goog-Expires` must not have passed: tampered → 403, expired → 400,
 *   as Google answers.
 * What it cannot prove: Google's own behaviour, IAM, OAuth, or anything beyond these routes.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';

/** A throwaway service account: the JSON key the adapter is given, and its public key. */
export function makeServiceAccount(email = 'labelvault-test@test-project.iam.gserviceaccount.com') {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const json = JSON.stringify({
    type: 'service_account',
    project_id: 'test-project',
    private_key_id: 'k1',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: email,
    client_id: '1',
    token_uri: 'http://127.0.0.1:9/token',
  });
  return { json, email, publicKey };
}

interface Obj {
  data: Buffer;
  contentType: string;
  updated: string;
}

export interface GcsDouble {
  endpoint: string;
  buckets: Map<string, Map<string, Obj>>;
  createBucket(name: string): void;
  put(bucket: string, name: string, data: string | Buffer, contentType?: string): void;
  /** Requests the double did not understand (a test asserts this stays empty). */
  unknown: string[];
  stop(): Promise<void>;
}

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const encPath = (s: string) => s.split('/').map(enc).join('/');

function send(res: http.ServerResponse, status: number, body?: unknown) {
  if (body === undefined) return void res.writeHead(status).end();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json' }).end(text);
}
const fail = (res: http.ServerResponse, code: number, message: string) => send(res, code, { error: { code, message, errors: [{ message, reason: message }] } });

function meta(bucket: string, name: string, o: Obj) {
  return { kind: 'storage#object', bucket, name, id: `${bucket}/${name}/1`, size: String(o.data.length), contentType: o.contentType, updated: o.updated, generation: '1', metageneration: '1' };
}

/** Starts the double on a loopback port; `account` is the service account whose signatures it accepts. */
export async function startGcsDouble(account: { email: string; publicKey: crypto.KeyObject }): Promise<GcsDouble> {
  const buckets = new Map<string, Map<string, Obj>>();
  const unknown: string[] = [];

  const serveBytes = (req: http.IncomingMessage, res: http.ServerResponse, o: Obj) => {
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      const end = m[2] === '' ? o.data.length - 1 : Math.min(Number(m[2]), o.data.length - 1);
      if (start >= o.data.length) return fail(res, 416, 'Requested range not satisfiable');
      res.writeHead(206, { 'content-type': o.contentType, 'content-range': `bytes ${start}-${end}/${o.data.length}`, 'content-length': String(end - start + 1) });
      return void res.end(o.data.subarray(start, end + 1));
    }
    res.writeHead(200, { 'content-type': o.contentType, 'content-length': String(o.data.length) });
    res.end(o.data);
  };

  /** Verifies a V4 signed GET; answers the error and returns false when it does not hold. */
  const signedOk = (req: http.IncomingMessage, res: http.ServerResponse, url: URL): boolean => {
    const q = url.searchParams;
    const signature = q.get('X-Goog-Signature');
    const credential = q.get('X-Goog-Credential') ?? '';
    const date = q.get('X-Goog-Date') ?? '';
    const expires = Number(q.get('X-Goog-Expires'));
    if (!signature || q.get('X-Goog-Algorithm') !== 'GOOG4-RSA-SHA256' || q.get('X-Goog-SignedHeaders') !== 'host') return fail(res, 400, 'MissingSecurityHeader'), false;
    const [email, ...scope] = credential.split('/');
    if (email !== account.email) return fail(res, 403, 'SignatureDoesNotMatch'), false;
    const query = [...q.entries()]
      .filter(([k]) => k !== 'X-Goog-Signature')
      .map(([k, v]) => [enc(k), enc(v)] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const hostname = (req.headers.host ?? '').replace(/:\d+$/, ''); // signed without the port
    const canonical = ['GET', encPath(decodeURIComponent(url.pathname)), query, `host:${hostname}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n');
    const toSign = ['GOOG4-RSA-SHA256', date, scope.join('/'), crypto.createHash('sha256').update(canonical).digest('hex')].join('\n');
    let valid = false;
    try {
      valid = crypto.verify('RSA-SHA256', Buffer.from(toSign), account.publicKey, Buffer.from(signature, 'hex'));
    } catch {
      valid = false;
    }
    if (!valid) return fail(res, 403, 'SignatureDoesNotMatch'), false;
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
    const signedAt = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
    if (!Number.isFinite(signedAt) || Date.now() > signedAt + expires * 1000) return fail(res, 400, 'ExpiredToken'), false;
    return true;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://double');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const p = url.pathname;
    let m: RegExpExecArray | null;
    if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(p)) && req.method === 'POST') {
      const bucket = buckets.get(decodeURIComponent(m[1]!));
      if (!bucket) return fail(res, 404, 'The specified bucket does not exist.');
      const boundary = /boundary="?([^";]+)"?/.exec(req.headers['content-type'] ?? '')?.[1];
      if (!boundary) return fail(res, 400, 'multipart expected');
      const parts = body.toString('latin1').split(`--${boundary}`).slice(1, -1);
      const [head, media] = parts.map((part) => {
        const i = part.indexOf('\r\n\r\n');
        return { headers: part.slice(0, i), content: Buffer.from(part.slice(i + 4).replace(/\r\n$/, ''), 'latin1') };
      });
      const info = JSON.parse(head!.content.toString('utf8')) as { name?: string; contentType?: string };
      const name = info.name ?? url.searchParams.get('name') ?? '';
      const ct = info.contentType ?? /content-type:\s*([^\r\n]+)/i.exec(media!.headers)?.[1] ?? 'application/octet-stream';
      const o = { data: media!.content, contentType: ct, updated: new Date().toISOString() };
      bucket.set(name, o);
      return send(res, 200, meta(decodeURIComponent(m[1]!), name, o));
    }
    if ((m = /^\/storage\/v1\/b\/([^/]+)$/.exec(p)) && req.method === 'GET') {
      const name = decodeURIComponent(m[1]!);
      return buckets.has(name) ? send(res, 200, { kind: 'storage#bucket', name, id: name }) : fail(res, 404, 'The specified bucket does not exist.');
    }
    if ((m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(p)) && req.method === 'GET') {
      const bucket = buckets.get(decodeURIComponent(m[1]!));
      if (!bucket) return fail(res, 404, 'The specified bucket does not exist.');
      const prefix = url.searchParams.get('prefix') ?? '';
      const delimiter = url.searchParams.get('delimiter');
      const max = Number(url.searchParams.get('maxResults') ?? 1000);
      const after = url.searchParams.get('pageToken') ?? '';
      const names = [...bucket.keys()].filter((n) => n.startsWith(prefix) && n > after).sort();
      const items: string[] = [];
      const prefixes = new Set<string>();
      for (const n of names) {
        if (items.length >= max) break;
        const rest = n.slice(prefix.length);
        if (delimiter && rest.includes(delimiter)) prefixes.add(prefix + rest.slice(0, rest.indexOf(delimiter) + 1));
        else items.push(n);
      }
      const more = items.length >= max && names.some((n) => n > items[items.length - 1]!);
      return send(res, 200, { kind: 'storage#objects', items: items.map((n) => meta(decodeURIComponent(m![1]!), n, bucket.get(n)!)), ...(prefixes.size > 0 && { prefixes: [...prefixes] }), ...(more && { nextPageToken: items[items.length - 1] }) });
    }
    if ((m = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(p))) {
      const bucketName = decodeURIComponent(m[1]!);
      const bucket = buckets.get(bucketName);
      const name = decodeURIComponent(m[2]!);
      if (!bucket) return fail(res, 404, 'The specified bucket does not exist.');
      const o = bucket.get(name);
      if (req.method === 'DELETE') return o && bucket.delete(name) ? send(res, 204) : fail(res, 404, 'No such object');
      if (req.method !== 'GET') return fail(res, 405, 'Method not allowed');
      if (!o) return fail(res, 404, 'No such object');
      return url.searchParams.get('alt') === 'media' ? serveBytes(req, res, o) : send(res, 200, meta(bucketName, name, o));
    }
    if ((m = /^\/([^/]+)\/(.+)$/.exec(p)) && req.method === 'GET' && url.searchParams.has('X-Goog-Signature')) {
      if (!signedOk(req, res, url)) return;
      const o = buckets.get(decodeURIComponent(m[1]!))?.get(decodeURIComponent(m[2]!));
      return o ? serveBytes(req, res, o) : fail(res, 404, 'NoSuchKey');
    }
    unknown.push(`${req.method} ${req.url}`);
    return fail(res, 400, 'not understood by the double');
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => fail(res, 500, 'double failed'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    buckets,
    unknown,
    createBucket: (name) => void (buckets.has(name) || buckets.set(name, new Map())),
    put: (bucket, name, data, contentType = 'application/octet-stream') => buckets.get(bucket)!.set(name, { data: Buffer.from(data), contentType, updated: new Date().toISOString() }),
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
