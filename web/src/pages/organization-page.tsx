/**
 * The organization: its members with their roles (Administrators change roles and deactivate
 * members), the invite link (shown and reset by Administrators), and its workspaces (Managers
 * create them and choose their members). Each control appears only for roles that may use it.
 */
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import { ROLE_NAMES, type Membership, type Page, type Role, type User, type Workspace } from '../api/types';
import { Link } from '../app/router';
import { useSession } from '../app/session';
import { useApi } from '../app/use-api';
import { Shell } from '../components/shell';
import { ago, ConfirmButton, Empty, ErrorAlert, initialsOf, Loading, nameOf } from '../components/ui';

/** Roles an Administrator may give (the Owner is transferred, never given). */
const GIVABLE: Role[] = ['AD', 'MA', 'RE', 'AN'];

/** Every active member of the organization (for pickers). */
export function useMembers(orgId: number | null | undefined, enabled = true) {
  return useApi(orgId && enabled ? `members-${orgId}` : null, () => api<Page<Membership>>('GET', `/api/organizations/${orgId}/memberships?page_size=1000`));
}

/** A member's avatar, name and email. */
export function Person({ user }: { user: User }) {
  return (
    <div className="person">
      <span className="avatar" aria-hidden>
        {initialsOf(user)}
      </span>
      <div style={{ minWidth: 0 }}>
        <div className="name">{nameOf(user)}</div>
        {nameOf(user) !== user.email && <div className="sub">{user.email}</div>}
      </div>
    </div>
  );
}

function RoleBadge({ role }: { role: Role }) {
  const cls = role === 'NO' ? 'badge badge-warning' : role === 'DI' ? 'badge badge-danger' : role === 'OW' || role === 'AD' ? 'badge badge-accent' : 'badge';
  return <span className={cls}>{role === 'NO' ? 'Waiting for a role' : ROLE_NAMES[role]}</span>;
}

