/** The frame of every signed-in page: brand, breadcrumbs, the user and logout. */
import type { ReactNode } from 'react';
import { Link, navigate } from '../app/router';
import { useSession } from '../app/session';

/** Role names by the strongest permission the session holds (display only). */
function roleLabel(can: (p: string) => boolean): string {
  if (can('members.transfer_ownership')) return 'Owner';
  if (can('members.change_role')) return 'Administrator';
  if (can('project.create')) return 'Manager';
  if (can('annotation.review')) return 'Reviewer';
  return 'Annotator';
}

export interface Crumb {
  label: string;
  to?: string;
}

/** Top bar and page body. `wide` pages (labeling) use the full width without padding. */
export function Shell({ crumbs = [], children, wide = false }: { crumbs?: Crumb[]; children: ReactNode; wide?: boolean }) {
  const { user, can, logout } = useSession();
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/projects" className="brand">
          <span className="brand-mark" aria-hidden>
            ◆
          </span>
          Labelvault
        </Link>
        <nav className="crumbs" aria-label="Breadcrumbs">
          {crumbs.map((c, i) => (
            <span key={`${c.label}-${i}`} className="row" style={{ gap: 8, minWidth: 0 }}>
              <span aria-hidden>/</span>
              {c.to ? (
                <Link to={c.to}>{c.label}</Link>
              ) : (
                <span className="current" aria-current="page">
                  {c.label}
                </span>
              )}
            </span>
          ))}
        </nav>
        <div className="topbar-spacer" />
        {user && (
          <nav className="topnav" aria-label="Main">
            <Link to="/projects" aria-current={location.pathname.startsWith('/projects') ? 'page' : undefined}>
              Projects
            </Link>
            {can('members.view') && (
              <Link to="/organization" aria-current={location.pathname.startsWith('/organization') ? 'page' : undefined}>
                Organization
              </Link>
            )}
          </nav>
        )}
        {user && (
          <div className="user-chip">
            <span className="badge" data-testid="role">
              {roleLabel(can)}
            </span>
            <Link to="/account" className="user-link" aria-label="Account">
              <span>{user.email}</span>
              <span className="avatar" aria-hidden>
                {user.initials || user.email.slice(0, 2)}
              </span>
            </Link>
            <button
              className="btn btn-ghost btn-sm"
              onClick={() => {
                void logout().then(() => navigate('/login'));
              }}
            >
              Log out
            </button>
          </div>
        )}
      </header>
      {wide ? children : <main className="page">{children}</main>}
    </div>
  );
}
