/** Label Studio's project shapes: what a project accepts and what it returns. */
import { Type, type Static } from '@sinclair/typebox';

export const SAMPLING = ['Sequential sampling', 'Uniform sampling', 'Uncertainty sampling'] as const;
export const DISTRIBUTIONS = ['auto_distribution', 'assigned_only'] as const;
export const SKIP_QUEUE = ['REQUEUE_FOR_ME', 'REQUEUE_FOR_OTHERS', 'IGNORE_SKIPPED'] as const;

/** Settings kept in the project's `settings` column, with Label Studio's defaults. */
export const PROJECT_SETTING_DEFAULTS = {
  show_instruction: false,
  show_skip_button: true,
  enable_empty_annotation: true,
  show_annotation_history: false,
  maximum_annotations: 1,
  overlap_cohort_percentage: 100,
  sampling: 'Sequential sampling' as (typeof SAMPLING)[number],
  color: '#FFFFFF',
  is_published: false,
  is_draft: false,
  show_collab_predictions: true,
  evaluate_predictions_automatically: false,
  min_annotations_to_start_training: 0,
  skip_queue: 'REQUEUE_FOR_OTHERS' as (typeof SKIP_QUEUE)[number],
  reveal_preannotations_interactively: false,
  show_ground_truth_first: false,
  show_overlap_first: false,
  control_weights: {} as Record<string, unknown>,
  /** Label Studio Enterprise: `auto_distribution` (the label stream) or `assigned_only` (only assigned tasks). */
  assignment_settings: { label_stream_task_distribution: 'auto_distribution' as (typeof DISTRIBUTIONS)[number] },
  /** Off: annotators only enter the label stream. On: they see the tasks they completed, drafted or were assigned. */
  show_data_manager_to_annotators: false,
  /** Annotators see other annotators' annotations (off: only their own). */
  show_others_annotations_to_annotators: false,
};
export type ProjectSettings = typeof PROJECT_SETTING_DEFAULTS;

const settingSchemas = {
  show_instruction: Type.Boolean(),
  show_skip_button: Type.Boolean(),
  enable_empty_annotation: Type.Boolean(),
  show_annotation_history: Type.Boolean(),
  maximum_annotations: Type.Integer({ minimum: 1, maximum: 10_000 }),
  overlap_cohort_percentage: Type.Integer({ minimum: 0, maximum: 100 }),
  sampling: Type.Union(SAMPLING.map((s) => Type.Literal(s))),
  color: Type.String({ maxLength: 16, pattern: '^#[0-9A-Fa-f]{3,8}$' }),
  is_published: Type.Boolean(),
  is_draft: Type.Boolean(),
  show_collab_predictions: Type.Boolean(),
  evaluate_predictions_automatically: Type.Boolean(),
  min_annotations_to_start_training: Type.Integer({ minimum: 0 }),
  skip_queue: Type.Union(SKIP_QUEUE.map((s) => Type.Literal(s))),
  reveal_preannotations_interactively: Type.Boolean(),
  show_ground_truth_first: Type.Boolean(),
  show_overlap_first: Type.Boolean(),
  control_weights: Type.Record(Type.String(), Type.Unknown()),
  assignment_settings: Type.Object({ label_stream_task_distribution: Type.Union(DISTRIBUTIONS.map((s) => Type.Literal(s))) }, { additionalProperties: false }),
  show_data_manager_to_annotators: Type.Boolean(),
  show_others_annotations_to_annotators: Type.Boolean(),
};

const editable = {
  title: Type.String({ maxLength: 50 }),
  description: Type.String({ maxLength: 100_000 }),
  label_config: Type.String({ maxLength: 10 * 1024 * 1024 }),
  expert_instruction: Type.String({ maxLength: 1_000_000 }),
  model_version: Type.String({ maxLength: 255 }),
  pinned_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  /** The workspace the project lives in (Label Studio Enterprise); omitted at creation: the caller's sandbox. */
  workspace: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  ...settingSchemas,
};

/** Body of create and update: every editable field optional, nothing else accepted. */
export const ProjectBody = Type.Partial(Type.Object(editable, { additionalProperties: false }), { additionalProperties: false });
export type ProjectInput = Static<typeof ProjectBody>;
export const SETTING_KEYS = Object.keys(settingSchemas) as (keyof ProjectSettings)[];

const CreatedBy = Type.Union([
  Type.Object({ id: Type.Integer(), first_name: Type.String(), last_name: Type.String(), email: Type.String(), avatar: Type.Null() }, { additionalProperties: false }),
  Type.Null(),
]);

export const ProjectResponse = Type.Object(
  {
    id: Type.Integer(),
    organization: Type.Integer(),
    workspace: Type.Union([Type.Integer(), Type.Null()]),
    title: Type.String(),
    description: Type.String(),
    label_config: Type.String(),
    expert_instruction: Type.String(),
    model_version: Type.String(),
    pinned_at: Type.Union([Type.String(), Type.Null()]),
    ...settingSchemas,
    created_by: CreatedBy,
    created_at: Type.String(),
    updated_at: Type.String(),
    start_training_on_annotation_update: Type.Boolean(),
    task_data_login: Type.Null(),
    task_data_password: Type.Null(),
    parsed_label_config: Type.Record(Type.String(), Type.Unknown()),
    config_has_control_tags: Type.Boolean(),
    config_suitable_for_bulk_annotation: Type.Boolean(),
    task_number: Type.Integer(),
    num_tasks_with_annotations: Type.Integer(),
    finished_task_number: Type.Integer(),
    total_annotations_number: Type.Integer(),
    useful_annotation_number: Type.Integer(),
    skipped_annotations_number: Type.Integer(),
    ground_truth_number: Type.Integer(),
    total_predictions_number: Type.Integer(),
    queue_total: Type.Integer(),
    queue_done: Type.Integer(),
  },
  { additionalProperties: false },
);
export type ProjectOut = Static<typeof ProjectResponse>;
