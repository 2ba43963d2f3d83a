/**
 * Drafts of the annotation being edited: the editor's autosave hands over results, and this
 * keeps one draft per task on the server (POST /api/tasks/:id/drafts, or
 * /api/tasks/:id/annotations/:pk/drafts for changes to an annotation already saved; then
 * PATCH /api/drafts/:id). Saves run one at a time; a save asked for while one runs waits and
 * sends only the newest result. Submitting a new annotation with `draft_id` makes the server
 * delete the draft; after an update, `discard` deletes it.
 */
import { api, ApiError } from '../api/client';
import type { Draft } from '../api/types';

/** Where the draft belongs: the task, and the caller's saved annotation when editing one. */
export interface DraftTarget {
  taskId: number;
  annotationPk: number | null;
}

export class DraftSaver {
  private draftId: number | null;
  private pending: unknown[] | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  /**
   * `existing`: the caller's draft of this target, when the task came with one;
   * `onSaved` is told the time of each saved draft; `onError` of each failed save.
   */
  constructor(
    private readonly target: DraftTarget,
    existing: Draft | undefined,
    private readonly onSaved: (at: Date) => void,
    private readonly onError: (e: Error) => void,
  ) {
    this.draftId = existing?.id ?? null;
  }

  /** The server's id of the draft (null until the first save). */
  get id(): number | null {
    return this.draftId;
  }

  /** Saves `result` as the draft (after any save still running). */
  save(result: unknown[], opts: { keepalive?: boolean } = {}): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.pending = result;
    this.running ??= this.drain(opts.keepalive === true).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Waits for the save in flight (if any), then saves nothing more: the annotation is being submitted. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending = null;
    await this.running?.catch(() => undefined);
  }

  /** Saves again after `stop` (the submit failed: the user goes on editing). */
  resume(): void {
    this.stopped = false;
  }

  /** Stops saving and deletes the draft on the server (after an annotation was updated). */
  async discard(): Promise<void> {
    await this.stop();
    if (this.draftId === null) return;
    const id = this.draftId;
    this.draftId = null;
    await api('DELETE', `/api/drafts/${id}`).catch(() => undefined); // already gone is fine
  }

  private async drain(keepalive: boolean): Promise<void> {
    while (this.pending && !this.stopped) {
      const result = this.pending;
      this.pending = null;
      try {
        await this.send(result, keepalive);
        this.onSaved(new Date());
      } catch (e) {
        this.onError(e as Error);
      }
    }
  }

  private async send(result: unknown[], keepalive: boolean): Promise<void> {
    const body = { result };
    if (this.draftId !== null) {
      try {
        await api('PATCH', `/api/drafts/${this.draftId}`, body, { keepalive });
        return;
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404)) throw e;
        this.draftId = null; // deleted meanwhile (another tab submitted): start a new one
      }
    }
    const { taskId, annotationPk } = this.target;
    const url = annotationPk === null ? `/api/tasks/${taskId}/drafts` : `/api/tasks/${taskId}/annotations/${annotationPk}/drafts`;
    const created = await api<Draft>('POST', url, body, { keepalive });
    this.draftId = created.id;
  }
}
