/**
 * The label stream: the next task of the project (GET /api/projects/:id/next) in the Label
 * Studio editor; submit saves its result unchanged (POST /api/tasks/:id/annotations), skip saves
 * a cancelled annotation, and either moves on to the next task. `?task=ID` opens one task (from
 * the data manager) with the annotations the caller may see; updating one PATCHes it.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { Project, Task } from '../api/types';
import { Link, navigate, useLocation } from '../app/router';
import { useSession } from '../app/session';
import { useApi } from '../app/use-api';
import { Shell } from '../components/shell';
import { Empty, ErrorAlert, Loading } from '../components/ui';
import { loadEditor, unloadEditorStyles, type EditorInstance } from '../editor/label-studio';

/** The editor panels: Submit / Skip / Update appear only with `topbar` (see NOTES.md). */
function interfacesFor(project: Project): string[] {
  const list = ['panel', 'update', 'submit', 'controls', 'infobar', 'topbar', 'instruction', 'side-column', 'annotations:history', 'annotations:current', 'predictions:tabs', 'predictions:menu', 'edit-history'];
  if (project.show_skip_button) list.push('skip');
  return list;
}

/** The instructions' text (shown as text, never as markup). */
function plainText(html: string): string {
  return new DOMParser().parseFromString(html, 'text/html').body.textContent?.trim() ?? '';
}

/** The label stream of project `id` (or one task with ?task=). */
export function LabelingPage({ id }: { id: number }) {
  const { user, can } = useSession();
  const { query } = useLocation();
  const opened = Number(query.get('task')) || null;
  const project = useApi(`project-${id}`, () => api<Project>('GET', `/api/projects/${id}`));
  const [task, setTask] = useState<Task | null | undefined>(undefined);
  const [error, setError] = useState<Error>();
  const [saving, setSaving] = useState(false);
  const [done, setDone] = useState(0);
  const host = useRef<HTMLDivElement>(null);
  const mayLabel = can('annotation.create');

  const fetchNext = useCallback(async () => {
    setTask(undefined);
    try {
      if (opened) setTask(await api<Task>('GET', `/api/tasks/${opened}`));
      else setTask(await api<Task>('GET', `/api/projects/${id}/next`));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) setTask(null);
      else setError(e as Error);
    }
  }, [id, opened]);

  useEffect(() => {
    if (mayLabel) void fetchNext();
  }, [fetchNext, mayLabel]);

  useEffect(() => () => unloadEditorStyles(), []);

  const p = project.data;
  useEffect(() => {
    if (!task || !p || !user || !host.current) return;
    const root = host.current;
    const started = Date.now();
    let instance: EditorInstance | undefined;
    let cancelled = false;
    const existing = (task.annotations ?? []).filter((a) => !a.was_cancelled);

    /** Saves: a new annotation (POST), or the server's annotation `pk` (PATCH); then the stream goes on. */
    const save = async (body: { result: unknown[]; was_cancelled: boolean }, pk?: string | null) => {
      setSaving(true);
      setError(undefined);
      try {
        const lead_time = (Date.now() - started) / 1000;
        if (pk) await api('PATCH', `/api/annotations/${pk}`, { result: body.result, lead_time });
        else await api('POST', `/api/tasks/${task.id}/annotations`, { ...body, lead_time });
        setDone((n) => n + 1);
        if (opened) navigate(`/projects/${id}/label`, { replace: true });
        else await fetchNext();
      } catch (e) {
        setError(e as Error);
      } finally {
        setSaving(false);
      }
    };

    loadEditor()
      .then((LabelStudio) => {
        if (cancelled) return;
        const el = document.createElement('div');
        root.replaceChildren(el);
        instance = new LabelStudio(el, {
          config: p.label_config,
          interfaces: interfacesFor(p),
          user: { pk: user.id, firstName: user.first_name, lastName: user.last_name, username: user.username, email: user.email },
          task: {
            id: task.id,
            data: task.data,
            annotations: existing.map((a) => ({ id: String(a.id), pk: String(a.id), result: a.result, createdBy: a.created_username || `User ${a.completed_by ?? ''}` })),
            predictions: task.predictions ?? [],
          },
          onLabelStudioLoad: (ls) => {
            // The caller's own annotation is opened for update; otherwise a new one is started.
            const mine = existing.find((a) => a.completed_by === user.id);
            if (mine) return ls.annotationStore.selectAnnotation(String(mine.id));
            const name = [user.first_name, user.last_name].join(' ').trim() || user.email;
            const a = ls.annotationStore.addAnnotation({ userGenerate: true, createdBy: name });
            ls.annotationStore.selectAnnotation(a.id);
          },
          onSubmitAnnotation: (_ls, annotation) => void save({ result: annotation.serializeAnnotation(), was_cancelled: false }),
          onUpdateAnnotation: (_ls, annotation) => void save({ result: annotation.serializeAnnotation(), was_cancelled: false }, annotation.pk),
          onSkipTask: () => void save({ result: [], was_cancelled: true }),
        });
      })
      .catch((e: Error) => setError(e));
    return () => {
      cancelled = true;
      try {
        instance?.destroy?.();
      } catch {
        /* the editor may already be gone */
      }
      root.replaceChildren();
    };
  }, [task, p, user, fetchNext, opened, id]);

  const instructions = p?.show_instruction && p.expert_instruction ? plainText(p.expert_instruction) : '';
  const mayBrowse = can('task.view_all') || p?.show_data_manager_to_annotators === true;

  return (
    <Shell wide crumbs={[{ label: 'Projects', to: '/projects' }, { label: p?.title ?? `Project ${id}`, to: `/projects/${id}/data` }, { label: 'Labeling' }]}>
      <div className="label-layout">
        <div className="label-bar">
          <div className="row">
            <strong>{p?.title ?? 'Loading…'}</strong>
            {task && (
              <span className="badge badge-accent" data-testid="task-id">
                Task #{task.id}
              </span>
            )}
            {saving && <span className="muted">Saving…</span>}
          </div>
          <div className="row">
            <span className="muted">{done} labeled this session</span>
            {mayBrowse && (
              <Link to={`/projects/${id}/data`} className="btn btn-sm">
                Back to data
              </Link>
            )}
          </div>
        </div>
        {instructions && <div className="instructions">{instructions}</div>}
        <div style={{ padding: error || project.error ? '12px 24px 0' : 0 }}>
          <ErrorAlert error={error ?? project.error} />
        </div>
        {!mayLabel && (
          <Empty icon="lock" title="Your role cannot label">
            <p>Ask an administrator for an Annotator role or higher.</p>
          </Empty>
        )}
        {mayLabel && task === undefined && !error && <Loading label="Finding your next task…" />}
        {mayLabel && task === null && (
          <Empty icon="check" title="All done">
            <p>There are no more tasks for you in this project right now.</p>
            <Link to="/projects" className="btn">
              Back to projects
            </Link>
          </Empty>
        )}
        <div className="label-editor" ref={host} data-testid="editor" hidden={!task} />
      </div>
    </Shell>
  );
}
