/**
 * What every browser test file needs: the app built once per file, Debian's Chromium launched
 * with the flags that keep it off the network (see NOTES.md), screenshots at 1440×900, and
 * logging in and out through the real pages. Exists so the browser test files stay about their
 * scenarios.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const SHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A launched browser with its own throwaway profile. */
export interface Browser {
  context: BrowserContext;
  close: () => Promise<void>;
}

/** A new page of the browser's context, with the browser tests' default timeout (20 s). */
export async function newPage(browser: Browser): Promise<Page> {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(20_000);
  return page;
}

/** The newest modification time under a path (files and folders, recursively). */
function newest(p: string): number {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...fs.readdirSync(p).map((n) => newest(path.join(p, n))));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Builds the web app into dist/web (which the server serves) unless that build is newer than its
 * sources. Browser test files run in parallel: a lock folder lets one build while the others wait,
 * so no file's server ever sees a half-written dist/web.
 */
export async function buildWebOnce(): Promise<void> {
  const out = path.join(ROOT, 'dist/web/index.html');
  const lock = path.join(ROOT, 'dist/.web-build.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const sources = () => Math.max(newest(path.join(ROOT, 'web')), newest(path.join(ROOT, 'src/modules/label-config/starter-configs.ts')));
  for (let waited = 0; ; waited += 200) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // Another file is building; a lock older than two minutes was left by a killed run.
      if (waited > 120_000 || Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 120_000) fs.rmSync(lock, { recursive: true, force: true });
      await sleep(200);
    }
  }
  try {
    if (newest(out) <= sources()) await build({ configFile: path.join(ROOT, 'web/vite.config.ts'), logLevel: 'warn' });
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds the web app when needed (buildWebOnce) and starts Chromium at 1440×900. */
export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`The browser tests need Debian's Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does it).`);
  await buildWebOnce();
  fs.mkdirSync(SHOTS, { recursive: true });
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot of the page as test-artifacts/screenshots/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** Signs in through the login page (clearing whoever was signed in), landing on `next`. */
export async function logIn(page: Page, baseUrl: string, email: string, password: string, next = '/projects'): Promise<void> {
  await page.context().clearCookies();
  await page.goto(`${baseUrl}${next}`);
  await page.waitForURL(/\/login\?next=/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === next.split('?')[0]);
}

/** Logs out with the top bar's button. */
export async function logOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(/\/login/);
}

/** Collects page errors and console errors other than refused requests (which the app shows itself). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));
  return errors;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/**
 * A small RGB PNG: a sky, a road and a red "car" rectangle, so a labeled box has something to
 * sit on. Written by hand (no image library) to keep the test self-contained.
 */
export function makePng(width = 480, height = 320, car: [number, number] = [0xe0, 0x40]): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      let rgb = y < height * 0.65 ? [0xdb, 0xea, 0xfe] : [0x94, 0xa3, 0xb8];
      if (x > width * 0.2 && x < width * 0.5 && y > height * 0.5 && y < height * 0.75) rgb = [car[0], car[1], 0x40];
      row.set(rgb, 1 + x * 3);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}
