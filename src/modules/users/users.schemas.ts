/** Label Studio's user shapes. Responses are serialised through these: nothing else leaks. */
import { Type } from '@sinclair/typebox';
import { ACTIVE_ROLES, GRANTS, isRole } from '../../authz/permissions.js';
import type { MembershipRow, UserRow } from '../../db/schema.js';

const Membership = Type.Object(
  { role: Type.String(), active: Type.Boolean(), organization_id: Type.Integer() },
  { additionalProperties: false },
);

export const UserResponse = Type.Object(
  {
    id: Type.Integer(),
    email: Type.String(),
    username: Type.String(),
    first_name: Type.String(),
    last_name: Type.String(),
    phone: Type.String(),
    avatar: Type.Union([Type.String(), Type.Null()]),
    initials: Type.String(),
    last_activity: Type.Union([Type.String(), Type.Null()]),
    date_joined: Type.String(),
    active_organization: Type.Union([Type.Integer(), Type.Null()]),
    allow_newsletters: Type.Union([Type.Boolean(), Type.Null()]),
    custom_hotkeys: Type.Null(),
    is_superuser: Type.Boolean(),
    organization_membership: Type.Union([Membership, Type.Null()]),
    org_membership: Type.Array(Membership),
  },
  { additionalProperties: false },
);

export const WhoAmIResponse = Type.Composite(
  [
    UserResponse,
    Type.Object({
      permissions: Type.Array(Type.String()),
      active_organization_meta: Type.Object({ title: Type.String(), email: Type.String() }, { additionalProperties: false }),
      pause: Type.Null(),
    }),
  ],
  { additionalProperties: false },
);

const Name = Type.String({ maxLength: 256 });
export const UserPatchBody = Type.Object(
  {
    // Accepted only to answer 405 as Label Studio does: an email never changes through the API.
    email: Type.Optional(Type.String({ maxLength: 254 })),
    first_name: Type.Optional(Name), last_name: Type.Optional(Name), username: Type.Optional(Type.String({ minLength: 1, maxLength: 150, pattern: '^[\\w.@+-]+$' })), phone: Type.Optional(Name) },
  { additionalProperties: false },
);

export const UserCreateBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 150, pattern: '^[\\w.@+-]+$' })),
    first_name: Type.Optional(Name),
    last_name: Type.Optional(Name),
    phone: Type.Optional(Name),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    /** Label Studio's clients send it; it must be the caller's own organization. */
    active_organization: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

function initialsOf(u: UserRow): string {
  const fromNames = `${u.first_name.trim()[0] ?? ''}${u.last_name.trim()[0] ?? ''}`;
  return (fromNames || u.email.slice(0, 2)).toUpperCase();
}

/** A user row (never sent as is) and their memberships → the response shape. */
export function toUserResponse(u: UserRow, memberships: MembershipRow[]) {
  const list = memberships.map((m) => ({ role: m.role, active: isRole(m.role) && ACTIVE_ROLES.includes(m.role), organization_id: m.organization_id }));
  return {
    id: u.id,
    email: u.email,
    username: u.username,
    first_name: u.first_name,
    last_name: u.last_name,
    phone: u.phone,
    avatar: null,
    initials: initialsOf(u),
    last_activity: u.last_activity,
    date_joined: u.date_joined,
    active_organization: u.active_organization_id,
    allow_newsletters: null,
    custom_hotkeys: null,
    is_superuser: u.is_superuser === 1,
    organization_membership: list.find((m) => m.organization_id === u.active_organization_id) ?? list[0] ?? null,
    org_membership: list,
  };
}

/** The permission names a role grants (for clients that show what the user may do). */
export const permissionsOf = (role: string): string[] => (isRole(role) ? [...GRANTS[role]] : []);
