/**
 * The review stream of a project: the annotations nobody has reviewed yet, one at a time in the
 * Label Studio editor, with Accept / Reject and a comment for the annotator
 * (POST /api/annotation-reviews). Reviewers and above only (annotation.review). Tasks arrive a
 * page of 50 at a time, each loaded on its own (see review-stream.ts). Keyboard: Ctrl+Enter
 * accepts, Ctrl+Backspace rejects (first moving to the comment when none is written), Ctrl+Shift+→
 * moves on without deciding, "?" lists them (editor/shortcuts.ts, review-shortcuts below).
 */
import { useCallback, useEffect, useMemo, useRef, useState, type RefObject } from 'react';
import { api, ApiError } from '../api/client';
import type { Project, Review } from '../api/types';
import { useSession } from '../app/session';
import { useApi } from '../app/use-api';
import { RoleRefused } from '../components/role-refused';
import { Shell } from '../components/shell';
import { ShortcutsHelp } from '../components/shortcuts-help';
import { ago, Empty, ErrorAlert, Loading } from '../components/ui';
import { loadEditor, unloadEditorStyles, type EditorInstance } from '../editor/label-studio';
import { mod, useShortcuts, type Shortcut } from '../editor/shortcuts';
import { useReviewStream } from './review-stream';

/** What the review shortcuts act on. */
interface ReviewKeys {
  decide: (accepted: boolean) => void;
  /** Whether a decision can be sent now (an annotation is shown, nothing is being saved). */
  ready: boolean;
  comment: string;
  commentField: RefObject<HTMLInputElement | null>;
  skip: () => void;
  toggleHelp: () => void;
}

/**
 * The review page's shortcuts. Accept and Reject also fire from the comment field (so a comment
 * can be typed and sent without the mouse); Reject with no comment written first moves to the
 * comment field, so the annotator hears why (pressed again there, it rejects without one).
 */
function reviewShortcuts(k: ReviewKeys): Shortcut[] {
  const reject = () => {
    const field = k.commentField.current;
    if (field && !k.comment.trim() && document.activeElement !== field) field.focus();
    else if (k.ready) k.decide(false);
  };
  return [
    { keys: 'Ctrl+Enter', description: 'Accept the annotation', inText: true, matches: (e) => mod(e) && e.key === 'Enter', run: () => k.ready && k.decide(true) },
    { keys: 'Ctrl+Backspace', description: 'Reject (with no comment yet: go to the comment first, press again to reject)', inText: true, matches: (e) => mod(e) && e.key === 'Backspace', run: reject },
    { keys: 'Ctrl+Shift+→', description: 'Next annotation in the queue, without deciding', matches: (e) => mod(e) && e.shiftKey && e.key === 'ArrowRight', run: k.skip },
    { keys: '?', description: 'Show or hide this list', matches: (e) => e.key === '?', run: k.toggleHelp },
  ];
}

