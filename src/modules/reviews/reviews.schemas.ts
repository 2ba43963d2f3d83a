/**
 * Label Studio Enterprise's annotation-review shapes (`/api/annotation-reviews/`), read from its
 * published OpenAPI description (`AnnotationReview`, `AnnotationReviewRequest`).
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { Id } from '../../http/common-schemas.js';

/** Longest review comment kept. */
export const MAX_COMMENT = 10_000;

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/**
 * Fields Label Studio's editor sends that Labelvault accepts and does not keep (it has no
 * annotation history or review queue to point at); they are answered as null.
 */
const IgnoredFields = {
  last_annotation_history: Type.Optional(Nullable(Type.Integer())),
  remove_from_queue: Type.Optional(Nullable(Type.Boolean())),
  started_at: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
};

const ReviewFields = {
  accepted: Type.Boolean({ description: 'true: accepted; false: rejected' }),
  comment: Type.Optional(Nullable(Type.String({ maxLength: MAX_COMMENT, description: 'Why (for the annotator); optional, as in Label Studio by default' }))),
  result: Type.Optional(Type.Unknown({ description: 'Only null: fixing the annotation while reviewing is not supported (PATCH the annotation)' })),
  ...IgnoredFields,
};

/** POST (and PUT) body: the annotation and the verdict. `accepted` is required here (Label Studio defaults it to a rejection). */
export const ReviewCreateBody = Type.Object({ annotation: Id(), ...ReviewFields }, { additionalProperties: false });

/** PATCH body: any of the verdict fields; `annotation`, when given, must be the review's own. */
export const ReviewPatchBody = Type.Object(
  { annotation: Type.Optional(Id()), ...ReviewFields, accepted: Type.Optional(ReviewFields.accepted) },
  { additionalProperties: false },
);

/** The list's filters (`annotation__task__project`: Label Studio's name for the project). */
export const ReviewListQuery = Type.Object(
  {
    annotation: Type.Optional(Id()),
    annotation__task__project: Type.Optional(Id()),
    ordering: Type.Optional(Type.String({ maxLength: 50, description: 'id, created_at or updated_at, "-" for descending' })),
  },
  { additionalProperties: false },
);

/** One review (Label Studio's `AnnotationReview`, plus `comment`, `task` and `updated_at`). */
export const ReviewResponse = Type.Object(
  {
    id: Type.Integer(),
    annotation: Type.Integer(),
    task: Type.Integer(),
    created_by: Type.Union([Type.Integer(), Type.Null()]),
    accepted: Type.Boolean(),
    comment: Type.Union([Type.String(), Type.Null()]),
    result: Type.Null(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    fixed_annotation_history: Type.Null(),
    previous_annotation_history: Type.Null(),
    last_annotation_history: Type.Null(),
    remove_from_queue: Type.Null(),
    started_at: Type.Null(),
  },
  { additionalProperties: false },
);
