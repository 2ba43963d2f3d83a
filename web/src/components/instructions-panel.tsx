/**
 * The project's labeling instructions (`expert_instruction`, shown when `show_instruction` is
 * on): a collapsible panel above the editor, open when the page opens, and a button in the
 * label bar to bring it back. The HTML goes through SafeHtml, never innerHTML.
 */
import { SafeHtml } from './safe-html';

/** The panel; renders nothing while closed. */
export function InstructionsPanel({ html, open, onClose }: { html: string; open: boolean; onClose: () => void }) {
  if (!open) return null;
  return (
    <section className="instructions" aria-label="Instructions" data-testid="instructions">
      <div className="instructions-head">
        <strong>Instructions</strong>
        <button type="button" className="btn btn-sm" onClick={onClose}>
          Hide
        </button>
      </div>
      <SafeHtml html={html} className="instructions-body" />
    </section>
  );
}

/** The label bar's button that shows or hides the panel. */
export function InstructionsToggle({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  return (
    <button type="button" className="btn btn-sm" aria-expanded={open} onClick={onToggle}>
      Instructions
    </button>
  );
}
