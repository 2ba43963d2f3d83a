/**
 * A project's direct members (Label Studio Enterprise's project members): people who work in one
 * project without belonging to its workspace. They see that project and nothing else of the
 * workspace (see `canSeeProject`).
 */
import type { AppDeps } from '../../app-deps.js';
import type { Actor } from '../../http/actor.js';
import { invalid } from '../../http/errors.js';
import type { AuditFn } from '../../http/route.js';
import { deleteProjectMember, insertProjectMember, projectMemberIds } from './workspaces.repository.js';
import { assertActiveMember, userResponses } from './workspaces.service.js';

/** The project's direct members, optionally only those among `user_ids` ("1,2,3"). */
export async function listProjectMembers(deps: AppDeps, projectId: number, userIds?: string) {
  let ids = await projectMemberIds(deps.db, projectId);
  if (userIds !== undefined && userIds.trim() !== '') {
    const wanted = userIds.split(',').map((s) => Number(s.trim()));
    if (wanted.some((n) => !Number.isSafeInteger(n) || n < 1)) throw invalid({ user_ids: ['A comma-separated list of user ids.'] });
    ids = ids.filter((id) => wanted.includes(id));
  }
  return userResponses(deps.db, ids);
}

/** Adds an active member of the project's organization to the project (idempotent). */
export async function addProjectMember(deps: AppDeps, actor: Actor, audit: AuditFn, opts: { projectId: number; userId: number }) {
  return deps.db.transaction().execute(async (trx) => {
    await assertActiveMember(trx, actor.organizationId, opts.userId, 'user');
    if (await insertProjectMember(trx, opts.projectId, opts.userId)) {
      await audit(trx, { action: 'project.member_add', objectType: 'project', objectId: opts.projectId, projectId: opts.projectId, changes: { user_id: opts.userId } });
    }
    return { user: opts.userId, project: opts.projectId };
  });
}

/** Removes a direct member; they keep the project only if its workspace still includes them. */
export async function removeProjectMember(deps: AppDeps, audit: AuditFn, opts: { projectId: number; userId: number; field: string }): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    if (!(await deleteProjectMember(trx, opts.projectId, opts.userId))) throw invalid({ [opts.field]: [`User ${opts.userId} is not a member of this project.`] });
    await audit(trx, { action: 'project.member_remove', objectType: 'project', objectId: opts.projectId, projectId: opts.projectId, changes: { user_id: opts.userId } });
  });
}
