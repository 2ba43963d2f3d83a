/** Every route of the server, by module. The route meta-test walks this list. */
import type { AnyRoute } from './http/route.js';
import { annotationsRoutes } from './modules/annotations/annotations.routes.js';
import { assignmentsRoutes } from './modules/assignments/assignments.routes.js';
import { activityRoutes } from './modules/activity/activity.routes.js';
import { bulkRoutes } from './modules/annotations/bulk.routes.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { setupPageRoutes } from './modules/auth/setup-page.routes.js';
import { dataManagerRoutes } from './modules/data-manager/data-manager.routes.js';
import { exportsRoutes } from './modules/exports/exports.routes.js';
import { importRoutes } from './modules/imports/import.routes.js';
import { permissionsRoutes } from './modules/permissions/permissions.routes.js';
import { organizationsRoutes } from './modules/organizations/organizations.routes.js';
import { projectsRoutes } from './modules/projects/projects.routes.js';
import { reviewsRoutes } from './modules/reviews/reviews.routes.js';
import { mediaRoutes } from './modules/storages/media.routes.js';
import { storagesRoutes } from './modules/storages/storages.routes.js';
import { systemRoutes } from './modules/system/system.routes.js';
import { tasksRoutes } from './modules/tasks/tasks.routes.js';
import { tokensRoutes } from './modules/tokens/tokens.routes.js';
import { usageRoutes } from './modules/usage/usage.routes.js';
import { usersRoutes } from './modules/users/users.routes.js';
import { projectMembersRoutes } from './modules/workspaces/project-members.routes.js';
import { workspacesRoutes } from './modules/workspaces/workspaces.routes.js';

export const allRoutes: readonly AnyRoute[] = [
  ...systemRoutes,
  ...authRoutes,
  ...setupPageRoutes,
  ...usersRoutes,
  ...tokensRoutes,
  ...organizationsRoutes,
  ...permissionsRoutes,
  ...activityRoutes,
  ...usageRoutes,
  ...projectsRoutes,
  ...workspacesRoutes,
  ...projectMembersRoutes,
  ...tasksRoutes,
  ...importRoutes,
  ...exportsRoutes,
  ...dataManagerRoutes,
  ...annotationsRoutes,
  ...bulkRoutes,
  ...assignmentsRoutes,
  ...reviewsRoutes,
  ...storagesRoutes,
  ...mediaRoutes,
];
