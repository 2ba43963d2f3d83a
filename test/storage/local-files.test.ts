/**
 * Local-files traversal rules (unit tier, real folders on disk): keys with `..`, `.`, empty
 * segments, backslashes, NUL or encoded separators are refused before any file is touched, and a
 * symlink whose target lies outside the document root is neither listed nor read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalFilesAdapter, unsafeKeyReason } from '../../src/storage/local-files.adapter.js';
import { StorageError } from '../../src/storage/storage-adapter.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-lf-root-'));
const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-lf-out-'));
fs.mkdirSync(path.join(root, 'data', 'sub'), { recursive: true });
fs.writeFileSync(path.join(root, 'data', 'ok.txt'), 'inside');
fs.writeFileSync(path.join(outside, 'secret.txt'), 'outside');
fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'data', 'escape.txt'));
fs.symlinkSync(outside, path.join(root, 'data', 'escape-dir'));
fs.symlinkSync(path.join(root, 'data', 'ok.txt'), path.join(root, 'data', 'alias.txt'));
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

const adapter = () => new LocalFilesAdapter({ enabled: true, documentRoot: root, folder: path.join(root, 'data') });
const code = async (p: Promise<unknown>) => ((await p.catch((e: unknown) => e)) as StorageError).code;

describe('local files traversal', () => {
  it('refuses unsafe keys', () => {
    for (const k of ['../x', 'data/../../etc/passwd', 'data/./ok.txt', 'data//ok.txt', '/etc/passwd', 'data\\ok.txt', 'data%2f..%2fx', 'data%2E%2E/x', 'data/ok.txt\0', '']) expect(unsafeKeyReason(k), k).not.toBeNull();
    expect(unsafeKeyReason('data/sub/ok.txt')).toBeNull();
  });

  it('reads inside the root; refuses traversal, symlinks out of the root and other folders', async () => {
    const a = adapter();
    const body = (await a.read('data/ok.txt')).body;
    let text = '';
    for await (const c of body) text += String(c);
    expect(text).toBe('inside');
    expect(await code(a.read('data/../data/ok.txt'))).toBe('refused');
    expect(await code(a.read('data/escape.txt'))).toBe('refused');
    expect(await code(a.read('data/escape-dir/secret.txt'))).toBe('refused');
    expect(await code(a.read('data%2Fok.txt'))).toBe('refused');
    expect(await code(a.write('data/escape-dir/new.txt', 'x', 'text/plain'))).toBe('refused');
    expect(fs.existsSync(path.join(outside, 'new.txt'))).toBe(false);
    expect(a.keyOf('/data/local-files/?d=data/ok.txt')).toBe('data/ok.txt');
    expect(a.keyOf('/data/local-files/?d=data/../x')).toBeNull();
    expect(a.keyOf('/data/local-files/?d=elsewhere/ok.txt')).toBeNull();
  });

  it('lists only files whose real path stays inside the root (a symlink inside is kept)', async () => {
    const keys: string[] = [];
    for await (const page of adapter().list({ prefix: '', regex: null, recursive: true })) keys.push(...page.map((o) => o.key));
    expect(keys.sort()).toEqual(['data/alias.txt', 'data/ok.txt']);
  });

  it('refuses a folder outside the root, or any folder when serving is disabled', () => {
    expect(() => new LocalFilesAdapter({ enabled: true, documentRoot: root, folder: outside })).toThrow(StorageError);
    expect(() => new LocalFilesAdapter({ enabled: true, documentRoot: root, folder: `${root}/data/../..` })).toThrow(StorageError);
    expect(() => new LocalFilesAdapter({ enabled: false, documentRoot: root, folder: path.join(root, 'data') })).toThrow(/disabled/);
    expect(() => new LocalFilesAdapter({ enabled: true, documentRoot: null, folder: path.join(root, 'data') })).toThrow(/LOCAL_FILES_DOCUMENT_ROOT/);
  });
});
