/**
 * How services that create, change or delete many annotations at once (imports, data-manager
 * actions, bulk annotation, task deletion) have them exported to the project's export storages:
 *
 *   const exports = await AnnotationExports.of(deps, projectId);   // before the transaction
 *   … inside it: exports.written(ids) / exports.writtenTasks(from, to) /
 *     await exports.deleting(() => trx.selectFrom('annotations').select('id')…execute())
 *   await exports.queue();                                          // after it has committed
 *
 * `of` costs one indexed query. Nothing is collected when the project has no export storage, and
 * ids about to be deleted are read only when one of its storages removes objects
 * (`can_delete_objects`). `queue` enqueues `storage.export_annotations` jobs of at most
 * EXPORT_CHUNK ids (an import's tasks as one id range), never one job per annotation.
 */
import type { AppDeps } from '../../app-deps.js';
import { EXPORT_ANNOTATIONS_JOB, EXPORT_CHUNK, EXPORT_RETRY, exportTargetsOf, markExportFailed, type ExportAnnotationsPayload, type ExportTargets } from './storage-export.job.js';

/** The annotation changes of one service call, to export once it has committed (see the module comment). */
export class AnnotationExports {
  private writes: number[] = [];
  private deletes: number[] = [];
  private ranges: { from: number; to: number }[] = [];

  private constructor(
    private readonly deps: AppDeps,
    /** The project whose annotations change. */
    readonly projectId: number,
    private readonly targets: ExportTargets,
  ) {}

  /** Reads the project's export targets (call before the change's transaction). */
  static async of(deps: AppDeps, projectId: number): Promise<AnnotationExports> {
    return new AnnotationExports(deps, projectId, await exportTargetsOf(deps.db, projectId));
  }

  /** Whether written annotations are exported: the project has an export storage. */
  get exportsWrites(): boolean {
    return this.targets.any;
  }

  /** Whether deleted annotations are removed from a storage: only then need their ids be read before they go. */
  get exportsDeletes(): boolean {
    return this.targets.deletes;
  }

  /** Annotations created or changed. */
  written(ids: Iterable<number>): void {
    if (this.targets.any) for (const id of ids) this.writes.push(id);
  }

  /** Every annotation of the project's tasks with ids from `from` to `to` (the tasks an import made). */
  writtenTasks(from: number | undefined, to: number | undefined): void {
    if (this.targets.any && from !== undefined && to !== undefined && from <= to) this.ranges.push({ from, to });
  }

  /** Annotations deleted (e.g. ids a `delete … returning` gave). */
  deleted(ids: Iterable<number>): void {
    if (this.targets.deletes) for (const id of ids) this.deletes.push(id);
  }

  /** Records the ids `select` finds, to call right before deleting them; `select` runs only when {@link exportsDeletes}. */
  async deleting(select: () => Promise<{ id: number }[]>): Promise<void> {
    if (!this.targets.deletes) return;
    for (const r of await select()) this.deletes.push(r.id);
  }

  /**
   * Queues the export jobs of what was recorded (call after the commit; nothing is queued for a
   * rolled-back change). Never throws: a job that cannot be queued marks the storages `failed`
   * with what was not exported.
   */
  async queue(): Promise<void> {
    const jobs: ExportAnnotationsPayload[] = this.ranges.map((tasks) => ({ projectId: this.projectId, op: 'write', tasks }));
    for (const [op, ids] of [['write', this.writes], ['delete', this.deletes]] as const) {
      for (let i = 0; i < ids.length; i += EXPORT_CHUNK) jobs.push({ projectId: this.projectId, op, ids: ids.slice(i, i + EXPORT_CHUNK) });
    }
    this.writes = [];
    this.deletes = [];
    this.ranges = [];
    for (const payload of jobs) {
      await this.deps.jobs
        .enqueue<ExportAnnotationsPayload>(EXPORT_ANNOTATIONS_JOB, payload, EXPORT_RETRY)
        .catch((err: unknown) => markExportFailed(this.deps.db, this.projectId, `${payload.ids?.length ?? 'the'} annotations (${payload.op}) could not be queued and were`, err))
        .catch(() => undefined);
    }
  }
}
