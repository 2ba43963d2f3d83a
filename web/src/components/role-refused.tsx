/** The page shown instead of a project page the role may not use: a lock, why, and the way back. */
import { Link } from '../app/router';
import { Shell, type Crumb } from './shell';
import { Empty } from './ui';

/** A project page refused to the caller's role (the server refuses the calls too; this only explains). */
export function RoleRefused({ crumbs, title, projectId }: { crumbs: Crumb[]; title: string; projectId: number | string }) {
  return (
    <Shell crumbs={crumbs}>
      <div className="card">
        <Empty icon="lock" title={title}>
          <Link to={`/projects/${projectId}/data`} className="btn">
            Back to the project
          </Link>
        </Empty>
      </div>
    </Shell>
  );
}
