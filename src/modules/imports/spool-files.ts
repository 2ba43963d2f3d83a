/**
 * Spool files: an import's request body or URL download is written to `<data folder>/tmp/
 * import-<16 hex>` before it is parsed, and removed when the request ends. A process killed
 * outright (SIGKILL, out of memory, power loss) cannot remove its own; nor can it remove the
 * unfinished write (`<file>~part`, a name no stored file can have) of an upload or export snapshot
 * in the data folder's file store.
 * At start-up `sweepSpoolFiles` removes those that nobody has touched for a while (an hour by
 * default): another process sharing the data folder writes to its files as they arrive, so a
 * file it is still writing is never that old.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config/config.js';
import { fileStoreOf } from '../../storage/file-store.js';
import { LocalFileStore } from '../../storage/local.file-store.js';

const SPOOL_NAME = /^import-[0-9a-f]{16}$/;
/** Untouched for this long, a spool file belongs to no live process. */
export const SPOOL_MAX_AGE_MS = 60 * 60 * 1000;
/** File store folders (FILE_STORAGE=local) where a killed write may have left a `~part` file. */
const STORE_FOLDERS = ['media/upload/', 'exports/'];

const spoolFolder = (dataDir: string) => path.join(dataDir, 'tmp');

/** A new spool file's path, in `<data folder>/tmp` (created 0700). */
export function newSpoolFile(dataDir: string): string {
  const dir = spoolFolder(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return path.join(dir, `import-${randomBytes(8).toString('hex')}`);
}

/** Removes the spool files last modified before `before`; returns how many. */
async function removeOldSpoolFiles(dataDir: string, before: number): Promise<number> {
  const dir = spoolFolder(dataDir);
  const names = await fs.promises.readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
  let removed = 0;
  for (const name of names.filter((n) => SPOOL_NAME.test(n))) {
    const file = path.join(dir, name);
    const stat = await fs.promises.lstat(file).catch(() => null);
    if (!stat?.isFile() || stat.mtimeMs >= before) continue;
    await fs.promises.rm(file, { force: true });
    removed += 1;
  }
  return removed;
}

/** What a start-up sweep removed. */
export interface SpoolSweep {
  /** Spool files of imports (bodies and downloads). */
  spoolFiles: number;
  /** Unfinished writes in the data folder's file store (uploads, export snapshots); 0 with FILE_STORAGE=s3. */
  unfinishedWrites: number;
}

/**
 * Removes spool files and unfinished file store writes last modified more than `maxAgeMs` before
 * `now` (defaults: an hour, the current time). Safe while other processes share the data folder.
 */
export async function sweepSpoolFiles(config: Readonly<Pick<Config, 'dataDir' | 'files' | 'trust'>>, opts: { maxAgeMs?: number; now?: number } = {}): Promise<SpoolSweep> {
  const before = (opts.now ?? Date.now()) - (opts.maxAgeMs ?? SPOOL_MAX_AGE_MS);
  const spoolFiles = await removeOldSpoolFiles(config.dataDir, before);
  let unfinishedWrites = 0;
  const store = await fileStoreOf(config);
  if (store instanceof LocalFileStore) for (const folder of STORE_FOLDERS) unfinishedWrites += await store.removeUnfinishedWrites(folder, before);
  return { spoolFiles, unfinishedWrites };
}
