/**
 * What can be done to the selected tasks: label them (the `next_task` action picks the first one
 * still to label within the selection; the labeling page then goes on through the selection, see
 * editor/label-selection.ts), assign them to annotators, or to reviewers for whoever
 * holds `task.assign_reviewers` (POST /api/projects/:id/tasks/assignees, type AN or RE), and the
 * server's own bulk actions (GET /api/dm/actions lists those the caller may run). Every request
 * carries the selection as `selectedItems` with the table's filters, so "all 100,000" is one
 * small request.
 */
import { useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { Filters, Membership, Role, Task } from '../../api/types';
import { navigate } from '../../app/router';
import { useSession } from '../../app/session';
import { ConfirmButton, nameOf } from '../../components/ui';
import { saveSelection, selectionUrl } from '../../editor/label-selection';
import { EVERYTHING, NOTHING, selectedItems, type RowSelection } from './selection';

/** One entry of GET /api/dm/actions. */
export interface DmAction {
  id: string;
  title: string;
  order: number;
}

type Kind = 'AN' | 'RE';
const REVIEWER_ROLES: readonly Role[] = ['RE', 'MA', 'AD', 'OW'];
const INACTIVE_ROLES: readonly Role[] = ['NO', 'DI'];
const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
/** "Delete Tasks" → "Delete tasks". */
const sentence = (title: string) => title.charAt(0) + title.slice(1).toLowerCase();

interface Props {
  projectId: number;
  selection: RowSelection;
  onSelect: (s: RowSelection) => void;
  /** Tasks matching the filters, and how many of them are selected. */
  total: number;
  count: number;
  query: { filters: Filters; ordering: string[] };
  actions: DmAction[];
  /** Members of the organization (undefined when the caller may not list them: no assignment). */
  members: Membership[] | undefined;
  /** Runs a request; its message is shown and the table reloaded. */
  act: (what: () => Promise<string>) => void;
  onError: (e: Error) => void;
}

/** The assignment controls: as what (when reviewers may be assigned), to whom, and the button. */
function AssignControls({ p }: { p: Props }) {
  const { can } = useSession();
  const [kind, setKind] = useState<Kind>('AN');
  const [user, setUser] = useState('');
  const mayReview = can('task.assign_reviewers');
  const people = (p.members ?? []).filter((m) => (kind === 'RE' ? REVIEWER_ROLES.includes(m.role) : !INACTIVE_ROLES.includes(m.role)));
  const assign = () =>
    p.act(async () => {
      const body = { type: kind, users: [Number(user)], selectedItems: selectedItems(p.selection), filters: p.query.filters };
      const r = await api<{ assignments: number }>('POST', `/api/projects/${p.projectId}/tasks/assignees`, body);
      setUser('');
      return `Assigned ${plural(r.assignments, 'task')}${kind === 'RE' ? ' for review' : ''}.`;
    });
  return (
    <>
      {mayReview && (
        <select
          className="input dm-bulk-input"
          aria-label="Assignment type"
          value={kind}
          onChange={(e) => {
            setKind(e.target.value as Kind);
            setUser('');
          }}
        >
          <option value="AN">To annotate</option>
          <option value="RE">To review</option>
        </select>
      )}
      <select className="input dm-bulk-input" aria-label="Assign to" value={user} onChange={(e) => setUser(e.target.value)}>
        <option value="">{kind === 'RE' ? 'Reviewer…' : 'Assign to…'}</option>
        {people.map((m) => (
          <option key={m.user.id} value={m.user.id}>
            {nameOf(m.user)}
          </option>
        ))}
      </select>
      <button className="btn btn-sm" disabled={!user} onClick={assign}>
        Assign
      </button>
    </>
  );
}

/** The bar shown while tasks are selected. */
export function BulkBar(p: Props) {
  const { can } = useSession();
  const body = () => ({ selectedItems: selectedItems(p.selection), filters: p.query.filters, ordering: p.query.ordering });
  const labelSelected = async () => {
    try {
      const t = await api<Task>('POST', `/api/dm/actions?id=next_task&project=${p.projectId}`, body());
      // The labeling page goes on through the same selection (kept for this tab, named in the URL).
      const key = saveSelection({ project: p.projectId, selectedItems: selectedItems(p.selection), filters: p.query.filters, ordering: p.query.ordering });
      navigate(selectionUrl(p.projectId, key, t.id));
    } catch (e) {
      p.onError(e instanceof ApiError && e.status === 404 ? new Error('Every selected task is labeled already (or taken by others).') : (e as Error));
    }
  };
  const run = (a: DmAction) =>
    p.act(async () => {
      const r = await api<{ detail?: string; processed_items?: number }>('POST', `/api/dm/actions?id=${encodeURIComponent(a.id)}&project=${p.projectId}`, body());
      return r.detail ? `${r.detail}.` : `${sentence(a.title)}: ${plural(r.processed_items ?? 0, 'item')}.`;
    });
  return (
    <div className="bulk-bar" role="region" aria-label="Selection">
      <strong>{p.count.toLocaleString('en-US')} selected</strong>
      {p.count < p.total && (
        <button className="btn btn-ghost btn-sm" onClick={() => p.onSelect(EVERYTHING)}>
          Select all {p.total.toLocaleString('en-US')} tasks
        </button>
      )}
      <button className="btn btn-ghost btn-sm" onClick={() => p.onSelect(NOTHING)}>
        Clear selection
      </button>
      <div className="toolbar-spacer" />
      {can('annotation.create') && (
        <button className="btn btn-sm" onClick={() => void labelSelected()}>
          Label selected
        </button>
      )}
      {can('task.assign') && p.members && <AssignControls p={p} />}
      {p.actions.map((a) => (
        <ConfirmButton key={a.id} label={sentence(a.title)} confirm={sentence(a.title)} className={`btn btn-sm${a.id.startsWith('delete') ? ' btn-danger' : ''}`} onConfirm={() => run(a)} />
      ))}
    </div>
  );
}
