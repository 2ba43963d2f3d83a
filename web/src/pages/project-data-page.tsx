/**
 * A project's data manager: its progress, and its tasks in the data manager's table (views,
 * filters, sorting, windowed scrolling, bulk actions: data-manager.tsx), with import and the
 * label stream one click away. Annotators see it only when the project allows; otherwise they
 * are pointed to the label stream.
 */
import { useState } from 'react';
import { api } from '../api/client';
import type { Project } from '../api/types';
import { Link, navigate, useLocation } from '../app/router';
import { useSession } from '../app/session';
import { useApi } from '../app/use-api';
import { ProjectTabs } from '../components/project-nav';
import { Shell } from '../components/shell';
import { Empty, ErrorAlert, Loading, Progress } from '../components/ui';
import { TaskTable } from './data-manager';
import { ImportDrawer } from './import-drawer';
import { TEMPLATES } from '../templates/starter-templates';

/** The sample task of the template the project's config came from, for the import box. */
function exampleFor(project: Project | undefined): string {
  const t = TEMPLATES.find((x) => x.config === project?.label_config.trim());
  return JSON.stringify([t?.sample ?? { text: 'First task' }], null, 2);
}

/** The data manager of project `id` (or the label-stream call to action for annotators). */
export function ProjectDataPage({ id }: { id: number }) {
  const { can } = useSession();
  const { query } = useLocation();
  const [refresh, setRefresh] = useState(0);
  const [importing, setImporting] = useState(query.get('import') === '1');
  const project = useApi(`project-${id}`, () => api<Project>('GET', `/api/projects/${id}`));
  const mayBrowse = can('task.view_all') || project.data?.show_data_manager_to_annotators === true;
  // Who sees every task gets the table at once: its first page loads beside the project.
  const table = mayBrowse && !project.error && <TaskTable projectId={id} onImport={() => setImporting(true)} refreshKey={refresh} />;

  const p = project.data;
  const closeImport = () => {
    setImporting(false);
    if (query.get('import')) navigate(`/projects/${id}/data`, { replace: true });
  };

  return (
    <Shell crumbs={[{ label: 'Projects', to: '/projects' }, { label: p?.title ?? `Project ${id}` }]}>
      <ErrorAlert error={project.error} />
      {project.loading && !p && <Loading label="Loading project…" />}
      {p && (
        <>
          <div className="page-head" style={{ marginBottom: 0 }}>
            <div style={{ minWidth: 0 }}>
              <h1>{p.title || `Project #${p.id}`}</h1>
              {p.description && <p>{p.description}</p>}
            </div>
            <div className="row">
              {can('task.import') && (
                <button className="btn" onClick={() => setImporting(true)}>
                  Import
                </button>
              )}
              {can('annotation.create') && (
                <Link to={`/projects/${id}/label`} className="btn btn-primary">
                  Label all tasks
                </Link>
              )}
            </div>
          </div>
          <div className="project-head">
            <ProjectTabs project={p} current="data" />
          </div>
          <div className="card card-body" style={{ marginBottom: 20 }}>
            <Progress done={p.finished_task_number} total={p.task_number} label={`${p.finished_task_number} of ${p.task_number} tasks finished · ${p.total_annotations_number} annotations`} />
          </div>
        </>
      )}
      {p && !mayBrowse ? (
        <div className="card">
          <Empty icon="target" title="Start labeling">
            <p>This project hands you tasks one at a time in the label stream.</p>
            <Link to={`/projects/${id}/label`} className="btn btn-primary">
              Open the label stream
            </Link>
          </Empty>
        </div>
      ) : (
        // One place in the tree whether or not the project has arrived, so the table never remounts.
        <div hidden={!p}>{table}</div>
      )}
      {p && importing && can('task.import') && (
        <ImportDrawer
          projectId={id}
          example={exampleFor(p)}
          onClose={closeImport}
          onImported={() => {
            project.reload();
            setRefresh((n) => n + 1);
          }}
        />
      )}
    </Shell>
  );
}
