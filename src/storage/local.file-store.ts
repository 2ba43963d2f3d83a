/**
 * The file store in the data folder (FILE_STORAGE=local, the default): key `a/b/c.json` is the
 * file `<root>/a/b/c.json`, 0600 in folders 0700. A write goes to `<file>~part` and is renamed
 * into place, so readers never see half a file; `delete` removes a leftover one too, and
 * `removeUnfinishedWrites` (at start-up) those of processes killed mid-write. No key can name a
 * `~part` file (`~` is not allowed in keys), so the sweep never takes a stored file for one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkKey, type FileStore, type StoredFile } from './file-store.js';

/** The file an unfinished write of `file` goes to. */
const partOf = (file: string) => `${file}~part`;
/** A file name that only an unfinished write has: a key segment, then `~part`. */
const PART_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*~part$/;

/** A file store under one folder. */
export class LocalFileStore implements FileStore {
  readonly kind = 'local';

  constructor(private readonly root: string) {}

  private pathOf(key: string, folder = false): string {
    checkKey(key, folder);
    return path.join(this.root, ...key.split('/').filter(Boolean));
  }

  /** Creates the file's folders (0700 each, from the root down). */
  private async makeFolders(file: string): Promise<void> {
    const dir = path.dirname(file);
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    for (let d = dir; d.startsWith(this.root + path.sep); d = path.dirname(d)) await fs.promises.chmod(d, 0o700);
  }

  async put(key: string, body: AsyncIterable<string | Uint8Array>, opts: { contentType: string; signal?: AbortSignal }): Promise<{ size: number }> {
    const file = this.pathOf(key);
    const part = partOf(file);
    await this.makeFolders(file);
    await fs.promises.rm(part, { force: true });
    try {
      await pipeline(Readable.from(body), fs.createWriteStream(part, { mode: 0o600, flags: 'wx' }), { signal: opts.signal });
      const { size } = await fs.promises.stat(part);
      await fs.promises.rename(part, file);
      return { size };
    } catch (err) {
      await fs.promises.rm(part, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  async get(key: string): Promise<StoredFile | null> {
    const file = this.pathOf(key);
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, 'r');
    } catch (err) {
      if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return null;
      throw err;
    }
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      return null;
    }
    return { body: handle.createReadStream(), size: stat.size };
  }

  async exists(key: string): Promise<boolean> {
    const stat = await fs.promises.stat(this.pathOf(key)).catch(() => null);
    return stat?.isFile() ?? false;
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    await Promise.all([fs.promises.rm(file, { force: true }), fs.promises.rm(partOf(file), { force: true })]);
  }

  async deletePrefix(prefix: string): Promise<void> {
    await fs.promises.rm(this.pathOf(prefix, true), { recursive: true, force: true });
  }

  /**
   * Removes the unfinished writes (`~part` files) under `prefix` last modified before `before`
   * (ms since the epoch): what a process killed mid-write left. Returns how many. A write still
   * under way keeps its file's time current, so a cut-off an hour back never touches one.
   */
  async removeUnfinishedWrites(prefix: string, before: number): Promise<number> {
    let removed = 0;
    const walk = async (dir: string): Promise<void> => {
      const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => (['ENOENT', 'ENOTDIR'].includes(err.code ?? '') ? [] : Promise.reject(err)));
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        if (!e.isFile() || !PART_NAME.test(e.name)) continue;
        const stat = await fs.promises.lstat(full).catch(() => null);
        if (stat === null || stat.mtimeMs >= before) continue;
        await fs.promises.rm(full, { force: true });
        removed += 1;
      }
    };
    await walk(this.pathOf(prefix, true));
    return removed;
  }
}
