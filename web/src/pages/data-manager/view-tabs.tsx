/**
 * Saved views as tabs: "All tasks" plus one tab per view. Whoever may change views
 * (`task.change`) renames a tab by double-clicking it (or with its ✎ button), duplicates it, or
 * deletes it; the open tab shows those buttons.
 */
import { useRef, useState } from 'react';
import type { DmView } from '../../api/types';

/** The title a view shows. */
export const viewTitle = (v: DmView) => (typeof v.data.title === 'string' && v.data.title ? v.data.title : `View ${v.id}`);

interface Props {
  views: DmView[];
  /** The open view (null: all tasks). */
  active: number | null;
  onOpen: (v: DmView | null) => void;
  /** Present when the caller may change views. */
  edit?: {
    rename: (v: DmView, title: string) => void;
    duplicate: (v: DmView) => void;
    remove: (v: DmView) => void;
  };
}

/** The inline title editor: Enter or leaving the field saves, Escape cancels. */
function RenameField({ v, onDone }: { v: DmView; onDone: (title: string | null) => void }) {
  const [title, setTitle] = useState(viewTitle(v));
  const closed = useRef(false); // Enter then the blur of the removed field must not save twice
  const finish = (save: boolean) => {
    if (closed.current) return;
    closed.current = true;
    onDone(save && title.trim() && title.trim() !== viewTitle(v) ? title.trim() : null);
  };
  return (
    <input
      className="input view-tab-input"
      aria-label="View name"
      autoFocus
      maxLength={255}
      value={title}
      onChange={(e) => setTitle(e.target.value)}
      onFocus={(e) => e.target.select()}
      onBlur={() => finish(true)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') finish(true);
        if (e.key === 'Escape') finish(false);
      }}
    />
  );
}

/** The tab strip. */
export function ViewTabs({ views, active, onOpen, edit }: Props) {
  const [renaming, setRenaming] = useState<number | null>(null);
  const done = (v: DmView, title: string | null) => {
    setRenaming(null);
    if (title !== null) edit?.rename(v, title);
  };
  return (
    <div className="view-tabs" role="tablist" aria-label="Views">
      <button className="view-tab" role="tab" aria-selected={active === null} onClick={() => onOpen(null)}>
        All tasks
      </button>
      {views.map((v) => (
        <span key={v.id} className="row" style={{ gap: 0 }} data-testid="view-tab">
          {renaming === v.id ? (
            <RenameField v={v} onDone={(t) => done(v, t)} />
          ) : (
            <button
              className="view-tab"
              role="tab"
              aria-selected={active === v.id}
              title={edit ? 'Double-click to rename' : undefined}
              onClick={() => onOpen(v)}
              onDoubleClick={edit ? () => setRenaming(v.id) : undefined}
            >
              {viewTitle(v)}
            </button>
          )}
          {edit && active === v.id && renaming !== v.id && (
            <>
              <button className="btn btn-ghost btn-sm" aria-label={`Rename view ${viewTitle(v)}`} title="Rename" onClick={() => setRenaming(v.id)}>
                ✎
              </button>
              <button className="btn btn-ghost btn-sm" aria-label={`Duplicate view ${viewTitle(v)}`} title="Duplicate" onClick={() => edit.duplicate(v)}>
                ⧉
              </button>
              <button className="btn btn-ghost btn-sm" aria-label={`Delete view ${viewTitle(v)}`} title="Delete" onClick={() => edit.remove(v)}>
                ✕
              </button>
            </>
          )}
        </span>
      ))}
    </div>
  );
}
