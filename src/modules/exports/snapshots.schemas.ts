/**
 * Export snapshots in Label Studio's shapes (its OpenAPI `LseExportCreateRequest`, `Export`,
 * `LseExportCreate`, `ConvertedFormat` and `ExportConvertRequest` schemas). Request options
 * Labelvault cannot honour are accepted by shape and refused by the service with a 400 naming
 * them; unknown fields are refused here.
 */
import { Type, type Static } from '@sinclair/typebox';

const NullableBoolean = Type.Union([Type.Boolean(), Type.Null()]);
const FilterMode = Type.Union([Type.Literal('only'), Type.Literal('exclude'), Type.Null()]);

/** `task_filter_options`: which tasks the snapshot holds. */
export const TaskFilterOptions = Type.Object(
  {
    only_with_annotations: Type.Optional(Type.Boolean({ description: 'Only tasks with at least one annotation (default false: every task).' })),
    annotated: Type.Optional(FilterMode),
    finished: Type.Optional(FilterMode),
    skipped: Type.Optional(FilterMode),
    reviewed: Type.Optional(FilterMode),
    view: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  },
  { additionalProperties: false },
);

/** `annotation_filter_options`: which annotations the snapshot writes. */
export const AnnotationFilterOptions = Type.Object(
  {
    usual: Type.Optional(NullableBoolean),
    ground_truth: Type.Optional(NullableBoolean),
    skipped: Type.Optional(NullableBoolean),
    reviewed: Type.Optional(FilterMode),
  },
  { additionalProperties: false },
);

const OnlyId = Type.Object({ only_id: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

/** `serialization_options`: how tasks are written. */
export const SerializationOptions = Type.Object(
  {
    drafts: Type.Optional(OnlyId),
    predictions: Type.Optional(OnlyId),
    annotations__completed_by: Type.Optional(OnlyId),
    include_annotation_history: Type.Optional(Type.Boolean()),
    interpolate_key_frames: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** POST /api/projects/{id}/exports body. */
export const CreateSnapshotBody = Type.Object(
  {
    title: Type.Optional(Type.String({ maxLength: 2048 })),
    task_filter_options: Type.Optional(TaskFilterOptions),
    annotation_filter_options: Type.Optional(AnnotationFilterOptions),
    serialization_options: Type.Optional(SerializationOptions),
  },
  { additionalProperties: false },
);
/** A validated create body. */
export type CreateSnapshotInput = Static<typeof CreateSnapshotBody>;

/** The options a snapshot was made with, as stored in its row (plus what conversions need later). */
export interface SnapshotOptions {
  task_filter_options: Static<typeof TaskFilterOptions>;
  annotation_filter_options: Static<typeof AnnotationFilterOptions>;
  serialization_options: Static<typeof SerializationOptions>;
  converted_formats: ConvertedFormat[];
  /** The data keys of the snapshot's tasks (CSV/TSV columns), recorded when it completes. */
  data_keys?: string[];
}

/** Python's SDK sends `?interpolate_key_frames=False` on create; accepted, and only false is honoured. */
export const CreateSnapshotQuery = Type.Object(
  { interpolate_key_frames: Type.Optional(Type.Union(['true', 'false', 'True', 'False', '1', '0'].map((v) => Type.Literal(v)))) },
  { additionalProperties: false },
);

/** Label Studio's snapshot statuses, in lifecycle order (failed or completed ends it). */
export const SNAPSHOT_STATUSES = ['created', 'in_progress', 'failed', 'completed'] as const;
/** A snapshot's status, Label Studio's `Status7bfEnum`. */
export type SnapshotStatus = (typeof SNAPSHOT_STATUSES)[number];
const Status = Type.Union(SNAPSHOT_STATUSES.map((s) => Type.Literal(s)));

/** Label Studio's `ConvertedFormat`: a format made available for download. */
export const ConvertedFormatSchema = Type.Object(
  { id: Type.Integer(), export_type: Type.String(), status: Status, traceback: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
);
/** One `converted_formats` entry. */
export type ConvertedFormat = Static<typeof ConvertedFormatSchema>;

const UserSimple = Type.Object(
  { id: Type.Integer(), first_name: Type.String(), last_name: Type.String(), email: Type.String(), avatar: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
);

/** `counters`: Label Studio writes `task_number`; the annotation and prediction counts are ours. */
const Counters = Type.Object(
  { task_number: Type.Integer(), annotation_number: Type.Optional(Type.Integer()), prediction_number: Type.Optional(Type.Integer()) },
  { additionalProperties: false },
);
/** A snapshot's counters. */
export type SnapshotCounters = Static<typeof Counters>;

const exportFields = {
  id: Type.Integer(),
  title: Type.String(),
  created_by: Type.Union([UserSimple, Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  status: Status,
  md5: Type.String({ description: 'MD5 of the JSON file; empty until the snapshot is completed.' }),
  counters: Counters,
  converted_formats: Type.Array(ConvertedFormatSchema),
};

/** Label Studio's `Export`: one snapshot in lists and on retrieve. */
export const SnapshotResponse = Type.Object(exportFields, { additionalProperties: false });
/** One snapshot as the API returns it. */
export type SnapshotOut = Static<typeof SnapshotResponse>;

/** Label Studio's `LseExportCreate`: the snapshot with the options it was made with. */
export const SnapshotCreatedResponse = Type.Object(
  { ...exportFields, task_filter_options: TaskFilterOptions, annotation_filter_options: AnnotationFilterOptions, serialization_options: SerializationOptions },
  { additionalProperties: false },
);
/** A new snapshot as the create answer returns it. */
export type SnapshotCreatedOut = Static<typeof SnapshotCreatedResponse>;

/** `/api/projects/:id/exports/:export_pk` path parameters. */
export const SnapshotParams = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), export_pk: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) },
  { additionalProperties: false },
);

/** List query: Label Studio's `ordering`. */
export const SnapshotListQuery = Type.Object(
  { ordering: Type.Optional(Type.Union([Type.Literal('id'), Type.Literal('-id'), Type.Literal('created_at'), Type.Literal('-created_at')])) },
  { additionalProperties: false },
);

/** Download query: `exportType` (Label Studio's name) or `export_type`; JSON when absent. */
export const DownloadQuery = Type.Object(
  { exportType: Type.Optional(Type.String({ maxLength: 20 })), export_type: Type.Optional(Type.String({ maxLength: 20 })) },
  { additionalProperties: false },
);

/** Label Studio's `ExportConvertRequest`. */
export const ConvertBody = Type.Object(
  { export_type: Type.String({ minLength: 1, maxLength: 64 }), download_resources: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

/** The convert answer: the format and its `converted_formats` id. */
export const ConvertResponse = Type.Object({ export_type: Type.String(), converted_format: Type.Integer() }, { additionalProperties: false });
