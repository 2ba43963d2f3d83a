/** The projects of the organization the caller works in, as cards with their progress. */
import { api } from '../api/client';
import type { Page, Project } from '../api/types';
import { Link } from '../app/router';
import { useSession } from '../app/session';
import { useApi } from '../app/use-api';
import { Shell } from '../components/shell';
import { ago, Empty, ErrorAlert, Loading, Progress } from '../components/ui';

const FIELDS = 'id,title,description,task_number,finished_task_number,total_annotations_number,created_at,color';

/** The project cards, with "New project" for roles that may create one. */
export function ProjectsPage() {
  const { can } = useSession();
  const projects = useApi('projects', () => api<Page<Project>>('GET', `/api/projects?page_size=100&include=${FIELDS}`));
  const list = projects.data?.results ?? [];
  return (
    <Shell crumbs={[{ label: 'Projects' }]}>
      <div className="page-head">
        <div>
          <h1>Projects</h1>
          <p>{projects.data ? `${projects.data.count} project${projects.data.count === 1 ? '' : 's'} you can work on` : 'Your labeling projects'}</p>
        </div>
        {can('project.create') && (
          <Link to="/projects/new" className="btn btn-primary">
            + New project
          </Link>
        )}
      </div>
      <ErrorAlert error={projects.error} />
      {projects.loading && !projects.data && <Loading label="Loading projects…" />}
      {projects.data && list.length === 0 && (
        <div className="card">
          <Empty icon="folder" title="No projects yet">
            <p>{can('project.create') ? 'Create a project, pick a labeling template and import your data.' : 'When a manager adds you to a project, it appears here.'}</p>
            {can('project.create') && (
              <Link to="/projects/new" className="btn btn-primary">
                Create your first project
              </Link>
            )}
          </Empty>
        </div>
      )}
      {list.length > 0 && (
        <div className="card-grid">
          {list.map((p) => (
            <Link key={p.id} to={`/projects/${p.id}/data`} className="card project-card" data-testid="project-card">
              <h3>{p.title || `Project #${p.id}`}</h3>
              <p className="desc">{p.description || 'No description.'}</p>
              <Progress done={p.finished_task_number} total={p.task_number} />
              <div className="meta">
                <span>{p.total_annotations_number} annotations</span>
                <span>Created {ago(p.created_at)}</span>
              </div>
            </Link>
          ))}
        </div>
      )}
    </Shell>
  );
}