/** /projects/:id/review. */
export function ReviewPage({ id }: { id: number }) {
  const { user, can } = useSession();
  const mayReview = can('annotation.review');
  const project = useApi(`project-${id}`, () => api<Project>('GET', `/api/projects/${id}`));
  const stream = useReviewStream(id, mayReview);
  const reviews = useApi(mayReview ? `reviews-${id}` : null, () => api<Review[]>('GET', `/api/annotation-reviews?annotation__task__project=${id}`));
  const [showAll, setShowAll] = useState(false);
  const [current, setCurrent] = useState<number | null>(null);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<ApiError | Error>();
  const [busy, setBusy] = useState(false);
  const [decided, setDecided] = useState(0);
  const [helpOpen, setHelpOpen] = useState(false);
  const closeHelp = useCallback(() => setHelpOpen(false), []);
  const host = useRef<HTMLDivElement>(null);
  const commentField = useRef<HTMLInputElement>(null);

  const verdicts = useMemo(() => new Map((reviews.data ?? []).map((r) => [r.annotation, r])), [reviews.data]);
  // Not one's own work: the server refuses reviewing it.
  const all = stream.items.filter((i) => i.annotation.completed_by !== user?.id);
  const queue = showAll ? all : all.filter((i) => !verdicts.has(i.annotation.id));
  const selected = queue.find((i) => i.annotation.id === current) ?? queue[0];

  // Everything loaded is reviewed: the next page of tasks comes on its own.
  const { loading: streamLoading, hasMore, loadMore } = stream;
  useEffect(() => {
    if (!streamLoading && hasMore && queue.length === 0 && reviews.data) loadMore();
  }, [streamLoading, hasMore, queue.length, reviews.data, loadMore]);

  const p = project.data;
  useEffect(() => () => unloadEditorStyles(), []);
  useEffect(() => {
    const root = host.current;
    if (!root || !selected || !p || !user) return;
    let instance: EditorInstance | undefined;
    let cancelled = false;
    loadEditor()
      .then((LabelStudio) => {
        if (cancelled) return;
        const el = document.createElement('div');
        root.replaceChildren(el);
        const a = selected.annotation;
        instance = new LabelStudio(el, {
          config: p.label_config,
          interfaces: ['panel', 'side-column', 'annotations:current'],
          user: { pk: user.id, firstName: user.first_name, lastName: user.last_name, username: user.username, email: user.email },
          task: { id: selected.task.id, data: selected.task.data, annotations: [{ id: String(a.id), pk: String(a.id), result: a.result, createdBy: a.created_username }], predictions: [] },
          onLabelStudioLoad: (ls) => ls.annotationStore.selectAnnotation(String(a.id)),
        });
      })
      .catch((e: Error) => setError(e));
    return () => {
      cancelled = true;
      try {
        instance?.destroy?.();
      } catch {
        /* already gone */
      }
      root.replaceChildren();
    };
  }, [selected?.annotation.id, p, user]); // eslint-disable-line react-hooks/exhaustive-deps

  const decide = async (accepted: boolean) => {
    if (!selected) return;
    setBusy(true);
    setError(undefined);
    try {
      const existing = verdicts.get(selected.annotation.id);
      const body = { accepted, comment: comment.trim() || null };
      if (existing) await api('PATCH', `/api/annotation-reviews/${existing.id}`, body);
      else await api('POST', '/api/annotation-reviews', { annotation: selected.annotation.id, ...body });
      setComment('');
      setDecided((n) => n + 1);
      setCurrent(null);
      reviews.reload();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const skip = () => {
    const at = queue.findIndex((i) => i.annotation.id === selected?.annotation.id);
    const next = queue[at + 1];
    if (next) setCurrent(next.annotation.id);
  };
  const shortcuts = reviewShortcuts({ decide: (a) => void decide(a), ready: !!selected && !busy, comment, commentField, skip, toggleHelp: () => setHelpOpen((o) => !o) });
  useShortcuts(mayReview ? shortcuts : []);

  const crumbs = [{ label: 'Projects', to: '/projects' }, { label: p?.title ?? `Project ${id}`, to: `/projects/${id}/data` }, { label: 'Review' }];
  if (!mayReview) {
    return <RoleRefused crumbs={crumbs} title="Your role cannot review annotations" projectId={id} />;
  }
  const verdict = selected ? verdicts.get(selected.annotation.id) : undefined;
  const loading = (stream.loading && !selected) || (reviews.loading && !reviews.data);
  return (
    <Shell wide crumbs={crumbs}>
      <div className="review-layout">
        <aside className="review-queue" aria-label="Review queue">
          <h2>To review · {all.filter((i) => !verdicts.has(i.annotation.id)).length}</h2>
          <label className="check" style={{ padding: '0 16px 12px', fontSize: 'var(--fs-sm)' }}>
            <input type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} />
            <span>Show reviewed too</span>
          </label>
          {queue.map((i) => {
            const v = verdicts.get(i.annotation.id);
            return (
              <button key={i.annotation.id} className="queue-item" aria-current={selected?.annotation.id === i.annotation.id} onClick={() => setCurrent(i.annotation.id)} data-testid="review-item">
                <div className="row" style={{ justifyContent: 'space-between' }}>
                  <strong>Task #{i.task.id}</strong>
                  {v && <span className={v.accepted ? 'badge badge-success' : 'badge badge-danger'}>{v.accepted ? 'Accepted' : 'Rejected'}</span>}
                </div>
                <div className="sub">
                  {i.annotation.created_username || `User ${i.annotation.completed_by}`} · {i.annotation.result.length} result{i.annotation.result.length === 1 ? '' : 's'}
                  {i.annotation.updated_at ? ` · ${ago(i.annotation.updated_at)}` : ''}
                </div>
              </button>
            );
          })}
          <div className="review-more muted" data-testid="review-progress">
            {stream.loaded} of {stream.total} annotated task{stream.total === 1 ? '' : 's'} loaded{stream.loading ? '…' : ''}
            {stream.hasMore && !stream.loading && (
              <button type="button" className="btn btn-sm" onClick={stream.loadMore}>
                Load the next tasks
              </button>
            )}
          </div>
        </aside>
        <section className="review-main">
          <div className="label-bar">
            <div className="row">
              <strong>{p?.title ?? 'Loading…'}</strong>
              {selected && (
                <span className="badge badge-accent" data-testid="review-task">
                  Task #{selected.task.id} · annotation #{selected.annotation.id}
                </span>
              )}
            </div>
            <div className="row">
              <span className="muted">{decided} reviewed this session</span>
              <button type="button" className="btn btn-sm" onClick={() => setHelpOpen(true)} title="Keyboard shortcuts (?)">
                Shortcuts
              </button>
            </div>
          </div>
          <div style={{ padding: error || stream.error || reviews.error ? '12px 24px 0' : 0 }}>
            <ErrorAlert error={error ?? stream.error ?? reviews.error ?? project.error} />
          </div>
          {loading && <Loading label="Finding annotations to review…" />}
          {!loading && !selected && (
            <Empty icon="check" title="Nothing to review">
              <p>Every annotation of this project has been reviewed. New ones appear here as annotators submit them.</p>
            </Empty>
          )}
          <div className="label-editor" ref={host} data-testid="review-editor" hidden={!selected} />
          {selected && (
            <div className="review-actions">
              <div className="field">
                <label htmlFor="review-comment">Comment for the annotator</label>
                <input id="review-comment" ref={commentField} className="input" value={comment} onChange={(e) => setComment(e.target.value)} placeholder={verdict?.comment ?? 'Optional: what to fix, or what was good'} maxLength={10_000} />
              </div>
              <button className="btn btn-lg" style={{ color: 'var(--c-danger)' }} disabled={busy} onClick={() => void decide(false)}>
                Reject
              </button>
              <button className="btn btn-lg btn-primary" style={{ background: 'var(--c-success)', borderColor: 'var(--c-success)' }} disabled={busy} onClick={() => void decide(true)}>
                Accept
              </button>
            </div>
          )}
        </section>
      </div>
      {helpOpen && <ShortcutsHelp shortcuts={shortcuts} onClose={closeHelp} editor={false} />}
    </Shell>
  );
}
