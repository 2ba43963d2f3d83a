/** Queries on users and their memberships. No rules here: services decide. */
import type { Transaction } from 'kysely';
import { ACTIVE_ROLES, isRole } from '../../authz/permissions.js';
import type { Db } from '../../db/database.js';
import type { Database, MembershipRow, UserRow } from '../../db/schema.js';

type Q = Db | Transaction<Database>;

/** A user by id. */
export const findUserById = (db: Q, id: number): Promise<UserRow | undefined> =>
  db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();

/** A user by email (compared lower-cased). */
export const findUserByEmail = (db: Q, email: string): Promise<UserRow | undefined> =>
  db.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst();

/** A user by username. */
export const findUserByUsername = (db: Q, username: string): Promise<UserRow | undefined> =>
  db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();

/** A user's memberships, by organization id. */
export const listMembershipsOfUser = (db: Q, userId: number): Promise<MembershipRow[]> =>
  db.selectFrom('memberships').selectAll().where('user_id', '=', userId).orderBy('organization_id').execute();

/** A user's membership in one organization. */
export const findMembership = (db: Q, organizationId: number, userId: number): Promise<MembershipRow | undefined> =>
  db.selectFrom('memberships').selectAll().where('organization_id', '=', organizationId).where('user_id', '=', userId).executeTakeFirst();

/**
 * The membership the user acts through: the active organization's while its role may sign in,
 * else the first one whose role may (a user deactivated in one organization still works in the
 * others). With none usable, the active organization's (or first) one, so callers can say why.
 */
export async function resolveActiveMembership(db: Q, user: Pick<UserRow, 'id' | 'active_organization_id'>): Promise<MembershipRow | undefined> {
  const all = await listMembershipsOfUser(db, user.id);
  const usable = all.filter((m) => isRole(m.role) && ACTIVE_ROLES.includes(m.role));
  const isActiveOrg = (m: MembershipRow) => m.organization_id === user.active_organization_id;
  return usable.find(isActiveOrg) ?? usable[0] ?? all.find(isActiveOrg) ?? all[0];
}

export interface NewUser {
  email: string;
  username: string;
  firstName?: string;
  lastName?: string;
  passwordHash: string | null;
  isSuperuser?: boolean;
  organizationId: number;
  role: string;
}

/** Inserts a user and their membership in one organization (which becomes the active one). */
export async function insertUserWithMembership(db: Q, u: NewUser): Promise<UserRow> {
  const now = new Date().toISOString();
  const user = await db
    .insertInto('users')
    .values({
      email: u.email.trim().toLowerCase(),
      username: u.username,
      first_name: u.firstName ?? '',
      last_name: u.lastName ?? '',
      phone: '',
      password_hash: u.passwordHash,
      is_superuser: u.isSuperuser ? 1 : 0,
      is_active: 1,
      active_organization_id: u.organizationId,
      token_hash: null,
      token_nonce: null,
      token_created_at: null,
      date_joined: now,
      last_activity: null,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await db.insertInto('memberships').values({ organization_id: u.organizationId, user_id: user.id, role: u.role, created_at: now, updated_at: now }).execute();
  return user;
}
