/**
 * The Label Studio editor (its published 1.4.0 bundle, served by our server from the npm
 * package): loading it once, and the small part of its interface the app uses.
 */

declare const __EDITOR_VERSION__: string;

/** An annotation (or prediction) inside the editor. */
export interface EditorAnnotation {
  id: string;
  /** The server's id, for annotations and predictions loaded from it. */
  pk?: string | null;
  type?: 'annotation' | 'prediction';
  /** Set by the editor when the annotation was started from a prediction. */
  parent_prediction?: number | null;
  serializeAnnotation(opts?: { fast?: boolean }): unknown[];
  /** Loads results into the annotation (on a fresh one: its whole content). */
  deserializeResults(result: unknown[]): void;
  /** Makes the current state the start of undo history. */
  reinitHistory(): void;
  /** The editor's own draft timer (Label Studio 1.4.0 sets it when `onSubmitDraft` is given). */
  autosave?: { flush(): void; cancel(): void };
}

/** The editor's store, as handed to its callbacks. */
export interface EditorStore {
  annotationStore: {
    annotations: EditorAnnotation[];
    predictions: EditorAnnotation[];
    selected?: EditorAnnotation | null;
    addAnnotation(opts: { userGenerate: boolean; createdBy?: string }): EditorAnnotation;
    /** A new annotation holding a copy of `prediction`'s result, selected, with `parent_prediction` set. */
    addAnnotationFromPrediction(prediction: EditorAnnotation): EditorAnnotation;
    selectAnnotation(id: string): void;
  };
  /** What the editor's Submit, Update and Skip buttons do (with its validation). */
  submitAnnotation(): void;
  updateAnnotation(): void;
  skipTask(): void;
  isSubmitting?: boolean;
}

/** A task as the editor takes it. */
export interface EditorTask {
  id: number;
  data: Record<string, unknown>;
  /** `draft`: a result to show instead of `result` (the editor restores it as a draft). */
  annotations: { id: string; pk: string; result: unknown[]; draft?: unknown[]; createdBy?: string }[];
  predictions: { id: number; result: unknown[]; score?: number | null; model_version?: string; createdBy?: string }[];
}

export interface EditorOptions {
  config: string;
  interfaces: string[];
  user: { pk: number; id?: number; firstName: string; lastName: string; username: string; email: string };
  task: EditorTask;
  description?: string;
  /** Called before the task's annotations are loaded. */
  onLabelStudioLoad?: (ls: EditorStore) => void;
  /** Called once the task's annotations and predictions are loaded. */
  onStorageInitialized?: (ls: EditorStore) => void;
  onSubmitAnnotation?: (ls: EditorStore, annotation: EditorAnnotation) => void;
  onUpdateAnnotation?: (ls: EditorStore, annotation: EditorAnnotation) => void;
  onSkipTask?: (ls: EditorStore) => void;
  /** The editor's autosave: called a few seconds after the regions change. */
  onSubmitDraft?: (ls: EditorStore, annotation: EditorAnnotation) => Promise<void> | void;
}

export interface EditorInstance {
  destroy?: () => void;
}

/** The editor's constructor (`window.LabelStudio`). */
export type LabelStudioConstructor = new (root: HTMLElement, options: EditorOptions) => EditorInstance;

declare global {
  interface Window {
    LabelStudio?: LabelStudioConstructor;
  }
}

const BASE = `/static/lsf/${__EDITOR_VERSION__}`;
let loading: Promise<NonNullable<Window['LabelStudio']>> | null = null;

/** Adds the editor's stylesheet (again after `unloadEditorStyles`). */
export function loadEditorStyles(): void {
  if (document.getElementById('lsf-css')) return;
  const link = document.createElement('link');
  link.id = 'lsf-css';
  link.rel = 'stylesheet';
  link.href = `${BASE}/main.css`;
  // First in <head>: the app's own styles come later and win where both style an element.
  document.head.prepend(link);
}

/** Removes the editor's global stylesheet, so it does not restyle the other pages. */
export function unloadEditorStyles(): void {
  document.getElementById('lsf-css')?.remove();
}

/** Loads the editor script once; resolves with its constructor. */
export function loadEditor(): Promise<NonNullable<Window['LabelStudio']>> {
  loadEditorStyles();
  if (window.LabelStudio) return Promise.resolve(window.LabelStudio);
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = `${BASE}/main.js`;
    script.async = true;
    script.onload = () => (window.LabelStudio ? resolve(window.LabelStudio) : reject(new Error('The labeling editor did not start.')));
    script.onerror = () => {
      loading = null;
      script.remove();
      reject(new Error('The labeling editor could not be loaded.'));
    };
    document.head.appendChild(script);
  });
  return loading;
}
