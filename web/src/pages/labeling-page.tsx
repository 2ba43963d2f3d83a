/**
 * The label stream: the next task of the project (GET /api/projects/:id/next) in the Label
 * Studio editor; submit saves its result (POST /api/tasks/:id/annotations), skip saves a
 * cancelled annotation, and either moves on to the next task. `?task=ID` opens one task (from
 * the data manager) with the annotations the caller may see; updating one PATCHes it.
 * Around the editor: predictions pre-fill new annotations, drafts are kept on the server and
 * restored, the project's instructions sit in a collapsible panel, and keyboard shortcuts
 * ("?" lists them) submit, skip and move on. The editor session itself is editor/labeling-session.ts.
 * `?selection=KEY` (from the data manager's "Label selected") keeps the user in that selection:
 * after each submit or skip the next task comes from it (editor/label-selection.ts), the bar shows
 * "Task k of N selected", and an exhausted selection shows a finished state.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { Project, Task, TaskList } from '../api/types';
import { Link, navigate, useLocation } from '../app/router';
import { useSession } from '../app/session';
import { useApi } from '../app/use-api';
import { InstructionsPanel, InstructionsToggle } from '../components/instructions-panel';
import { Shell } from '../components/shell';
import { ShortcutsHelp } from '../components/shortcuts-help';
import { Empty, ErrorAlert, Loading } from '../components/ui';
import { loadEditor, unloadEditorStyles } from '../editor/label-studio';
import { nextInSelection, selectionUrl, useLabelSelection } from '../editor/label-selection';
import { startLabelingSession, type LabelingSession } from '../editor/labeling-session';
import { mod, useShortcuts, type Shortcut } from '../editor/shortcuts';
import { planStart } from '../editor/start-plan';
import { SelectionDone, SelectionProgressBadge } from './label-selection-parts';

/** The task after `taskId` in the project's id order (null at the end). */
async function taskAfter(projectId: number, taskId: number): Promise<number | null> {
  const query = JSON.stringify({ filters: { conjunction: 'and', items: [{ filter: 'filter:tasks:id', operator: 'greater', type: 'Number', value: taskId }] }, ordering: ['tasks:id'] });
  try {
    const list = await api<TaskList>('GET', `/api/tasks?project=${projectId}&page_size=1&query=${encodeURIComponent(query)}`);
    return list.tasks[0]?.id ?? null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null; // no page 1: nothing after it
    throw e;
  }
}

