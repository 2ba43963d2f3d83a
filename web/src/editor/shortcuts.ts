/**
 * The labeling and review pages' keyboard shortcuts, on top of the editor's own: one window
 * listener in the capture phase, so a shortcut handled here does not also reach the editor's key
 * handler (no double submit). Nothing fires while the user types in a text field, except the
 * shortcuts marked `inText` (listed as such in the help).
 */
import { useEffect, useRef } from 'react';

/** One shortcut: the keys as shown to the user, what it does, and how a key event matches it. */
export interface Shortcut {
  keys: string;
  description: string;
  matches: (e: KeyboardEvent) => boolean;
  run: () => void;
  /** Off: listed in the help but does nothing (e.g. Skip in a project without it). */
  enabled?: boolean;
  /** Fires in a text field too (e.g. Ctrl+Enter to accept while writing the review comment). */
  inText?: boolean;
}

/** Input types that take no typing (a focused checkbox must not block Ctrl+Enter). */
const NOT_TYPED = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file', 'image']);

/** Whether a key event comes from a place where the user types text. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !NOT_TYPED.has(target.type);
}

/** Ctrl on Linux and Windows, Cmd on macOS (either is accepted). */
export const mod = (e: KeyboardEvent) => e.ctrlKey || e.metaKey;

/** The editor's own shortcuts, listed in the help (Label Studio 1.4.0's default keymap). */
export const EDITOR_SHORTCUTS: readonly { keys: string; description: string }[] = [
  { keys: '1 … 9', description: 'Pick a label or choice (the editor shows each one’s key)' },
  { keys: 'Ctrl+Z / Ctrl+Shift+Z', description: 'Undo / redo' },
  { keys: 'Backspace', description: 'Delete the selected region' },
  { keys: 'U', description: 'Unselect the region' },
  { keys: 'Alt+H', description: 'Hide or show the selected region' },
];

/** Listens for `shortcuts` while the component is mounted. */
export function useShortcuts(shortcuts: Shortcut[]): void {
  const current = useRef(shortcuts);
  current.current = shortcuts;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.repeat || e.isComposing) return;
      const typing = isTyping(e.target);
      const hit = current.current.find((s) => s.matches(e) && (s.inText === true || !typing));
      if (!hit) return;
      e.preventDefault();
      e.stopPropagation();
      if (hit.enabled !== false) hit.run();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, []);
}
