/**
 * Local files: a folder on the server's disk, only under LOCAL_FILES_DOCUMENT_ROOT and only when
 * LOCAL_FILES_SERVING_ENABLED. Keys are paths relative to the document root with `/` separators
 * (so a task's URL is Label Studio's `/data/local-files/?d=<key>`); a storage sees only the keys
 * under its own folder.
 *
 * Traversal is refused before any file is touched: `..` and `.` segments, absolute paths,
 * backslashes, NUL, and separators or dots still percent-encoded after the URL was decoded once
 * (`%2F`, `%5C`, `%2E`: a double-encoding trick). The real path (symlinks resolved) must also lie
 * under the real document root, so a symlink pointing out of the root is refused too. A symlink
 * swapped in between the check and the open is a race this does not close (O_NOFOLLOW on every
 * path component would); keep the document root writable only by trusted users.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { keyMatches, StorageError, type ByteRange, type ListOptions, type ObjectStream, type StorageAdapter, type StorageObject } from './storage-adapter.js';

/** What a local-files storage is made from. */
export interface LocalFilesSettings {
  /** The server's document root (config); null when unset. */
  documentRoot: string | null;
  /** Serving switch (config). */
  enabled: boolean;
  /** The storage's folder: absolute, under the document root. */
  folder: string;
}

const PAGE = 1000;
const URL_PREFIX = '/data/local-files/?d=';

/** Why a relative key is refused, or null when it is a plain relative path. */
export function unsafeKeyReason(key: string): string | null {
  if (key === '' || key.length > 4096) return 'empty or too long';
  if (key.includes('\0')) return 'contains NUL';
  if (key.includes('\\')) return 'contains a backslash';
  if (/%(2f|5c|2e|00)/i.test(key)) return 'contains an encoded separator';
  if (key.startsWith('/')) return 'is absolute';
  if (key.split('/').some((seg) => seg === '..' || seg === '.' || seg === '')) return 'has an empty, "." or ".." segment';
  return null;
}

/** The local-files adapter (see the module comment for its rules). */
export class LocalFilesAdapter implements StorageAdapter {
  readonly type = 'localfiles';
  private readonly root: string;
  /** The folder's path relative to the root, `/`-separated ('' for the root itself). */
  private readonly base: string;

  constructor(s: LocalFilesSettings) {
    if (!s.enabled) throw new StorageError('refused', 'Local files serving is disabled on this server (LOCAL_FILES_SERVING_ENABLED).', 'path');
    if (s.documentRoot === null) throw new StorageError('refused', 'LOCAL_FILES_DOCUMENT_ROOT is not set on this server.', 'path');
    this.root = path.resolve(s.documentRoot);
    const folder = path.resolve(s.folder);
    if (!path.isAbsolute(s.folder)) throw new StorageError('invalid', 'Give an absolute path.', 'path');
    if (folder !== this.root && !folder.startsWith(this.root + path.sep)) throw new StorageError('refused', `The path must be inside LOCAL_FILES_DOCUMENT_ROOT (${this.root}).`, 'path');
    this.base = path.relative(this.root, folder).split(path.sep).join('/');
    if (this.base !== '' && unsafeKeyReason(this.base)) throw new StorageError('invalid', 'The path is not a plain folder path.', 'path');
  }

  uriOf(key: string): string {
    return `${URL_PREFIX}${encodeURIComponent(key).replace(/%2F/g, '/')}`;
  }

  keyOf(uri: string): string | null {
    if (!uri.startsWith(URL_PREFIX)) return null;
    let key: string;
    try {
      key = decodeURIComponent(uri.slice(URL_PREFIX.length));
    } catch {
      return null;
    }
    return this.owns(key) ? key : null;
  }

  /** Whether a key is safe and under this storage's folder. */
  owns(key: string): boolean {
    if (unsafeKeyReason(key)) return false;
    return this.base === '' || key.startsWith(`${this.base}/`);
  }

  /** The real absolute path of a key, checked against the real root; StorageError otherwise. */
  private async realPathOf(key: string, mustExist: boolean): Promise<string> {
    const why = unsafeKeyReason(key);
    if (why) throw new StorageError('refused', `Refused path: it ${why}.`, 'key');
    if (!this.owns(key)) throw new StorageError('refused', 'The path is outside this storage.', 'key');
    const abs = path.join(this.root, ...key.split('/'));
    const realRoot = await fs.promises.realpath(this.root).catch(() => {
      throw new StorageError('not_found', 'LOCAL_FILES_DOCUMENT_ROOT does not exist.', 'path');
    });
    let real: string;
    try {
      real = await fs.promises.realpath(abs);
    } catch {
      if (mustExist) throw new StorageError('not_found', 'No such file.', 'key');
      // A file to be written: its folder must resolve inside the root.
      const dir = await fs.promises.realpath(path.dirname(abs)).catch(() => null);
      if (dir !== null && dir !== realRoot && !dir.startsWith(realRoot + path.sep)) throw new StorageError('refused', 'The path leads outside LOCAL_FILES_DOCUMENT_ROOT.', 'key');
      return abs;
    }
    if (!real.startsWith(realRoot + path.sep)) throw new StorageError('refused', 'The path leads outside LOCAL_FILES_DOCUMENT_ROOT.', 'key');
    return real;
  }

