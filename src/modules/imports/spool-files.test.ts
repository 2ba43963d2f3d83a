/**
 * The start-up sweep (spool-files.ts) on a real data folder: it removes import spool files and
 * unfinished file store writes untouched for longer than the cut-off, and nothing else — not a
 * younger spool file another live process may be writing, not a finished upload or snapshot, not
 * a file in tmp/ that is no spool file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/config.js';
import { newSpoolFile, SPOOL_MAX_AGE_MS, sweepSpoolFiles } from './spool-files.js';
import { storedName } from './uploads.service.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-spool-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

/** Writes a file, last modified `ageMs` ago. */
function fileAged(file: string, ageMs: number): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, 'x');
  const at = new Date(Date.now() - ageMs);
  fs.utimesSync(file, at, at);
  return file;
}

describe('start-up sweep of spool files', () => {
  it('removes what was untouched for over an hour, keeps everything else, and counts it', async () => {
    const hour = SPOOL_MAX_AGE_MS;
    const oldSpool = fileAged(newSpoolFile(dataDir), hour + 60_000);
    const liveSpool = fileAged(newSpoolFile(dataDir), hour - 60_000);
    const notSpool = fileAged(path.join(dataDir, 'tmp', 'import-notours'), 2 * hour);
    const oldUploadPart = fileAged(path.join(dataDir, 'media/upload/7/0123456789ab-cat.png~part'), 2 * hour);
    const livePart = fileAged(path.join(dataDir, 'media/upload/7/ba9876543210-dog.png~part'), 1_000);
    const upload = fileAged(path.join(dataDir, 'media/upload/7/0123456789ab-old.png'), 100 * hour);
    const oldSnapshotPart = fileAged(path.join(dataDir, 'exports/3/12.json~part'), 3 * hour);
    const snapshot = fileAged(path.join(dataDir, 'exports/3/11.json'), 100 * hour);
    // Finished files whose names merely end in `.part` (an upload so named before storedName
    // stopped making such names) are not unfinished writes.
    const dotPart = fileAged(path.join(dataDir, 'media/upload/7/0123456789ab-photo.part'), 100 * hour);
    const snapshotDotPart = fileAged(path.join(dataDir, 'exports/3/10.json.part'), 100 * hour);

    const swept = await sweepSpoolFiles(loadConfig({ LABELVAULT_DATA_DIR: dataDir }));
    expect(swept).toEqual({ spoolFiles: 1, unfinishedWrites: 2 });
    for (const gone of [oldSpool, oldUploadPart, oldSnapshotPart]) expect(fs.existsSync(gone), gone).toBe(false);
    for (const kept of [liveSpool, notSpool, livePart, upload, snapshot, dotPart, snapshotDotPart]) expect(fs.existsSync(kept), kept).toBe(true);

    // With a shorter cut-off (or later), the younger spool file goes too; a second sweep finds nothing more.
    expect(await sweepSpoolFiles(loadConfig({ LABELVAULT_DATA_DIR: dataDir }), { now: Date.now() + hour })).toEqual({ spoolFiles: 1, unfinishedWrites: 1 });
    expect(await sweepSpoolFiles(loadConfig({ LABELVAULT_DATA_DIR: dataDir }), { now: Date.now() + hour })).toEqual({ spoolFiles: 0, unfinishedWrites: 0 });
  });

  it('stores uploads under names that never end in .part, however the name is spelled', () => {
    for (const original of ['photo.part', 'photo.PART', 'photo\uff0epart', 'dir/photo\uff0e\uff50\uff41\uff52\uff54', '.part']) {
      const name = storedName(original);
      expect(name, original).toMatch(/^[0-9a-f]{12}-[\w.-]+$/);
      expect(name.toLowerCase(), original).not.toMatch(/\.part$/);
    }
    expect(storedName('cat.png')).toMatch(/^[0-9a-f]{12}-cat\.png$/);
  });

  it('finds nothing to do in an empty data folder', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-spool-empty-'));
    try {
      expect(await sweepSpoolFiles(loadConfig({ LABELVAULT_DATA_DIR: empty }))).toEqual({ spoolFiles: 0, unfinishedWrites: 0 });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
