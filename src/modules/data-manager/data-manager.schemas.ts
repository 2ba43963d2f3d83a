/**
 * Label Studio's data-manager shapes (`/api/dm/views`, `/api/dm/actions`, `/api/dm/project`,
 * `/api/projects/{id}/summary`), read from its published OpenAPI description. The schemas check
 * shapes; filters.ts checks meaning (known columns and operators) and names the faulty item.
 */
import { Id } from '../../http/common-schemas.js';
import { Type } from '@sinclair/typebox';
import { ProjectResponse } from '../projects/projects.schemas.js';
import { MAX_FILTER_ITEMS, MAX_ORDERING } from './filters.js';
import { MAX_SELECTED_IDS } from './task-query.js';

const TaskId = Id();

/** One filter item; `child_filters` is echoed empty and accepted only empty. */
export const FilterItemSchema = Type.Object(
  {
    filter: Type.String({ maxLength: 300, description: '"filter:tasks:<column>", e.g. "filter:tasks:total_annotations" or "filter:tasks:data.text"' }),
    operator: Type.String({ maxLength: 50 }),
    type: Type.Optional(Type.String({ maxLength: 50, description: 'Number, String, Boolean, Datetime, List, …' })),
    value: Type.Optional(Type.Unknown()),
    child_filters: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 0, description: 'Always empty: one level of filters' })),
  },
  { additionalProperties: false },
);

/** A filter group: one conjunction over a flat list. */
export const FiltersSchema = Type.Object(
  {
    conjunction: Type.Union([Type.Literal('and'), Type.Literal('or')]),
    items: Type.Array(FilterItemSchema, { maxItems: MAX_FILTER_ITEMS }),
  },
  { additionalProperties: false },
);

/** Ordering terms. */
export const OrderingSchema = Type.Array(Type.String({ maxLength: 300 }), { maxItems: MAX_ORDERING, description: '"tasks:<column>" or "-tasks:<column>"' });

/** `{all: false, included}` or `{all: true, excluded}`. */
export const SelectedItemsSchema = Type.Object(
  {
    all: Type.Boolean(),
    included: Type.Optional(Type.Array(TaskId, { maxItems: MAX_SELECTED_IDS })),
    excluded: Type.Optional(Type.Array(TaskId, { maxItems: MAX_SELECTED_IDS })),
  },
  { additionalProperties: false },
);

/** A view's `data`: the known keys are checked; other UI settings (column widths, …) are kept as sent. */
export const ViewDataSchema = Type.Object(
  {
    title: Type.Optional(Type.String({ maxLength: 255 })),
    filters: Type.Optional(Type.Union([FiltersSchema, Type.Null()])),
    ordering: Type.Optional(OrderingSchema),
    hiddenColumns: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String({ maxLength: 300 }), { maxItems: 1000 }))),
  },
  { additionalProperties: true },
);

/** Body of view create / PATCH / PUT. */
export const ViewBody = Type.Object(
  {
    project: Type.Optional(Id()),
    data: Type.Optional(ViewDataSchema),
    order: Type.Optional(Type.Integer({ minimum: -2_147_483_648, maximum: 2_147_483_647 })),
    selected_items: Type.Optional(Type.Union([SelectedItemsSchema, Type.Null()])),
  },
  { additionalProperties: false },
);

/** A view as Label Studio returns it. */
export const ViewResponse = Type.Object(
  {
    id: Type.Integer(),
    project: Type.Integer(),
    user: Type.Union([Type.Integer(), Type.Null()]),
    order: Type.Integer(),
    data: Type.Record(Type.String(), Type.Unknown()),
    ordering: Type.Array(Type.String()),
    selected_items: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  },
  { additionalProperties: false },
);

/** `?project=<id>`. */
export const ProjectQuery = Type.Object({ project: Id() }, { additionalProperties: false });

/** The confirmation an action asks for in the UI. */
export const ActionDialog = Type.Object(
  {
    title: Type.Union([Type.String(), Type.Null()]),
    text: Type.Union([Type.String(), Type.Null()]),
    type: Type.Union([Type.String(), Type.Null()]),
    form: Type.Union([Type.Array(Type.Record(Type.String(), Type.Unknown())), Type.Null()]),
  },
  { additionalProperties: false },
);

/** One entry of GET /api/dm/actions. */
export const ActionListItem = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    order: Type.Integer(),
    permission: Type.String(),
    experimental: Type.Boolean(),
    dialog: Type.Union([ActionDialog, Type.Null()]),
  },
  { additionalProperties: false },
);

/** `?id=<action>&project=<id>[&view=<id>]`; a view's filters and ordering win over the body's. */
export const ActionQuery = Type.Object(
  {
    id: Type.String({ maxLength: 100 }),
    project: Id(),
    view: Type.Optional(Id()),
  },
  { additionalProperties: false },
);

/** Body of POST /api/dm/actions. */
export const ActionBody = Type.Object(
  {
    selectedItems: Type.Optional(SelectedItemsSchema),
    filters: Type.Optional(Type.Union([FiltersSchema, Type.Null()])),
    ordering: Type.Optional(OrderingSchema),
    project: Type.Optional(Id()),
    /** delete_tasks_annotations: only this annotator's annotations and drafts. */
    annotator: Type.Optional(Type.Union([Id(), Type.Null()])),
    /** predictions_to_annotations: only predictions of this model version (or these). */
    model_version: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Array(Type.String({ maxLength: 255 }), { maxItems: 100 }), Type.Null()])),
  },
  { additionalProperties: false },
);

/** What a bulk action answers (Label Studio: `{processed_items, detail}`; delete_tasks adds `reload`). */
export const ActionResult = Type.Object(
  {
    processed_items: Type.Integer(),
    detail: Type.String(),
    reload: Type.Optional(Type.Boolean()),
    response_code: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

/** GET /api/dm/project: the project, its counts and the caller's abilities. */
export const DmProjectResponse = Type.Object(
  {
    ...ProjectResponse.properties,
    task_count: Type.Integer(),
    annotation_count: Type.Integer(),
    can_delete_tasks: Type.Boolean(),
    can_manage_annotations: Type.Boolean(),
    can_manage_tasks: Type.Boolean(),
  },
  { additionalProperties: false },
);

/** GET /api/projects/{id}/summary. */
export const SummaryResponse = Type.Object(
  {
    project: Type.Integer(),
    created_at: Type.String(),
    all_data_columns: Type.Record(Type.String(), Type.Integer()),
    common_data_columns: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
