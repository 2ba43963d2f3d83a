/**
 * A live preview of a labeling config in the Label Studio editor, with a sample task made from
 * the config's own `$variables`. Read-only in spirit: no submit, nothing is saved.
 */
import { useEffect, useRef, useState } from 'react';
import { loadEditor, unloadEditorStyles, type EditorInstance } from './label-studio';

/** A small picture for previews (an inline SVG: the page loads no image from elsewhere). */
export const SAMPLE_IMAGE =
  'data:image/svg+xml;utf8,' +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="400" viewBox="0 0 640 400"><rect width="640" height="400" fill="#dbeafe"/><rect y="260" width="640" height="140" fill="#94a3b8"/><circle cx="520" cy="80" r="40" fill="#fde68a"/><rect x="90" y="200" width="170" height="70" rx="14" fill="#ef4444"/><circle cx="130" cy="275" r="18" fill="#1f2937"/><circle cx="220" cy="275" r="18" fill="#1f2937"/><path d="M360 120 l140 20 l-140 20 z" fill="#475569"/></svg>',
  );

const TEXT = 'Ada Lovelace wrote the first program for the Analytical Engine while living in London.';

/** Sample data for every `$name` the config reads (images get the inline picture). */
export function sampleData(config: string, known: Record<string, unknown> = {}): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  const tags = config.matchAll(/<(\w+)\b[^>]*\bvalue="\$(\w+)"/g);
  for (const [, tag, name] of tags) {
    if (!name || name in data) continue;
    const given = known[name];
    if (/^(Image)$/i.test(tag ?? '')) data[name] = SAMPLE_IMAGE;
    else if (typeof given === 'string' && !/^https?:/.test(given)) data[name] = given;
    else if (/^(Text|HyperText|Header|Paragraphs)$/i.test(tag ?? '')) data[name] = TEXT;
    else data[name] = typeof given === 'string' ? given : '';
  }
  return data;
}

/** Renders `config` in the editor with `data` as its task, re-rendering when the config changes. */
export function EditorPreview({ config, data }: { config: string; data: Record<string, unknown> }) {
  const host = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState<string>();
  useEffect(() => () => unloadEditorStyles(), []);
  useEffect(() => {
    const root = host.current;
    if (!root) return;
    let instance: EditorInstance | undefined;
    let cancelled = false;
    // Wait for typing to pause before re-rendering the editor.
    const timer = setTimeout(() => {
      loadEditor()
        .then((LabelStudio) => {
          if (cancelled) return;
          setFailed(undefined);
          const el = document.createElement('div');
          root.replaceChildren(el);
          instance = new LabelStudio(el, {
            config,
            interfaces: ['panel', 'controls', 'side-column'],
            user: { pk: 1, firstName: 'Preview', lastName: '', username: 'preview', email: '' },
            task: { id: 1, data, annotations: [], predictions: [] },
            onLabelStudioLoad: (ls) => {
              const a = ls.annotationStore.addAnnotation({ userGenerate: true, createdBy: 'Preview' });
              ls.annotationStore.selectAnnotation(a.id);
            },
          });
        })
        .catch((e: Error) => setFailed(e.message));
    }, 400);
    return () => {
      cancelled = true;
      clearTimeout(timer);
      try {
        instance?.destroy?.();
      } catch {
        /* already gone */
      }
      root.replaceChildren();
    };
    // `data` follows from `config`; re-rendering on config alone avoids needless restarts.
  }, [config]);

  return (
    <div className="preview">
      {failed && <div className="alert alert-error">{failed}</div>}
      <div ref={host} data-testid="preview" />
    </div>
  );
}
