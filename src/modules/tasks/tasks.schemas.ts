/** Label Studio's task, annotation, prediction and draft shapes. */
import { Id, Measure } from '../../http/common-schemas.js';
import { Type } from '@sinclair/typebox';

const Obj = Type.Record(Type.String(), Type.Unknown());
const Nullable = <T extends ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);
const Result = Type.Array(Type.Unknown(), { maxItems: 10_000 });

export const AnnotationResponse = Type.Object(
  {
    id: Type.Integer(),
    task: Type.Integer(),
    project: Type.Integer(),
    result: Result,
    completed_by: Nullable(Type.Integer()),
    created_username: Type.String(),
    created_ago: Type.String(),
    was_cancelled: Type.Boolean(),
    ground_truth: Type.Boolean(),
    lead_time: Type.Union([Measure(), Type.Null()]),
    result_count: Type.Integer(),
    unique_id: Type.String(),
    import_id: Nullable(Type.Integer()),
    last_action: Type.Union([Type.String(), Type.Null()]),
    parent_prediction: Nullable(Type.Integer()),
    parent_annotation: Nullable(Type.Integer()),
    draft_created_at: Type.Union([Type.String(), Type.Null()]),
    updated_by: Nullable(Type.Integer()),
    last_created_by: Nullable(Type.Integer()),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { additionalProperties: false },
);

export const PredictionResponse = Type.Object(
  {
    id: Type.Integer(),
    task: Type.Integer(),
    project: Type.Integer(),
    result: Result,
    score: Type.Union([Measure(), Type.Null()]),
    model_version: Type.String(),
    created_ago: Type.String(),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { additionalProperties: false },
);

export const DraftResponse = Type.Object(
  {
    id: Type.Integer(),
    task: Type.Integer(),
    annotation: Nullable(Type.Integer()),
    user: Type.Integer(),
    result: Result,
    lead_time: Type.Union([Measure(), Type.Null()]),
    was_postponed: Type.Boolean(),
    created_ago: Type.String(),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { additionalProperties: false },
);

export const TaskResponse = Type.Object(
  {
    id: Type.Integer(),
    project: Type.Integer(),
    inner_id: Type.Integer(),
    data: Obj,
    meta: Obj,
    is_labeled: Type.Boolean(),
    overlap: Type.Integer(),
    total_annotations: Type.Integer(),
    cancelled_annotations: Type.Integer(),
    total_predictions: Type.Integer(),
    file_upload: Nullable(Type.Integer()),
    updated_by: Nullable(Type.Integer()),
    created_at: Type.String(),
    updated_at: Type.String(),
    comment_count: Type.Integer(),
    unresolved_comment_count: Type.Integer(),
    last_comment_updated_at: Type.Null(),
    annotations: Type.Optional(Type.Array(AnnotationResponse)),
    predictions: Type.Optional(Type.Array(PredictionResponse)),
    drafts: Type.Optional(Type.Array(DraftResponse)),
    annotators: Type.Optional(Type.Array(Type.Integer())),
    annotations_results: Type.Optional(Type.String()),
    predictions_results: Type.Optional(Type.String()),
    predictions_score: Type.Optional(Type.Union([Measure(), Type.Null()])),
    avg_lead_time: Type.Optional(Type.Union([Measure(), Type.Null()])),
  },
  { additionalProperties: false },
);

export const TaskPatchBody = Type.Object({ data: Type.Optional(Obj), meta: Type.Optional(Obj) }, { additionalProperties: false });

export const AnnotationBody = Type.Object(
  {
    result: Type.Optional(Result),
    lead_time: Type.Optional(Type.Union([Measure({ minimum: 0 }), Type.Null()])),
    was_cancelled: Type.Optional(Type.Boolean()),
    ground_truth: Type.Optional(Type.Boolean()),
    draft_id: Type.Optional(Type.Union([Id(), Type.Null()])),
    parent_prediction: Type.Optional(Type.Union([Id(), Type.Null()])),
    parent_annotation: Type.Optional(Type.Union([Id(), Type.Null()])),
    last_action: Type.Optional(Type.Union([Type.String({ maxLength: 50 }), Type.Null()])),
    // Label Studio's clients may repeat where the annotation belongs; it must match the URL.
    task: Type.Optional(Type.Integer()),
    project: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

export const PredictionBody = Type.Object(
  {
    task: Id(),
    result: Result,
    score: Type.Optional(Type.Union([Measure(), Type.Null()])),
    model_version: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);

export const PredictionPatchBody = Type.Partial(Type.Omit(PredictionBody, ['task']), { additionalProperties: false });

export const DraftBody = Type.Object(
  {
    result: Type.Optional(Result),
    lead_time: Type.Optional(Type.Union([Measure({ minimum: 0 }), Type.Null()])),
    was_postponed: Type.Optional(Type.Boolean()),
    task: Type.Optional(Type.Integer()),
    annotation: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  },
  { additionalProperties: false },
);
