/** GET /api/permissions: the permission table, served from the code that enforces it. */
import { Type } from '@sinclair/typebox';
import { GRANTS, PERMISSION_DESCRIPTIONS, PERMISSIONS, ROLE_NAMES, ROLES, SUPERUSER_GRANTS } from '../../authz/permissions.js';
import { defineRoute } from '../../http/route.js';

const PermissionTable = Type.Object(
  {
    roles: Type.Array(Type.Object({ code: Type.String(), name: Type.String(), permissions: Type.Array(Type.String()) }, { additionalProperties: false })),
    permissions: Type.Array(Type.Object({ name: Type.String(), description: Type.String() }, { additionalProperties: false })),
    superuser: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

export const permissionsRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/permissions',
    summary: 'The permission table: what each role grants (Administrators and the Owner)',
    tags: ['Organizations'],
    access: 'members.change_role',
    scope: 'organization',
    schema: { response: { 200: PermissionTable } },
    audit: null,
    handler: async () => ({
      roles: ROLES.map((code) => ({ code, name: ROLE_NAMES[code], permissions: [...GRANTS[code]] })),
      permissions: PERMISSIONS.map((name) => ({ name, description: PERMISSION_DESCRIPTIONS[name] })),
      superuser: [...SUPERUSER_GRANTS],
    }),
  }),
];
