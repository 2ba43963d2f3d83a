/**
 * One task open in the Label Studio editor for labeling: starts it as `start-plan` decides,
 * keeps the draft on the server while the user works (the editor's autosave → DraftSaver), and
 * saves what the editor submits: a new annotation (POST, with `draft_id` so the server drops the
 * draft, and `parent_prediction` when it was pre-filled), an update (PATCH, then the draft is
 * deleted) or a skip (a cancelled annotation). Plain code, no React: the page owns the state.
 */
import { api } from '../api/client';
import type { CurrentUser, Project, Task } from '../api/types';
import { DraftSaver } from './draft-saver';
import type { EditorAnnotation, EditorStore, LabelStudioConstructor } from './label-studio';
import { applyPlan, editorTask, planStart } from './start-plan';

/** What the page hears from the session. */
export interface SessionEvents {
  /** A save (submit, update or skip) started or ended. */
  onBusy: (busy: boolean) => void;
  /** The task was submitted, updated or skipped. */
  onDone: () => void;
  /** A draft reached the server. */
  onDraftSaved: (at: Date) => void;
  onError: (e: Error) => void;
}

/** The running editor of one task. */
export interface LabelingSession {
  /** The editor's store, once loaded. */
  store: () => EditorStore | null;
  /** Whether the task was restored from a draft. */
  restoredDraft: boolean;
  /** Sends the pending draft now (`keepalive`: the page is going away). */
  flushDraft: (keepalive: boolean) => void;
  destroy: () => void;
}

/** The editor panels: Submit / Skip / Update appear only with `topbar` (see NOTES.md). */
function interfacesFor(project: Project): string[] {
  // No 'instruction': the page shows the project's instructions itself, sanitized.
  const list = ['panel', 'update', 'submit', 'controls', 'infobar', 'topbar', 'side-column', 'annotations:history', 'annotations:current', 'predictions:tabs', 'edit-history'];
  if (project.show_skip_button) list.push('skip');
  return list;
}

/** Opens `task` in a new editor inside `el`. */
export function startLabelingSession(LabelStudio: LabelStudioConstructor, el: HTMLElement, task: Task, project: Project, user: CurrentUser, events: SessionEvents): LabelingSession {
  const plan = planStart(task, project, user.id);
  const drafts = new DraftSaver({ taskId: task.id, annotationPk: plan.mine?.id ?? null }, plan.draft, events.onDraftSaved, events.onError);
  const started = Date.now();
  let store: EditorStore | null = null;
  let parentPrediction: number | null = null;
  let leaving = false;
  let closed = false;

  const save = async (kind: 'submit' | 'update' | 'skip', annotation?: EditorAnnotation) => {
    events.onBusy(true);
    try {
      await drafts.stop();
      const lead_time = (Date.now() - started) / 1000;
      if (kind === 'update' && annotation?.pk) {
        await api('PATCH', `/api/annotations/${annotation.pk}`, { result: annotation.serializeAnnotation(), lead_time });
        await drafts.discard();
      } else if (kind === 'skip') {
        await api('POST', `/api/tasks/${task.id}/annotations`, { result: [], was_cancelled: true, lead_time, draft_id: drafts.id });
      } else {
        const parent = annotation?.parent_prediction ?? parentPrediction;
        await api('POST', `/api/tasks/${task.id}/annotations`, { result: annotation?.serializeAnnotation() ?? [], was_cancelled: false, lead_time, draft_id: drafts.id, parent_prediction: parent });
      }
      events.onDone();
    } catch (e) {
      drafts.resume();
      events.onError(e as Error);
    } finally {
      events.onBusy(false);
    }
  };

  const name = [user.first_name, user.last_name].join(' ').trim() || user.email;
  const instance = new LabelStudio(el, {
    config: project.label_config,
    interfaces: interfacesFor(project),
    // The editor names new annotations after first + last name: the email stands in when both are empty.
    user: { pk: user.id, id: user.id, firstName: user.first_name || (user.last_name ? '' : name), lastName: user.last_name, username: user.username, email: user.email },
    task: editorTask(task, plan),
    onLabelStudioLoad: (ls) => {
      store = ls;
    },
    onStorageInitialized: (ls) => {
      store = ls;
      parentPrediction = applyPlan(ls, plan, name).parentPrediction;
    },
    onSubmitAnnotation: (_ls, annotation) => void save('submit', annotation),
    onUpdateAnnotation: (_ls, annotation) => void save('update', annotation),
    onSkipTask: () => void save('skip'),
    onSubmitDraft: (_ls, annotation) => (closed ? undefined : drafts.save(annotation.serializeAnnotation({ fast: true }), { keepalive: leaving })),
  });

  const session: LabelingSession = {
    store: () => store,
    restoredDraft: plan.draft !== undefined,
    flushDraft: (keepalive) => {
      leaving = keepalive;
      try {
        store?.annotationStore.selected?.autosave?.flush();
      } finally {
        leaving = false;
      }
    },
    destroy: () => {
      // What the user did since the last draft is sent now; the editor's timer then fires no more.
      session.flushDraft(false);
      closed = true;
      store?.annotationStore.selected?.autosave?.cancel();
      try {
        instance.destroy?.();
      } catch {
        /* the editor may already be gone */
      }
    },
  };
  return session;
}
