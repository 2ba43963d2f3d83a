/**
 * The keyboard shortcuts overlay ("?" on the labeling page): the page's own shortcuts and the
 * editor's, closed with Escape, the Close button or a click outside.
 */
import { useEffect, useRef } from 'react';
import { EDITOR_SHORTCUTS, type Shortcut } from '../editor/shortcuts';

/** The overlay, listing `shortcuts` (disabled ones marked) and then the editor's own. */
export function ShortcutsHelp({ shortcuts, onClose }: { shortcuts: Shortcut[]; onClose: () => void }) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    close.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  const rows = [...shortcuts.map((s) => ({ keys: s.keys, description: s.enabled === false ? `${s.description} (not in this project)` : s.description })), ...EDITOR_SHORTCUTS];
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
        <p className="muted shortcuts-note">Shortcuts do nothing while you type in a text field.</p>
      </div>
    </div>
  );
}
