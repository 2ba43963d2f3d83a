/**
 * Stored XSS: an uploaded HTML or SVG file (whatever content type the uploader claims) is served
 * as a download with nosniff and a sandboxing CSP, so it cannot run script in the app's origin;
 * task data comes back as JSON with nosniff; the HTML setup page escapes what it echoes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userContentHeaders } from '../../src/http/user-content.js';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { makeTeam } from '../factories.js';

const SCRIPT = '<script>fetch("/api/current-user/token").then(r=>r.text()).then(t=>parent.steal(t))</script>';
const HTML = `<!doctype html><html><body><h1>hi</h1>${SCRIPT}<img src=x onerror="alert(1)"></body></html>`;
const SVG = `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"><script>alert(1)</script><rect width="10" height="10"/></svg>`;

describe('serving user content (unit)', () => {
  it('takes the type from an extension allowlist and downloads active or unknown types', () => {
    expect(userContentHeaders('a1-photo.PNG')).toMatchObject({ 'content-type': 'image/png', 'x-content-type-options': 'nosniff' });
    expect(userContentHeaders('a1-photo.png')['content-disposition']).toBeUndefined();
    for (const [name, type] of [
      ['x.html', 'text/html; charset=utf-8'],
      ['x.htm', 'text/html; charset=utf-8'],
      ['x.svg', 'image/svg+xml'],
      ['x.xml', 'application/xml'],
      ['x.js', 'text/javascript'],
      ['x.exe', 'application/octet-stream'],
      ['noextension', 'application/octet-stream'],
    ] as const) {
      const h = userContentHeaders(name);
      expect(h['content-type'], name).toBe(type);
      expect(h['content-disposition'], name).toMatch(/^attachment; filename="/);
      expect(h['content-security-policy'], name).toMatch(/\bsandbox\b/);
      expect(h['content-security-policy'], name).toContain("default-src 'none'");
    }
  });
});

describe.each(DIALECTS)('stored XSS on %s', (dialect) => {
  let s: TestServer;
  let team: Awaited<ReturnType<typeof makeTeam>>;
  let projectId: number;

  beforeAll(async () => {
    s = await startServer(dialect);
    team = await makeTeam(s.deps);
    const p = await call(s, 'POST', '/api/projects', {
      token: team.manager.token,
      body: { title: 'xss', workspace: team.workspaceId, label_config: '<View><HyperText name="page" value="$html"/><Choices name="c" toName="page"><Choice value="ok"/></Choices></View>' },
    });
    expect(p.status).toBe(201);
    projectId = p.body.id;
  });
  afterAll(async () => s?.close());

  /** Uploads one file as media (one task per file); returns the URL the task points at. */
  const upload = async (name: string, content: string, claimedType: string): Promise<string> => {
    const form = new FormData();
    form.append('file', new Blob([content], { type: claimedType }), name);
    const res = await fetch(`${s.url}/api/projects/${projectId}/import?return_task_ids=true`, { method: 'POST', headers: { authorization: `Token ${team.manager.token}` }, body: form });
    const body = (await res.json()) as { task_ids: number[] };
    expect(res.status, JSON.stringify(body)).toBe(201);
    const task = await call(s, 'GET', `/api/tasks/${body.task_ids[0]}`, { token: team.manager.token });
    const url = Object.values(task.body.data as Record<string, string>).find((v) => String(v).startsWith('/data/upload/'));
    expect(url).toBeDefined();
    return url!;
  };

  const fetchUpload = (url: string) => fetch(`${s.url}${url}`, { headers: { authorization: `Token ${team.manager.token}` } });

  it('serves an uploaded HTML file as an attachment with nosniff and a sandboxing CSP, even when uploaded as image/png', async () => {
    const url = await upload('evil.html', HTML, 'image/png');
    const res = await fetchUpload(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="[\w.-]+evil\.html"$/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toMatch(/\bsandbox\b/);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src/);
    expect(await res.text()).toBe(HTML); // the bytes are unchanged: the headers make them inert
  });

  it('serves an uploaded SVG file as an attachment with nosniff and a sandboxing CSP', async () => {
    const url = await upload('evil.svg', SVG, 'image/svg+xml');
    const res = await fetchUpload(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toMatch(/\bsandbox\b/);
  });

  it('serves HTML hidden in a .png as image/png with nosniff (never sniffed into a page), inline', async () => {
    const url = await upload('fake.png', HTML, 'text/html');
    const res = await fetchUpload(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBeNull();
    expect(res.headers.get('content-security-policy')).toMatch(/\bsandbox\b/);
  });

  it('refuses the file to a member of another organization (404), without headers that matter', async () => {
    const url = await upload('other.html', HTML, 'text/html');
    const res = await fetch(`${s.url}${url}`, { headers: { authorization: `Token ${team.other.owner.token}` } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('returns task data holding script as JSON with nosniff and the app CSP', async () => {
    const created = await call(s, 'POST', `/api/projects/${projectId}/import?return_task_ids=true`, { token: team.manager.token, body: [{ html: HTML }] });
    expect(created.status).toBe(201);
    const res = await fetch(`${s.url}/api/tasks/${created.body.task_ids[0]}`, { headers: { authorization: `Token ${team.manager.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(((await res.json()) as { data: { html: string } }).data.html).toBe(HTML);
  });

  it('escapes what the setup page echoes (its token parameter)', async () => {
    const res = await fetch(`${s.url}/user/setup?token=${encodeURIComponent('"><script>alert(1)</script>')}`);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#34;&#62;&#60;script&#62;');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});
