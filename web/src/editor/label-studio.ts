/**
 * The Label Studio editor (its published 1.4.0 bundle, served by our server from the npm
 * package): loading it once, and the small part of its interface the app uses.
 */

declare const __EDITOR_VERSION__: string;

/** An annotation inside the editor. */
export interface EditorAnnotation {
  id: string;
  /** The server's id, for annotations loaded from it. */
  pk?: string | null;
  serializeAnnotation(): unknown[];
}

/** The editor's store, as handed to its callbacks. */
export interface EditorStore {
  annotationStore: {
    annotations: EditorAnnotation[];
    addAnnotation(opts: { userGenerate: boolean; createdBy?: string }): EditorAnnotation;
    selectAnnotation(id: string): void;
  };
}

export interface EditorOptions {
  config: string;
  interfaces: string[];
  user: { pk: number; firstName: string; lastName: string; username: string; email: string };
  task: { id: number; data: Record<string, unknown>; annotations: unknown[]; predictions: unknown[] };
  description?: string;
  onLabelStudioLoad?: (ls: EditorStore) => void;
  onSubmitAnnotation?: (ls: EditorStore, annotation: EditorAnnotation) => void;
  onUpdateAnnotation?: (ls: EditorStore, annotation: EditorAnnotation) => void;
  onSkipTask?: (ls: EditorStore) => void;
}

export interface EditorInstance {
  destroy?: () => void;
}

declare global {
  interface Window {
    LabelStudio?: new (root: HTMLElement, options: EditorOptions) => EditorInstance;
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
