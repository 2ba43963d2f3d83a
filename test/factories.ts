/** Factories: fresh organizations and members per test, so tests never depend on each other. */
import { randomBytes } from 'node:crypto';
import type { AppDeps } from '../src/app-deps.js';
import type { Role } from '../src/authz/permissions.js';
import { createOrganization } from '../src/modules/organizations/organizations.service.js';
import { issueApiToken } from '../src/modules/tokens/api-token.service.js';
import { insertUserWithMembership } from '../src/modules/users/users.repository.js';
import { hashPassword } from '../src/security/passwords.js';
import { call } from './harness.js';

export const PASSWORD = 'correct horse battery staple';

export interface Member {
  id: number;
  email: string;
  token: string;
  organizationId: number;
}

const hashes = new Map<string, Promise<string>>();
/**
 * The scrypt hash of a password, made once per cost and test file: one hash at the server's cost
 * takes tens of milliseconds, and members sharing a password may share its salted hash (login
 * still verifies it for real).
 */
function passwordHashOf(password: string, logN: number): Promise<string> {
  const key = `${logN}:${password}`;
  let hash = hashes.get(key);
  if (!hash) hashes.set(key, (hash = hashPassword(password, logN)));
  return hash;
}

/** A user with a role in an organization, a known password and an API token. */
export async function makeMember(deps: AppDeps, organizationId: number, role: Role, password = PASSWORD): Promise<Member> {
  const email = `u${randomBytes(5).toString('hex')}@example.test`;
  const user = await insertUserWithMembership(deps.db, {
    email,
    username: email.split('@')[0]!,
    passwordHash: await passwordHashOf(password, deps.config.passwords.scryptLogN),
    organizationId,
    role,
  });
  const token = await issueApiToken(deps.db, deps.secrets, user.id);
  return { id: user.id, email, token, organizationId };
}

/** A new organization with its Owner. */
export async function makeOrganization(deps: AppDeps): Promise<{ id: number; owner: Member }> {
  const org = await createOrganization(deps.db, deps.secrets, { title: `Org ${randomBytes(3).toString('hex')}` });
  const owner = await makeMember(deps, org.id, 'OW');
  return { id: org.id, owner };
}

/** A shared workspace of an organization with these members (projects created with `workspace: id` land in it). */
export async function makeWorkspace(deps: AppDeps, organizationId: number, members: Member[], title = 'Team'): Promise<number> {
  const now = new Date().toISOString();
  const ws = await deps.db
    .insertInto('workspaces')
    .values({ organization_id: organizationId, title, description: '', color: '#FFFFFF', is_personal: 0, is_archived: 0, created_by_id: members[0]?.id ?? null, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const m of members) await deps.db.insertInto('workspace_members').values({ workspace_id: ws.id, user_id: m.id, created_at: now }).execute();
  return ws.id;
}

/**
 * The usual cast of an API test: a Manager and an Annotator of one organization, both members of
 * its workspace `workspaceId` (create projects there for both to work in them), and a stranger organization.
 */
export async function makeTeam(deps: AppDeps): Promise<{ organizationId: number; workspaceId: number; manager: Member; annotator: Member; other: { id: number; owner: Member } }> {
  const org = await makeOrganization(deps);
  const [manager, annotator, other] = await Promise.all([makeMember(deps, org.id, 'MA'), makeMember(deps, org.id, 'AN'), makeOrganization(deps)]);
  const workspaceId = await makeWorkspace(deps, org.id, [manager, annotator]);
  return { organizationId: org.id, workspaceId, manager, annotator, other };
}

/** Adds members to a project directly (as POST /api/projects/:id/members would). */
export async function addToProject(deps: AppDeps, projectId: number, ...members: Member[]): Promise<void> {
  const now = new Date().toISOString();
  for (const m of members) await deps.db.insertInto('project_members').values({ project_id: projectId, user_id: m.id, created_at: now }).execute();
}

/**
 * Assigns a task to a user (or several) for annotation through the API (`POST /api/projects/:id/tasks/:task_pk/assignees`),
 * as someone holding `task.assign`: Annotators annotate only tasks they may open, so tests that
 * have one annotate a given task assign it first (or take it from the label stream).
 */
export async function assignTask(server: { url: string }, assignerToken: string, projectId: number, taskId: number, userId: number | number[]): Promise<void> {
  const users = Array.isArray(userId) ? userId : [userId];
  const r = await call(server, 'POST', `/api/projects/${projectId}/tasks/${taskId}/assignees`, { token: assignerToken, body: { type: 'AN', users } });
  if (r.status !== 200) throw new Error(`assigning task ${taskId} to users ${users.join(', ')} failed: ${r.status} ${JSON.stringify(r.body)}`);
}