/** "14:05" for the draft indicator. */
const clock = (d: Date) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** The label stream of project `id` (or one task with ?task=). */
export function LabelingPage({ id }: { id: number }) {
  const { user, can } = useSession();
  const { query } = useLocation();
  const opened = Number(query.get('task')) || null;
  const project = useApi(`project-${id}`, () => api<Project & { maximum_annotations?: number }>('GET', `/api/projects/${id}`));
  const [task, setTask] = useState<Task | null | undefined>(undefined);
  const picked = useLabelSelection(id, query.get('selection'), task === undefined ? undefined : (task?.id ?? null), user?.id, project.data?.maximum_annotations);
  const { key: selectionKey, selection } = picked;
  const [error, setError] = useState<Error>();
  const [saving, setSaving] = useState(false);
  const [done, setDone] = useState(0);
  const [draftSaved, setDraftSaved] = useState<Date | null>(null);
  const [helpOpen, setHelpOpen] = useState(false);
  const [instructionsOpen, setInstructionsOpen] = useState(true);
  const host = useRef<HTMLDivElement>(null);
  const session = useRef<LabelingSession | null>(null);
  const mayLabel = can('annotation.create');
  const closeHelp = useCallback(() => setHelpOpen(false), []);

  const fetchNext = useCallback(async () => {
    setTask(undefined);
    try {
      if (opened) setTask(await api<Task>('GET', `/api/tasks/${opened}`));
      else if (selection && selectionKey) {
        const next = await nextInSelection(selection);
        if (next) navigate(selectionUrl(id, selectionKey, next), { replace: true });
        else setTask(null);
      } else setTask(await api<Task>('GET', `/api/projects/${id}/next`));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) setTask(null);
      else setError(e as Error);
    }
  }, [id, opened, selection, selectionKey]);

  useEffect(() => {
    if (mayLabel) void fetchNext();
  }, [fetchNext, mayLabel]);

  useEffect(() => () => unloadEditorStyles(), []);

  // Leaving the page (reload, close, another site): what changed since the last draft is sent.
  useEffect(() => {
    const flush = () => session.current?.flushDraft(true);
    window.addEventListener('pagehide', flush);
    return () => window.removeEventListener('pagehide', flush);
  }, []);

  // After a submit or skip: the selection's next task, the stream after an opened task, or the stream's next.
  const afterDone = useRef(() => {});
  afterDone.current = () => {
    if (selection && selectionKey) navigate(selectionUrl(id, selectionKey), { replace: true });
    else if (opened) navigate(`/projects/${id}/label`, { replace: true });
    else void fetchNext();
  };

  const p = project.data;
  useEffect(() => {
    if (!task || !p || !user || !host.current) return;
    const root = host.current;
    let cancelled = false;
    const draft = planStart(task, p, user.id).draft;
    setDraftSaved(draft ? new Date(draft.updated_at) : null);
    loadEditor()
      .then((LabelStudio) => {
        if (cancelled) return;
        const el = document.createElement('div');
        root.replaceChildren(el);
        session.current = startLabelingSession(LabelStudio, el, task, p, user, {
          onBusy: setSaving,
          onError: setError,
          onDraftSaved: setDraftSaved,
          onDone: () => {
            setError(undefined);
            setDone((n) => n + 1);
            afterDone.current();
          },
        });
      })
      .catch((e: Error) => setError(e));
    return () => {
      cancelled = true;
      session.current?.destroy();
      session.current = null;
      root.replaceChildren();
    };
  }, [task, p, user]);

  const mayBrowse = can('task.view_all') || p?.show_data_manager_to_annotators === true;
  const goNext = async () => {
    if (!opened || !task) return;
    if (selection && selectionKey) {
      picked.pass(task.id);
      navigate(selectionUrl(id, selectionKey), { replace: true });
      return;
    }
    try {
      const next = mayBrowse ? await taskAfter(id, task.id) : null;
      navigate(next ? `/projects/${id}/label?task=${next}` : `/projects/${id}/label`);
    } catch (e) {
      setError(e as Error);
    }
  };

  const store = () => session.current?.store() ?? null;
  const shortcuts: Shortcut[] = [
    {
      keys: 'Ctrl+Enter',
      description: 'Submit (or update) the annotation',
      matches: (e) => mod(e) && e.key === 'Enter',
      run: () => {
        const ls = store();
        if (!ls || ls.isSubmitting || saving) return;
        if (ls.annotationStore.selected?.pk) ls.updateAnnotation();
        else ls.submitAnnotation();
      },
    },
    {
      keys: 'Ctrl+Space',
      description: 'Skip the task',
      enabled: p?.show_skip_button === true,
      matches: (e) => e.ctrlKey && (e.code === 'Space' || e.key === ' '),
      run: () => {
        const ls = store();
        if (ls && !ls.isSubmitting && !saving) ls.skipTask();
      },
    },
    {
      keys: 'Ctrl+Shift+→',
      description: selection ? 'Next task of the selection, without saving (this one waits until the end)' : opened ? 'Next task, without saving' : 'Next task (on a task opened from the data)',
      enabled: opened !== null,
      matches: (e) => mod(e) && e.shiftKey && e.key === 'ArrowRight',
      run: () => void goNext(),
    },
    { keys: '?', description: 'Show or hide this list', matches: (e) => e.key === '?', run: () => setHelpOpen((o) => !o) },
  ];
  useShortcuts(shortcuts);

  const instructions = p?.show_instruction && p.expert_instruction.trim() ? p.expert_instruction : '';

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
            {task && picked.progress && <SelectionProgressBadge progress={picked.progress} />}
            {saving && <span className="muted">Saving…</span>}
            {task && draftSaved && !saving && (
              <span className="draft-state" data-testid="draft-state" title={draftSaved.toLocaleString()}>
                Draft saved {clock(draftSaved)}
              </span>
            )}
          </div>
          <div className="row">
            <span className="muted">{done} labeled this session</span>
            {instructions && <InstructionsToggle open={instructionsOpen} onToggle={() => setInstructionsOpen((o) => !o)} />}
            <button type="button" className="btn btn-sm" onClick={() => setHelpOpen(true)} title="Keyboard shortcuts (?)">
              Shortcuts
            </button>
            {opened && task && (
              <button type="button" className="btn btn-sm" onClick={() => void goNext()}>
                Next task
              </button>
            )}
            {(mayBrowse || selection) && (
              <Link to={`/projects/${id}/data`} className="btn btn-sm">
                {selection ? 'Back to data manager' : 'Back to data'}
              </Link>
            )}
          </div>
        </div>
        {instructions && <InstructionsPanel html={instructions} open={instructionsOpen} onClose={() => setInstructionsOpen(false)} />}
        <div style={{ padding: error || project.error || picked.lost ? '12px 24px 0' : 0 }}>
          <ErrorAlert error={error ?? project.error} />
          {picked.lost && (
            <div className="alert" role="status">
              The selection this link was opened with is kept only in the tab that opened it: after this task, the project’s own stream goes on.
            </div>
          )}
        </div>
        {!mayLabel && (
          <Empty icon="lock" title="Your role cannot label">
            <p>Ask an administrator for an Annotator role or higher.</p>
          </Empty>
        )}
        {mayLabel && task === undefined && !error && <Loading label="Finding your next task…" />}
        {mayLabel && task === null && selection && <SelectionDone projectId={id} selection={selection} total={picked.progress?.total} onRevisit={picked.revisitPassed} />}
        {mayLabel && task === null && !selection && (
          <Empty icon="check" title="All done">
            <p>There are no more tasks for you in this project right now.</p>
            <Link to="/projects" className="btn">
              Back to projects
            </Link>
          </Empty>
        )}
        <div className="label-editor" ref={host} data-testid="editor" hidden={!task} />
      </div>
      {helpOpen && <ShortcutsHelp shortcuts={shortcuts} onClose={closeHelp} />}
    </Shell>
  );
}
