/** The API shapes the web app reads (Label Studio's field names). */

export interface CurrentUser {
  id: number;
  email: string;
  username: string;
  first_name: string;
  last_name: string;
  initials: string;
  active_organization: number | null;
  /** What the caller's role grants, from the server's one permission table. */
  permissions: string[];
  active_organization_meta: { title: string; email: string };
  phone?: string;
  org_membership?: { role: string; active: boolean; organization_id: number }[];
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface Project {
  id: number;
  title: string;
  description: string;
  label_config: string;
  expert_instruction: string;
  show_instruction: boolean;
  show_skip_button: boolean;
  show_data_manager_to_annotators: boolean;
  task_number: number;
  finished_task_number: number;
  total_annotations_number: number;
  skipped_annotations_number: number;
  created_at: string;
  created_by?: { email?: string; first_name?: string; last_name?: string } | null;
  color?: string;
  workspace?: number | null;
  assignment_settings?: { label_stream_task_distribution: 'auto_distribution' | 'assigned_only' };
  show_others_annotations_to_annotators?: boolean;
  /** Predictions pre-fill new annotations (Label Studio's "use predictions to prelabel"). */
  show_collab_predictions?: boolean;
  /** When set, only predictions of this model version are used. */
  model_version?: string;
}

export interface Annotation {
  id: number;
  result: unknown[];
  was_cancelled: boolean;
  completed_by: number | null;
  created_username: string;
  task?: number;
  created_at?: string;
  updated_at?: string;
  parent_prediction?: number | null;
}

export interface Prediction {
  id: number;
  result: unknown[];
  score: number | null;
  model_version: string;
  created_at?: string;
}

/** A user's unsaved work on a task (`annotation`: on that annotation of theirs, else a new one). */
export interface Draft {
  id: number;
  task: number;
  annotation: number | null;
  result: unknown[];
  lead_time: number | null;
  created_at: string;
  updated_at: string;
}

export interface Task {
  id: number;
  project: number;
  inner_id: number;
  data: Record<string, unknown>;
  is_labeled: boolean;
  total_annotations: number;
  cancelled_annotations: number;
  total_predictions: number;
  created_at: string;
  updated_at: string;
  annotations?: Annotation[];
  predictions?: Prediction[];
  /** The caller's own drafts of the task. */
  drafts?: Draft[];
  annotators?: number[];
  predictions_score?: number | null;
}

export interface TaskList {
  tasks: Task[];
  total: number;
  total_annotations: number;
  total_predictions: number;
}

export interface ImportSummary {
  task_count: number;
  annotation_count?: number;
  prediction_count?: number;
}

export interface Workspace {
  id: number;
  title: string;
  description?: string;
  color?: string;
  is_personal: boolean;
  is_archived: boolean;
  created_by?: number | null;
}

/** A user as the API returns one (members, workspace members, project members). */
export interface User {
  id: number;
  email: string;
  username: string;
  first_name: string;
  last_name: string;
  last_activity?: string | null;
}

/** A membership of the organization (GET /api/organizations/:id/memberships). */
export interface Membership {
  id: number;
  organization: number;
  role: Role;
  user: User;
}

export type Role = 'OW' | 'AD' | 'MA' | 'RE' | 'AN' | 'NO' | 'DI';

/** Role codes and their names, strongest first. */
export const ROLE_NAMES: Record<Role, string> = {
  OW: 'Owner',
  AD: 'Administrator',
  MA: 'Manager',
  RE: 'Reviewer',
  AN: 'Annotator',
  NO: 'Not activated',
  DI: 'Deactivated',
};

export interface Organization {
  id: number;
  title: string;
  created_at: string;
}

export interface Review {
  id: number;
  annotation: number;
  task: number;
  created_by: number | null;
  accepted: boolean;
  comment: string | null;
  created_at: string;
}

export interface DmView {
  id: number;
  project: number;
  order: number;
  ordering?: string[];
  data: { title?: string; filters?: Filters | null; ordering?: string[] } & Record<string, unknown>;
}

export interface FilterItem {
  filter: string;
  operator: string;
  type: string;
  value: unknown;
}

export interface Filters {
  conjunction: 'and' | 'or';
  items: FilterItem[];
}

export interface ExportFormat {
  name: string;
  title: string;
  description: string;
  disabled?: boolean;
}