  /**
   * Walks the storage's folder (only its first level unless recursive), in name order. `prefix`
   * is relative to the folder; `regex` is tested on the key. Symlinks out of the root are skipped.
   */
  async *list(opts: ListOptions): AsyncIterable<StorageObject[]> {
    const prefix = opts.prefix.replace(/^\/+/, '');
    const realRoot = await fs.promises.realpath(this.root);
    const inFolder = (key: string) => (this.base === '' ? key : key.slice(this.base.length + 1));
    let page: StorageObject[] = [];
    const stack: string[] = [this.base];
    while (stack.length > 0) {
      const rel = stack.pop()!;
      const dir = path.join(this.root, ...(rel === '' ? [] : rel.split('/')));
      const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => []);
      entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0)); // reversed: popped in order
      const files: StorageObject[] = [];
      for (const e of entries) {
        opts.signal?.throwIfAborted();
        const key = rel === '' ? e.name : `${rel}/${e.name}`;
        if (unsafeKeyReason(key)) continue;
        if (e.isDirectory()) {
          if (opts.recursive) stack.push(key);
          continue;
        }
        if (!e.isFile() && !e.isSymbolicLink()) continue;
        if (!inFolder(key).startsWith(prefix) || !keyMatches(key, opts.regex)) continue;
        const real = await fs.promises.realpath(path.join(dir, e.name)).catch(() => null);
        if (real === null || !real.startsWith(realRoot + path.sep)) continue; // a symlink out of the root
        const st = await fs.promises.stat(real).catch(() => null);
        if (st?.isFile()) files.push({ key, size: st.size });
      }
      for (const f of files.reverse()) {
        page.push(f);
        if (page.length >= PAGE) {
          yield page;
          page = [];
        }
      }
    }
    if (page.length > 0) yield page;
  }

  async read(key: string, range?: ByteRange): Promise<ObjectStream> {
    const real = await this.realPathOf(key, true);
    const st = await fs.promises.stat(real);
    if (!st.isFile()) throw new StorageError('not_found', 'No such file.', 'key');
    const end = range ? Math.min(range.end ?? st.size - 1, st.size - 1) : st.size - 1;
    const start = range?.start ?? 0;
    const body = fs.createReadStream(real, { start, end: Math.max(end, start - 1) });
    return { body, length: Math.max(end - start + 1, 0), totalSize: st.size, contentType: null, partial: range !== undefined };
  }

  async presign(): Promise<string | null> {
    return null;
  }

  async write(key: string, body: Buffer | string, _contentType?: string): Promise<void> {
    const target = await this.realPathOf(key, false);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    const again = await this.realPathOf(key, false); // the folders just made must still be inside
    // Unique per write: two writes of one key at once must not share (and rename away) one file.
    const part = `${again}.${process.pid}.${randomUUID()}.part`;
    await fs.promises.writeFile(part, body, { mode: 0o600 });
    await fs.promises.rename(part, again);
  }

  async delete(key: string): Promise<void> {
    try {
      const real = await this.realPathOf(key, true);
      await fs.promises.rm(real, { force: true });
    } catch (err) {
      if (err instanceof StorageError && err.code === 'not_found') return;
      throw err;
    }
  }

  async validate(): Promise<void> {
    const realRoot = await fs.promises.realpath(this.root).catch(() => null);
    if (realRoot === null) throw new StorageError('not_found', 'LOCAL_FILES_DOCUMENT_ROOT does not exist on the server.', 'path');
    const folder = path.join(this.root, ...(this.base === '' ? [] : this.base.split('/')));
    const real = await fs.promises.realpath(folder).catch(() => null);
    if (real === null) throw new StorageError('not_found', 'The folder does not exist on the server.', 'path');
    if (real !== realRoot && !real.startsWith(realRoot + path.sep)) throw new StorageError('refused', 'The folder leads outside LOCAL_FILES_DOCUMENT_ROOT.', 'path');
    const st = await fs.promises.stat(real);
    if (!st.isDirectory()) throw new StorageError('invalid', 'The path is not a folder.', 'path');
    await fs.promises.access(real, fs.constants.R_OK).catch(() => {
      throw new StorageError('access_denied', 'The server cannot read the folder.', 'path');
    });
  }
}