/** The invite link, with copy and reset. */
function InviteCard() {
  const invite = useApi('invite', () => api<{ invite_url: string }>('GET', '/api/invite'));
  const [error, setError] = useState<ApiError>();
  const [copied, setCopied] = useState(false);
  const [busy, setBusy] = useState(false);
  const url = invite.data ? new URL(invite.data.invite_url, location.origin).href : '';
  const reset = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api('POST', '/api/invite/reset-token');
      invite.reload();
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card card-body section" aria-label="Invite link">
      <div className="section-head">
        <div>
          <h3>Invite people</h3>
          <p>Anyone with this link can sign up; they can work once you give them a role below.</p>
        </div>
      </div>
      <ErrorAlert error={invite.error ?? error} />
      <div className="copy-row">
        <input className="input" readOnly value={url} aria-label="Invite link" data-testid="invite-link" onFocus={(e) => e.target.select()} />
        <button
          className="btn"
          disabled={!url}
          onClick={() => {
            void navigator.clipboard?.writeText(url).then(() => setCopied(true), () => undefined);
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <ConfirmButton label="Reset link" confirm="Reset" busy={busy} className="btn" onConfirm={() => void reset()} />
      </div>
      <span className="muted" style={{ fontSize: 'var(--fs-xs)' }}>
        Resetting makes the old link stop working at once.
      </span>
    </section>
  );
}

/** The members table. */
function MembersSection({ orgId }: { orgId: number }) {
  const { user, can } = useSession();
  const members = useMembers(orgId);
  const [error, setError] = useState<ApiError>();
  const [search, setSearch] = useState('');
  const mayChange = can('members.change_role');
  const setRole = async (m: Membership, role: Role) => {
    setError(undefined);
    try {
      await api('PATCH', `/api/organizations/${orgId}/memberships`, { user_id: m.user.id, role });
      members.reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  const list = (members.data?.results ?? []).filter((m) => !search || `${nameOf(m.user)} ${m.user.email}`.toLowerCase().includes(search.toLowerCase()));
  const pending = list.filter((m) => m.role === 'NO').length;
  return (
    <section className="card" aria-label="Members">
      <div className="card-body section-head" style={{ alignItems: 'center' }}>
        <div>
          <h3>Members</h3>
          <p>
            {members.data ? `${members.data.count} people` : 'People of the organization'}
            {pending > 0 && ` · ${pending} waiting for a role`}
          </p>
        </div>
        <input className="input" style={{ width: 260 }} placeholder="Search by name or email" aria-label="Search members" value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      {(error ?? members.error) && (
        <div style={{ padding: '0 20px 16px' }}>
          <ErrorAlert error={error ?? members.error} />
        </div>
      )}
      {members.loading && !members.data && <Loading label="Loading members…" />}
      {members.data && list.length === 0 && <Empty icon="inbox" title="No one matches" />}
      {list.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Members">
            <thead>
              <tr>
                <th>Person</th>
                <th>Role</th>
                <th>Last active</th>
                {mayChange && <th style={{ textAlign: 'right' }}>Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.map((m) => {
                const editable = mayChange && m.role !== 'OW' && m.user.id !== user?.id;
                return (
                  <tr key={m.id} data-testid="member-row" data-email={m.user.email}>
                    <td>
                      <Person user={m.user} />
                    </td>
                    <td>
                      {editable && m.role !== 'DI' ? (
                        <select className="input" style={{ width: 180, height: 32 }} aria-label={`Role of ${m.user.email}`} value={m.role} onChange={(e) => void setRole(m, e.target.value as Role)}>
                          {m.role === 'NO' && <option value="NO">Choose a role…</option>}
                          {GIVABLE.map((r) => (
                            <option key={r} value={r}>
                              {ROLE_NAMES[r]}
                            </option>
                          ))}
                        </select>
                      ) : (
                        <RoleBadge role={m.role} />
                      )}
                    </td>
                    <td className="muted">{m.user.last_activity ? ago(m.user.last_activity) : 'Never'}</td>
                    {mayChange && (
                      <td style={{ textAlign: 'right' }}>
                        {editable &&
                          (m.role === 'DI' ? (
                            <button className="btn btn-sm" onClick={() => void setRole(m, 'AN')}>
                              Reactivate
                            </button>
                          ) : (
                            <ConfirmButton label="Deactivate" confirm="Deactivate" className="btn btn-sm btn-danger" onConfirm={() => void setRole(m, 'DI')} />
                          ))}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** One workspace's members, with add and remove for roles that may change it. */
export function WorkspaceMembers({ workspace, orgId }: { workspace: Workspace; orgId: number }) {
  const { can } = useSession();
  const mayChange = can('workspace.change');
  const members = useApi(`ws-members-${workspace.id}`, () => api<{ user: User }[]>('GET', `/api/workspaces/${workspace.id}/memberships`));
  const org = useMembers(orgId, mayChange && can('members.view'));
  const [pick, setPick] = useState('');
  const [error, setError] = useState<ApiError>();
  const inside = new Set((members.data ?? []).map((m) => m.user.id));
  const candidates = (org.data?.results ?? []).filter((m) => !inside.has(m.user.id) && !['NO', 'DI'].includes(m.role));
  const change = async (method: 'POST' | 'DELETE', userId: number) => {
    setError(undefined);
    try {
      await api(method, `/api/workspaces/${workspace.id}/memberships`, method === 'POST' ? { user: userId } : { user_id: userId });
      setPick('');
      members.reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  const roleOf = new Map((org.data?.results ?? []).map((m) => [m.user.id, m.role]));
  return (
    <div className="stack" style={{ gap: 12 }}>
      <ErrorAlert error={error ?? members.error} />
      {members.loading && !members.data && <Loading label="Loading members…" />}
      {members.data && members.data.length === 0 && <p className="muted">No members yet.</p>}
      {members.data && members.data.length > 0 && (
        <ul className="file-list" aria-label={`Members of ${workspace.title}`} style={{ gap: 10 }}>
          {members.data.map((m) => (
            <li key={m.user.id} data-testid="workspace-member" style={{ alignItems: 'center' }}>
              <Person user={m.user} />
              <span className="row">
                {roleOf.get(m.user.id) && <RoleBadge role={roleOf.get(m.user.id)!} />}
                {mayChange && (
                  <button className="btn btn-ghost btn-sm" onClick={() => void change('DELETE', m.user.id)} aria-label={`Remove ${m.user.email}`}>
                    Remove
                  </button>
                )}
              </span>
            </li>
          ))}
        </ul>
      )}
      {mayChange && org.data && (
        <form
          className="row"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            if (pick) void change('POST', Number(pick));
          }}
        >
          <select className="input" aria-label="Person to add" value={pick} onChange={(e) => setPick(e.target.value)} style={{ flex: 1 }}>
            <option value="">Add a person…</option>
            {candidates.map((m) => (
              <option key={m.user.id} value={m.user.id}>
                {nameOf(m.user)} · {m.user.email} ({ROLE_NAMES[m.role]})
              </option>
            ))}
          </select>
          <button className="btn" type="submit" disabled={!pick}>
            Add member
          </button>
        </form>
      )}
    </div>
  );
}

/** Workspaces: create, open one to see and change its members, delete an empty one. */
function WorkspacesSection({ orgId }: { orgId: number }) {
  const { can } = useSession();
  const workspaces = useApi('workspaces', () => api<Workspace[]>('GET', '/api/workspaces'));
  const [title, setTitle] = useState('');
  const [open, setOpen] = useState<number | null>(null);
  const [error, setError] = useState<ApiError>();
  const shared = (workspaces.data ?? []).filter((w) => !w.is_personal);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      const w = await api<Workspace>('POST', '/api/workspaces', { title });
      setTitle('');
      setOpen(w.id);
      workspaces.reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  const remove = async (w: Workspace) => {
    setError(undefined);
    try {
      await api('DELETE', `/api/workspaces/${w.id}`);
      workspaces.reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <div className="stack">
      {can('workspace.create') && (
        <form className="card card-body row" onSubmit={create} aria-label="Create workspace">
          <input className="input" placeholder="New workspace name, e.g. Vision team" aria-label="Workspace name" required maxLength={1000} value={title} onChange={(e) => setTitle(e.target.value)} />
          <button className="btn btn-primary" type="submit">
            Create workspace
          </button>
        </form>
      )}
      <ErrorAlert error={error ?? workspaces.error} />
      {workspaces.loading && !workspaces.data && <Loading label="Loading workspaces…" />}
      {workspaces.data && shared.length === 0 && (
        <div className="card">
          <Empty icon="folder" title="No shared workspaces">
            <p>A workspace groups projects with the people who work on them.</p>
          </Empty>
        </div>
      )}
      {shared.map((w) => (
        <section key={w.id} className="card" data-testid="workspace" aria-label={w.title}>
          <div className="card-body section-head" style={{ alignItems: 'center' }}>
            <button className="btn btn-ghost" style={{ padding: 0, height: 'auto', color: 'var(--c-text)' }} onClick={() => setOpen(open === w.id ? null : w.id)} aria-expanded={open === w.id}>
              <span className="color-dot" style={{ background: w.color && w.color !== '#FFFFFF' ? w.color : 'var(--c-accent)' }} />
              <h3>{w.title}</h3>
            </button>
            <span className="row">
              <button className="btn btn-sm" onClick={() => setOpen(open === w.id ? null : w.id)}>
                {open === w.id ? 'Close' : 'Members'}
              </button>
              {can('workspace.delete') && <ConfirmButton label="Delete" confirm="Delete" className="btn btn-sm btn-danger" onConfirm={() => void remove(w)} />}
            </span>
          </div>
          {open === w.id && (
            <div className="card-body" style={{ borderTop: '1px solid var(--c-border)' }}>
              <WorkspaceMembers workspace={w} orgId={orgId} />
            </div>
          )}
        </section>
      ))}
    </div>
  );
}

/** /organization (members) and /organization/workspaces. */
export function OrganizationPage({ tab }: { tab: 'members' | 'workspaces' }) {
  const { user, can } = useSession();
  const orgId = user?.active_organization ?? null;
  if (!can('members.view')) {
    return (
      <Shell crumbs={[{ label: 'Organization' }]}>
        <div className="card">
          <Empty icon="lock" title="Your role cannot manage the organization">
            <Link to="/projects" className="btn">
              Go to projects
            </Link>
          </Empty>
        </div>
      </Shell>
    );
  }
  return (
    <Shell crumbs={[{ label: 'Organization' }]}>
      <div className="page-head">
        <div>
          <h1>{user?.active_organization_meta.title ?? 'Organization'}</h1>
          <p>People, roles and workspaces.</p>
        </div>
      </div>
      <nav className="tabs" aria-label="Organization">
        <Link to="/organization" className="tab" aria-current={tab === 'members' ? 'page' : undefined}>
          Members
        </Link>
        <Link to="/organization/workspaces" className="tab" aria-current={tab === 'workspaces' ? 'page' : undefined}>
          Workspaces
        </Link>
      </nav>
      {orgId === null ? (
        <ErrorAlert error={new Error('You have no active organization.')} />
      ) : tab === 'members' ? (
        <div className="stack" style={{ gap: 20 }}>
          {can('invite.manage') && <InviteCard />}
          <MembersSection orgId={orgId} />
        </div>
      ) : (
        <WorkspacesSection orgId={orgId} />
      )}
    </Shell>
  );
}
