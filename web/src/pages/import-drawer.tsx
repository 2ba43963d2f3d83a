/**
 * Import tasks into a project: paste JSON (a task list or one task) or drop files; the upload
 * shows its progress, and a refusal shows the server's message.
 */
import { useRef, useState, type DragEvent } from 'react';
import { api, ApiError, upload } from '../api/client';
import type { ImportSummary } from '../api/types';
import { ErrorAlert, Progress } from '../components/ui';

interface Props {
  projectId: number;
  example: string;
  onClose: () => void;
  onImported: (summary: ImportSummary) => void;
}

const kb = (n: number) => (n < 1024 * 1024 ? `${Math.max(1, Math.round(n / 1024))} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

/** The import side panel of a project; calls `onImported` after each successful import. */
export function ImportDrawer({ projectId, example, onClose, onImported }: Props) {
  const [text, setText] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [over, setOver] = useState(false);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | Error>();
  const [done, setDone] = useState<ImportSummary>();
  const input = useRef<HTMLInputElement>(null);

  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    setFiles((f) => [...f, ...Array.from(e.dataTransfer.files)]);
  };

  const run = async () => {
    setError(undefined);
    setDone(undefined);
    try {
      let summary: ImportSummary;
      if (files.length > 0) {
        const form = new FormData();
        for (const f of files) form.append('file', f, f.name);
        setProgress(0);
        summary = await upload<ImportSummary>(`/api/projects/${projectId}/import`, form, setProgress);
      } else {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch (e) {
          throw new Error(`The pasted text is not valid JSON: ${(e as Error).message}`);
        }
        setProgress(0);
        summary = await api<ImportSummary>('POST', `/api/projects/${projectId}/import`, body);
      }
      setProgress(1);
      setDone(summary);
      setFiles([]);
      setText('');
      onImported(summary);
    } catch (e) {
      setError(e as Error);
    } finally {
      setProgress(null);
    }
  };

  const ready = files.length > 0 || text.trim().length > 0;
  return (
    <div className="backdrop" onClick={onClose}>
      <aside className="drawer" role="dialog" aria-label="Import data" onClick={(e) => e.stopPropagation()}>
        <div className="drawer-head">
          <h2>Import data</h2>
          <button className="btn btn-ghost btn-sm" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </div>
        <div className="drawer-body">
          {done && (
            <div className="alert alert-success" role="status">
              Imported {done.task_count} task{done.task_count === 1 ? '' : 's'}
              {done.annotation_count ? `, ${done.annotation_count} annotations` : ''}
              {done.prediction_count ? `, ${done.prediction_count} predictions` : ''}.
            </div>
          )}
          <ErrorAlert error={error} />
          <div
            className={`dropzone${over ? ' over' : ''}`}
            onDragOver={(e) => {
              e.preventDefault();
              setOver(true);
            }}
            onDragLeave={() => setOver(false)}
            onDrop={drop}
            onClick={() => input.current?.click()}
            role="button"
            tabIndex={0}
          >
            <strong>Drop files here</strong> or click to choose
            <div className="muted" style={{ fontSize: 'var(--fs-xs)', marginTop: 4 }}>
              JSON, JSONL, CSV, TSV, TXT, images, audio and video
            </div>
            <input ref={input} type="file" multiple hidden onChange={(e) => setFiles((f) => [...f, ...Array.from(e.target.files ?? [])])} />
          </div>
          {files.length > 0 && (
            <ul className="file-list">
              {files.map((f, i) => (
                <li key={`${f.name}-${i}`}>
                  <span>{f.name}</span>
                  <span className="muted">{kb(f.size)}</span>
                </li>
              ))}
            </ul>
          )}
          <div className="field">
            <label htmlFor="import-json">Or paste JSON</label>
            <textarea id="import-json" className="textarea mono" rows={10} value={text} onChange={(e) => setText(e.target.value)} placeholder={example} spellCheck={false} />
            <span className="hint">A list of tasks, each its data fields (or {'{"data": {…}}'} with annotations and predictions).</span>
          </div>
          {progress !== null && <Progress done={Math.round(progress * 100)} total={100} label={files.length ? 'Uploading…' : 'Importing…'} />}
        </div>
        <div className="drawer-foot">
          <button className="btn" onClick={onClose}>
            Done
          </button>
          <button className="btn btn-primary" onClick={() => void run()} disabled={!ready || progress !== null}>
            Import
          </button>
        </div>
      </aside>
    </div>
  );
}
