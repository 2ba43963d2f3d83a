/**
 * Where a project's uploaded files live in THE file store: `media/upload/<project>/<stored name>`,
 * which with FILE_STORAGE=local is the same path under the data folder that earlier versions
 * wrote, so existing installs keep their files. Apart from uploads.service.ts so that project
 * deletion can remove them without importing the imports module.
 */
import type { AppDeps } from '../../app-deps.js';
import { fileStoreOf } from '../../storage/file-store.js';

/** The file store key of a project's uploaded file. */
export const uploadKey = (projectId: number, name: string) => `media/upload/${projectId}/${name}`;

/**
 * Removes every uploaded file of a project from the file store, for project deletion (the rows
 * go with the project; the files once that deletion has committed).
 */
export async function removeProjectUploadFiles(deps: AppDeps, projectId: number): Promise<void> {
  await (await fileStoreOf(deps.config)).deletePrefix(`media/upload/${projectId}/`);
}
