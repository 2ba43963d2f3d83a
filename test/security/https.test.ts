/**
 * HTTPS served by the process itself (TLS_CERT_FILE / TLS_KEY_FILE): HSTS and Secure cookies over
 * HTTPS, a client that does not trust the CA is refused, the redirect-only listener of the real
 * process (src/main.ts) sends plain HTTP to HTTPS, and X-Forwarded-Proto counts only from a proxy
 * listed in TRUST_PROXY. Certificates come from a throwaway CA made per run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, call, startServer, type TestServer, freePort } from '../harness.js';
import { makeMember, PASSWORD } from '../factories.js';
import { makeCa, makeTempDir, removeTempDir, type IssuedCert, type TestCa } from '../tls-fixtures.js';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with node:https trusting only the given CA. */
function httpsRequest(url: string, opts: { ca: string; method?: string; headers?: Record<string, string>; body?: unknown }): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = https.request(url, { method: opts.method ?? 'GET', ca: opts.ca, headers: { ...opts.headers, ...(body && { 'content-type': 'application/json' }) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One plain-HTTP request (no redirect following). */
function httpRequest(url: string, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end();
  });
}


let dir: string;
let ca: TestCa;
let otherCa: TestCa;
let cert: IssuedCert;

beforeAll(async () => {
  dir = await makeTempDir();
  ca = await makeCa(dir);
  otherCa = await makeCa(dir, 'other-ca');
  cert = await ca.issue('server', { dns: ['localhost'], ip: ['127.0.0.1'] });
});
afterAll(async () => removeTempDir(dir));

describe('HTTPS served by the process', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer('sqlite', { TLS_CERT_FILE: cert.certPath, TLS_KEY_FILE: cert.keyPath });
  });
  afterAll(async () => s?.close());

  it('answers HTTPS with HSTS to a client that trusts the CA', async () => {
    expect(s.url.startsWith('https://')).toBe(true);
    const r = await httpsRequest(`${s.url}/api/version`, { ca: ca.cert });
    expect(r.status).toBe(200);
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it('is refused by a client that trusts another CA only', async () => {
    await expect(httpsRequest(`${s.url}/api/version`, { ca: otherCa.cert })).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('sets Secure, HttpOnly, SameSite=Lax session cookies at an HTTPS login, and the session works', async () => {
    const m = await makeMember(s.deps, 1, 'AN');
    const r = await httpsRequest(`${s.url}/api/auth/login`, { ca: ca.cert, method: 'POST', body: { email: m.email, password: PASSWORD } });
    expect(r.status).toBe(200);
    const session = (r.headers['set-cookie'] ?? []).find((c) => c.startsWith('lv_session='))!;
    expect(session).toMatch(/;\s*Secure/i);
    expect(session).toMatch(/;\s*HttpOnly/i);
    expect(session).toMatch(/;\s*SameSite=Lax/i);
    const who = await httpsRequest(`${s.url}/api/current-user/whoami`, { ca: ca.cert, headers: { cookie: session.split(';')[0]! } });
    expect(who.status).toBe(200);
    expect(JSON.parse(who.body).email).toBe(m.email);
  });

  it('refuses plain HTTP on the HTTPS port', async () => {
    const r = await httpRequest(s.url.replace('https://', 'http://') + '/api/version').catch((e: Error) => e);
    // Node's TLS server answers a plain request with a 400 or drops it: never a page.
    if (r instanceof Error) expect(r.message).toMatch(/socket hang up|ECONNRESET|parse/i);
    else expect(r.status).toBe(400);
  });
});

describe('HSTS and X-Forwarded-Proto behind a proxy', () => {
  const servers: TestServer[] = [];
  afterAll(async () => Promise.all(servers.map((x) => x.close())));

  it('sends no HSTS over plain HTTP, and ignores X-Forwarded-Proto from an untrusted client', async () => {
    const s = await startServer('sqlite');
    servers.push(s);
    expect((await call(s, 'GET', '/api/version')).headers.get('strict-transport-security')).toBeNull();
    const spoofed = await call(s, 'GET', '/api/version', { headers: { 'x-forwarded-proto': 'https' } });
    expect(spoofed.headers.get('strict-transport-security')).toBeNull();
  });

  it('honours X-Forwarded-Proto from a proxy listed in TRUST_PROXY (HSTS and Secure cookie)', async () => {
    const s = await startServer('sqlite', { TRUST_PROXY: '127.0.0.1' });
    servers.push(s);
    const r = await call(s, 'GET', '/api/version', { headers: { 'x-forwarded-proto': 'https' } });
    expect(r.headers.get('strict-transport-security')).toBe('max-age=31536000');
    const m = await makeMember(s.deps, 1, 'AN');
    const login = await call(s, 'POST', '/api/auth/login', { headers: { 'x-forwarded-proto': 'https' }, body: { email: m.email, password: PASSWORD } });
    expect(login.headers.getSetCookie().find((c) => c.startsWith('lv_session='))).toMatch(/;\s*Secure/i);
    const plain = await call(s, 'GET', '/api/version', { headers: { 'x-forwarded-proto': 'http' } });
    expect(plain.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('the real process with TLS and HTTP_REDIRECT_PORT', () => {
  let child: ChildProcess;
  let dataDir: string;
  let httpsPort: number;
  let redirectPort: number;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-https-'));
    httpsPort = await freePort();
    redirectPort = await freePort();
    const env = {
      ...process.env,
      ...baseEnv(dataDir),
      LOG_LEVEL: 'info',
      PORT: String(httpsPort),
      TLS_CERT_FILE: cert.certPath,
      TLS_KEY_FILE: cert.keyPath,
      HTTP_REDIRECT_PORT: String(redirectPort),
    };
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const deadline = Date.now() + 30_000;
    while (!out.includes('redirects to HTTPS')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 40_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('redirects plain HTTP (any path and verb) to the same path over HTTPS with 308, and serves nothing', async () => {
    const r = await httpRequest(`http://127.0.0.1:${redirectPort}/api/projects/?page=2`);
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe(`https://127.0.0.1:${httpsPort}/api/projects/?page=2`);
    const post = await httpRequest(`http://localhost:${redirectPort}/api/auth/login`, 'POST');
    expect(post.status).toBe(308);
    expect(post.headers.location).toBe(`https://localhost:${httpsPort}/api/auth/login`);
    expect(post.headers['set-cookie']).toBeUndefined();
  });

  it('answers HTTPS with HSTS on the main port', async () => {
    const r = await httpsRequest(`https://localhost:${httpsPort}/api/version`, { ca: ca.cert });
    expect(r.status).toBe(200);
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000');
  });
});
