/**
 * Label Studio Enterprise's task-assignment shapes (`/api/projects/{id}/tasks/assignees` and
 * `/api/projects/{id}/tasks/{task_pk}/assignees`), read from its published OpenAPI description.
 */
import { Type } from '@sinclair/typebox';
import { Id } from '../../http/common-schemas.js';
import { FiltersSchema, SelectedItemsSchema } from '../data-manager/data-manager.schemas.js';

/** Most users one request assigns (each is checked against the project). */
export const MAX_ASSIGNEES = 100;

/** `AN` to annotate, `RE` to review. */
export const AssignmentType = Type.Union([Type.Literal('AN'), Type.Literal('RE')], { description: 'AN: annotate, RE: review' });

const Users = Type.Array(Id(), { minItems: 1, maxItems: MAX_ASSIGNEES, description: 'Ids of the users to assign' });

/** Body of the bulk assignment: who, as what, and which tasks (a data-manager selection, narrowed by filters). */
export const BulkAssignBody = Type.Object(
  {
    type: AssignmentType,
    users: Users,
    selectedItems: SelectedItemsSchema,
    filters: Type.Optional(Type.Union([FiltersSchema, Type.Null()])),
  },
  { additionalProperties: false },
);

/** What the bulk assignment answers: the (task, user) pairs now assigned; it never runs in the background. */
export const BulkAssignResult = Type.Object({ assignments: Type.Integer(), async: Type.Boolean() }, { additionalProperties: false });

/** Body of the per-task POST (add assignees) and PATCH (make these the task's assignees of the type). */
export const TaskAssignBody = Type.Object({ type: AssignmentType, users: Users }, { additionalProperties: false });

/** Query of the per-task DELETE: without `type` both kinds go; without `users` every assignee of the kind goes. */
export const TaskUnassignQuery = Type.Object(
  {
    type: Type.Optional(AssignmentType),
    users: Type.Optional(Type.String({ maxLength: 2000, description: 'Comma-separated user ids' })),
  },
  { additionalProperties: false },
);

/** Path of the per-task endpoints: the project and one of its tasks. */
export const TaskAssigneesParams = Type.Object({ id: Id(), task_pk: Id() }, { additionalProperties: false });

/** One assignment (Label Studio's `TaskAssignment`). */
export const TaskAssignmentResponse = Type.Object(
  {
    id: Type.Integer(),
    assignee: Type.Integer(),
    task: Type.Integer(),
    type: AssignmentType,
    created_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
