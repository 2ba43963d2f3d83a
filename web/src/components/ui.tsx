/** Small shared pieces: loading, empty and error states, progress bar. */
import { useState, type ReactNode } from 'react';
import { ApiError } from '../api/client';
import { Icon, type IconName } from './icon';

/** A centred spinner with a label. */
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <div className="spinner" />
      <span>{label}</span>
    </div>
  );
}

/** What a page shows when there is nothing yet, with what to do about it. */
export function Empty({ icon, title, children }: { icon: IconName; title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <div className="icon">
        <Icon name={icon} size={36} />
      </div>
      <h3>{title}</h3>
      {children}
    </div>
  );
}

/** The server's message (and the fields it names) for a failed request. */
export function ErrorAlert({ error }: { error: ApiError | Error | undefined | null }) {
  if (!error) return null;
  const lines = error instanceof ApiError ? error.lines : [];
  return (
    <div className="alert alert-error" role="alert">
      {error.message}
      {lines.length > 0 && (
        <ul>
          {lines.map((l) => (
            <li key={l}>{l}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A progress bar with "done of total" above it. */
export function Progress({ done, total, label }: { done: number; total: number; label?: string }) {
  const pct = total > 0 ? Math.round((done / total) * 100) : 0;
  return (
    <div className="stack" style={{ gap: 6 }}>
      <div className="progress-label">
        <span>{label ?? `${done} of ${total} tasks`}</span>
        <span>{pct}%</span>
      </div>
      <div className="progress" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
        <span style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

/** "3 minutes ago"-style time for lists. */
export function ago(iso: string): string {
  const s = (Date.now() - new Date(iso).getTime()) / 1000;
  if (!Number.isFinite(s)) return '';
  if (s < 60) return 'just now';
  const units: [number, string][] = [
    [60, 'minute'],
    [3600, 'hour'],
    [86400, 'day'],
    [2592000, 'month'],
    [31536000, 'year'],
  ];
  let pick: [number, string] = units[0]!;
  for (const u of units) if (s >= u[0]) pick = u;
  const n = Math.floor(s / pick[0]);
  return `${n} ${pick[1]}${n === 1 ? '' : 's'} ago`;
}

/** A button that asks once more, inline, before doing something that cannot be undone. */
export function ConfirmButton({ label, confirm, onConfirm, busy = false, className = 'btn btn-danger' }: { label: string; confirm: string; onConfirm: () => void; busy?: boolean; className?: string }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className={className} onClick={() => setAsking(true)} disabled={busy}>
        {label}
      </button>
    );
  }
  return (
    <span className="row" style={{ gap: 8 }}>
      <span className="muted" style={{ fontSize: 'var(--fs-sm)' }}>
        Sure?
      </span>
      <button type="button" className="btn btn-sm" onClick={() => setAsking(false)}>
        Cancel
      </button>
      <button
        type="button"
        className="btn btn-sm btn-primary"
        style={{ background: 'var(--c-danger)', borderColor: 'var(--c-danger)' }}
        disabled={busy}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirm}
      </button>
    </span>
  );
}

/** The display name of a user: their name, else their email. */
export function nameOf(u: { first_name?: string; last_name?: string; email: string }): string {
  return [u.first_name, u.last_name].filter(Boolean).join(' ').trim() || u.email;
}

/** Initials for an avatar. */
export function initialsOf(u: { first_name?: string; last_name?: string; email: string }): string {
  const n = [u.first_name, u.last_name].filter(Boolean).map((x) => x![0]).join('');
  return (n || u.email.slice(0, 2)).toUpperCase();
}
