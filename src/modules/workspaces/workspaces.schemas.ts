/** Label Studio Enterprise's workspace shapes. Responses are serialised through these: nothing else leaks. */
import { Type } from '@sinclair/typebox';
import { Id, Ids } from '../../http/common-schemas.js';
import { invalid } from '../../http/errors.js';
import { UserResponse } from '../users/users.schemas.js';

export const WorkspaceResponse = Type.Object(
  {
    id: Type.Integer(),
    title: Type.String(),
    description: Type.String(),
    color: Type.String(),
    is_personal: Type.Boolean(),
    is_archived: Type.Boolean(),
    created_by: Type.Union([Type.Integer(), Type.Null()]),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { additionalProperties: false },
);

const fields = {
  title: Type.String({ minLength: 1, maxLength: 1000 }),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
  color: Type.Optional(Type.Union([Type.String({ maxLength: 16 }), Type.Null()])),
  is_archived: Type.Optional(Type.Boolean()),
  is_personal: Type.Optional(Type.Boolean()),
};
export const WorkspaceCreateBody = Type.Object(fields, { additionalProperties: false });
export const WorkspacePatchBody = Type.Object({ ...fields, title: Type.Optional(fields.title) }, { additionalProperties: false });

export const WorkspaceListQuery = Type.Object(
  { is_personal: Type.Optional(Type.Boolean()), ordering: Type.Optional(Type.String({ maxLength: 50 })) },
  { additionalProperties: false },
);

export const WorkspaceMember = Type.Object({ user: UserResponse, workspace: Type.Integer() }, { additionalProperties: false });
export const WorkspaceMemberCreated = Type.Object({ user: Type.Integer(), workspace: Type.Integer() }, { additionalProperties: false });
export const MemberAddBody = Type.Object({ user: Id(), workspace: Type.Optional(Type.Integer()) }, { additionalProperties: false });
/** Label Studio documents `{"user_id": 123}`; its SDK sends `{"user": 123}`: both are accepted. */
export const MemberRemoveBody = Type.Object({ user_id: Type.Optional(Id()), user: Type.Optional(Id()) }, { additionalProperties: false });

/** The user a removal body names, and the field it was named by (for errors). */
export function removedUserOf(body: { user_id?: number | undefined; user?: number | undefined }): { userId: number; field: string } {
  if (body.user_id !== undefined && body.user !== undefined && body.user_id !== body.user) throw invalid({ user_id: ['Give user_id or user, not two different users.'] });
  if (body.user_id !== undefined) return { userId: body.user_id, field: 'user_id' };
  if (body.user !== undefined) return { userId: body.user, field: 'user' };
  throw invalid({ user_id: ['This field is required.'] });
}

export const WorkspaceProjectsBody = Type.Object({ project: Type.Optional(Id()), projects: Type.Optional(Ids(1000)) }, { additionalProperties: false });
export const WorkspaceProjectsAdded = Type.Object({ workspace: Type.Integer(), projects: Type.Array(Type.Integer()) }, { additionalProperties: false });

export const ProjectMemberCreated = Type.Object({ user: Type.Integer(), project: Type.Integer() }, { additionalProperties: false });
export const ProjectMembersQuery = Type.Object({ user_ids: Type.Optional(Type.String({ maxLength: 10_000 })) }, { additionalProperties: false });
