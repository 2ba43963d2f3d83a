/**
 * Static serving of the web app, outside the API: the built single-page app (Vite's output in
 * dist/web), and the Label Studio editor bundle straight from its npm package (only its script
 * and stylesheet, never its own index.html, which loads fonts from elsewhere).
 *
 * These are files anyone may fetch (they hold no data), so they are not route declarations:
 * every API path stays under /api (and uploads under /data), where unknown paths keep answering
 * JSON 404s. The page itself is never cached (a new build is picked up at once); hashed assets
 * and the version-pinned editor are cached for a year.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where the files come from. Tests and main.ts use the defaults. */
export interface WebAppOptions {
  /** Vite's output folder (index.html, assets/). */
  webDir: string;
  /** The editor package's `build/static` folder (js/main.js, css/main.css). */
  editorDir: string;
  /** The editor's version: part of its URL, so it can be cached for good. */
  editorVersion: string;
}

/** Paths of the single-page app: each answers index.html; the app's router takes it from there. */
export const APP_PAGES = ['/', '/login', '/user/login', '/user/signup', '/account', '/projects', '/projects/*', '/organization', '/organization/*'];

const FOREVER = 'public, max-age=31536000, immutable';
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** The repository root (this file sits at src/modules/web or dist/modules/web). */
const ROOT = path.resolve(import.meta.dirname, '../../..');

/** The default locations: dist/web, and the installed editor package. */
export function defaultWebAppOptions(): WebAppOptions {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('@heartexlabs/label-studio/package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { version: string };
  return { webDir: path.join(ROOT, 'dist', 'web'), editorDir: path.join(path.dirname(pkgFile), 'build', 'static'), editorVersion: pkg.version };
}

interface Loaded {
  raw: Buffer;
  gzip: Buffer | null;
  type: string;
}

/** Reads a file once and keeps it with its gzip form (text only); null when it does not exist. */
function fileCache() {
  const cache = new Map<string, Loaded>();
  return (file: string): Loaded | null => {
    const hit = cache.get(file);
    if (hit) return hit;
    let raw: Buffer;
    try {
      raw = fs.readFileSync(file);
    } catch {
      return null;
    }
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    const compressible = /javascript|css|svg|json/.test(type) && raw.length > 1024;
    const loaded = { raw, gzip: compressible ? gzipSync(raw) : null, type };
    cache.set(file, loaded);
    return loaded;
  };
}

function send(req: FastifyRequest, reply: FastifyReply, file: Loaded, cacheControl: string) {
  void reply.header('content-type', file.type).header('cache-control', cacheControl).header('vary', 'accept-encoding');
  if (file.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(file.gzip);
  return reply.send(file.raw);
}

const notFound = (reply: FastifyReply) => reply.code(404).send({ status_code: 404, detail: 'Not found.', code: 'NOT_FOUND' });

/**
 * Registers the app's pages, its hashed assets and the editor bundle. When the app is not built,
 * its pages answer 503 saying how to build it (the API works regardless).
 */
export function registerWebApp(app: FastifyInstance, opts: WebAppOptions = defaultWebAppOptions()): void {
  // The page is read on each request (it is small), so a rebuild shows up without a restart.
  const page = async (_req: FastifyRequest, reply: FastifyReply) => {
    let html: Buffer;
    try {
      html = await fs.promises.readFile(path.join(opts.webDir, 'index.html'));
    } catch {
      return reply.code(503).type('text/plain; charset=utf-8').send('The web app is not built yet: run `npm run build` (or `npm start`).\n');
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  };
  for (const url of APP_PAGES) app.get(url, page);

  // Hashed assets never change under one name; a build can add new ones, so misses are not cached.
  const assets = fileCache();
  app.get('/assets/:file', async (req, reply) => {
    const name = (req.params as { file: string }).file;
    const file = /^[\w.-]+$/.test(name) && !name.startsWith('.') ? assets(path.join(opts.webDir, 'assets', name)) : null;
    return file ? send(req, reply, file, FOREVER) : notFound(reply);
  });
  app.get('/favicon.svg', async (req, reply) => {
    const file = assets(path.join(opts.webDir, 'favicon.svg'));
    return file ? send(req, reply, file, 'public, max-age=86400') : notFound(reply);
  });

  // The editor: exactly two files, under a URL carrying its pinned version.
  const editorFiles = new Map([
    ['main.js', path.join(opts.editorDir, 'js', 'main.js')],
    ['main.css', path.join(opts.editorDir, 'css', 'main.css')],
  ]);
  const editor = fileCache();
  app.get(`/static/lsf/${opts.editorVersion}/:file`, async (req, reply) => {
    const where = editorFiles.get((req.params as { file: string }).file);
    const file = where ? editor(where) : null;
    return file ? send(req, reply, file, FOREVER) : notFound(reply);
  });
}
