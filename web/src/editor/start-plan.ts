/**
 * How the editor opens a task for the caller: their own saved annotation (to update), else a
 * new annotation started from the newest prediction (when the project uses predictions to
 * pre-label), else an empty one; in each case the caller's draft, when there is one, is
 * restored over it. Pure functions over the API's task and project, plus the one function
 * that applies the plan inside the editor's store.
 */
import type { Annotation, Draft, Prediction, Project, Task } from '../api/types';
import type { EditorAnnotation, EditorStore, EditorTask } from './label-studio';

/** What to open. */
export interface StartPlan {
  /** The caller's own saved annotation of the task (opened for update). */
  mine?: Annotation;
  /** The caller's draft to restore (of `mine`, or of a new annotation). */
  draft?: Draft;
  /** The prediction a new annotation starts from. */
  prediction?: Prediction;
  /** The predictions the editor shows (none when the project does not use them). */
  predictions: Prediction[];
}

/** Label Studio's setting: predictions pre-label tasks unless the project turned it off. */
export function usesPredictions(project: Project): boolean {
  return project.show_collab_predictions !== false;
}

const newestFirst = <T extends { id: number; created_at?: string; updated_at?: string }>(a: T, b: T) =>
  (b.updated_at ?? b.created_at ?? '').localeCompare(a.updated_at ?? a.created_at ?? '') || b.id - a.id;

/** The task's predictions the project uses: all, or only its `model_version`'s when it names one. */
export function usablePredictions(task: Task, project: Project): Prediction[] {
  if (!usesPredictions(project)) return [];
  const all = task.predictions ?? [];
  return project.model_version ? all.filter((p) => p.model_version === project.model_version) : all;
}

/** Decides how `userId` opens `task`. */
export function planStart(task: Task, project: Project, userId: number): StartPlan {
  const mine = (task.annotations ?? []).find((a) => !a.was_cancelled && a.completed_by === userId);
  const drafts = [...(task.drafts ?? [])].sort(newestFirst);
  const draft = drafts.find((d) => d.annotation === (mine?.id ?? null));
  const predictions = usablePredictions(task, project);
  const prediction = mine ? undefined : [...predictions].sort(newestFirst).find((p) => p.result.length > 0);
  return { ...(mine && { mine }), ...(draft && { draft }), ...(prediction && { prediction }), predictions };
}

/** The task in the editor's shape: the annotations the caller sees (theirs with its draft) and the usable predictions. */
export function editorTask(task: Task, plan: StartPlan): EditorTask {
  const annotations = (task.annotations ?? [])
    .filter((a) => !a.was_cancelled)
    .map((a) => ({
      id: String(a.id),
      pk: String(a.id),
      result: a.result,
      createdBy: a.created_username || `User ${a.completed_by ?? ''}`,
      ...(a.id === plan.mine?.id && plan.draft && { draft: plan.draft.result }),
    }));
  const predictions = plan.predictions.map((p) => ({ id: p.id, result: p.result, score: p.score, model_version: p.model_version, createdBy: p.model_version || 'Prediction' }));
  return { id: task.id, data: task.data, annotations, predictions };
}

/**
 * Selects or creates the annotation the caller edits, once the editor has loaded the task.
 * Returns it, with the prediction it was started from (when any).
 */
export function applyPlan(ls: EditorStore, plan: StartPlan, createdBy: string): { annotation: EditorAnnotation | undefined; parentPrediction: number | null } {
  const store = ls.annotationStore;
  if (plan.mine) {
    const pk = String(plan.mine.id);
    const own = store.annotations.find((a) => a.pk === pk);
    if (own) store.selectAnnotation(own.id);
    return { annotation: own, parentPrediction: null };
  }
  const parentPrediction = plan.prediction?.id ?? null;
  const source = plan.prediction && store.predictions.find((p) => p.pk === String(plan.prediction!.id));
  if (source && !plan.draft) return { annotation: store.addAnnotationFromPrediction(source), parentPrediction };
  const annotation = store.addAnnotation({ userGenerate: true, createdBy });
  store.selectAnnotation(annotation.id);
  if (plan.draft) {
    annotation.deserializeResults(plan.draft.result);
    annotation.reinitHistory();
  }
  return { annotation, parentPrediction: plan.draft ? parentPrediction : null };
}
