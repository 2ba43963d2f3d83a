/** The app: who is signed in decides between the login page and the routed pages. */
import { useEffect } from 'react';
import { Shell } from '../components/shell';
import { Empty, Loading } from '../components/ui';
import { CreateProjectPage } from '../pages/create-project-page';
import { LabelingPage } from '../pages/labeling-page';
import { LoginPage } from '../pages/login-page';
import { ProjectDataPage } from '../pages/project-data-page';
import { ProjectsPage } from '../pages/projects-page';
import { SignupPage } from '../pages/signup-page';
import { AccountPage } from '../pages/account-page';
import { ExportPage } from '../pages/export-page';
import { OrganizationPage } from '../pages/organization-page';
import { ProjectSettingsPage, SECTIONS, type Section } from '../pages/project-settings-page';
import { ReviewPage } from '../pages/review-page';
import { Link, matchPath, navigate, useLocation } from './router';
import { usePageVisits } from './use-page-visits';
import { useSession } from './session';

const PUBLIC = ['/login', '/user/login'];
/** Pages for anyone, signed in or not. */
const OPEN = ['/user/signup'];

/** Only in-app paths are followed after login (never another site). */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/projects';
}

/** The page for a path (signed in). */
function routed(path: string) {
  if (path === '/' || path === '/projects') return <ProjectsPage />;
  if (path === '/projects/new') return <CreateProjectPage />;
  const project = matchPath('/projects/:id', path) ?? matchPath('/projects/:id/data', path);
  if (project && /^\d+$/.test(project.id!)) return <ProjectDataPage key={project.id} id={Number(project.id)} />;
  const label = matchPath('/projects/:id/label', path);
  if (label && /^\d+$/.test(label.id!)) return <LabelingPage key={label.id} id={Number(label.id)} />;
  const review = matchPath('/projects/:id/review', path);
  if (review && /^\d+$/.test(review.id!)) return <ReviewPage key={review.id} id={Number(review.id)} />;
  const exp = matchPath('/projects/:id/export', path);
  if (exp && /^\d+$/.test(exp.id!)) return <ExportPage key={exp.id} id={Number(exp.id)} />;
  const settings = matchPath('/projects/:id/settings', path) ?? matchPath('/projects/:id/settings/:section', path);
  const section = (settings?.section ?? 'general') as Section;
  if (settings && /^\d+$/.test(settings.id!) && SECTIONS.some((s) => s.key === section)) return <ProjectSettingsPage key={settings.id} id={Number(settings.id)} section={section} />;
  if (path === '/account') return <AccountPage />;
  if (path === '/organization') return <OrganizationPage tab="members" />;
  if (path === '/organization/workspaces') return <OrganizationPage tab="workspaces" />;
  return (
    <Shell>
      <div className="card">
        <Empty icon="compass" title="Page not found">
          <Link to="/projects" className="btn">
            Go to projects
          </Link>
        </Empty>
      </div>
    </Shell>
  );
}

/** Chooses the page: login when signed out, else the routed page. */
export function App() {
  const { user } = useSession();
  const { path, query } = useLocation();
  const next = query.get('next');
  const isPublic = PUBLIC.includes(path);
  usePageVisits(path);

  useEffect(() => {
    if (OPEN.includes(path)) return;
    if (user === null && !isPublic) navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    if (user && isPublic) navigate(safeNext(next), { replace: true });
  }, [user, isPublic, next, path]);

  if (OPEN.includes(path)) return <SignupPage />;
  if (user === undefined) return <Loading />;
  if (isPublic || user === null) return <LoginPage />;
  return routed(path);
}
