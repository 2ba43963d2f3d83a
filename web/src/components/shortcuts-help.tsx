/**
 * The keyboard shortcuts overlay ("?" on the labeling and review pages): the page's own shortcuts
 * and (while labeling) the editor's, closed with Escape, the Close button or a click outside.
 */
import { useEffect, useRef } from 'react';
import { EDITOR_SHORTCUTS, type Shortcut } from '../editor/shortcuts';

/** The overlay, listing `shortcuts` (disabled ones and those that work while typing marked), then the editor's own unless `editor` is false. */
export function ShortcutsHelp({ shortcuts, onClose, editor = true }: { shortcuts: Shortcut[]; onClose: () => void; editor?: boolean }) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    close.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  const describe = (s: Shortcut) => `${s.description}${s.enabled === false ? ' (not in this project)' : ''}${s.inText ? ' — also while typing' : ''}`;
  const rows = [...shortcuts.map((s) => ({ keys: s.keys, description: describe(s) })), ...(editor ? EDITOR_SHORTCUTS : [])];
  const someInText = shortcuts.some((s) => s.inText);
  return (
    <div className="backdrop backdrop-center" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div className="card shortcuts" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts">
        <div className="drawer-head">
          <h2>Keyboard shortcuts</h2>
          <button ref={close} type="button" className="btn btn-sm" onClick={onClose}>
            Close
          </button>
        </div>
        <table className="shortcuts-table">
          <tbody>
            {rows.map((r) => (
              <tr key={r.keys}>
                <td>
                  <kbd>{r.keys}</kbd>
                </td>
                <td>{r.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted shortcuts-note">{someInText ? 'The others do nothing while you type in a text field.' : 'Shortcuts do nothing while you type in a text field.'}</p>
      </div>
    </div>
  );
}
