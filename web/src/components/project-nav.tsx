/** The tabs of a project's pages (data, review, export, settings): each shown only to roles that may use it. */
import type { Project } from '../api/types';
import { Link } from '../app/router';
import { useSession } from '../app/session';

export type ProjectTab = 'data' | 'review' | 'export' | 'settings';

/** The tab row under a project's title. */
export function ProjectTabs({ project, current }: { project: Pick<Project, 'id' | 'show_data_manager_to_annotators'>; current: ProjectTab }) {
  const { can } = useSession();
  const tabs: { key: ProjectTab; label: string; show: boolean }[] = [
    { key: 'data', label: can('task.view_all') || project.show_data_manager_to_annotators ? 'Data' : 'Overview', show: true },
    { key: 'review', label: 'Review', show: can('annotation.review') },
    { key: 'export', label: 'Export', show: can('project.export') },
    { key: 'settings', label: 'Settings', show: can('project.change') },
  ];
  return (
    <nav className="tabs" aria-label="Project">
      {tabs
        .filter((t) => t.show)
        .map((t) => (
          <Link key={t.key} to={`/projects/${project.id}/${t.key}`} className="tab" aria-current={current === t.key ? 'page' : undefined}>
            {t.label}
          </Link>
        ))}
    </nav>
  );
}
