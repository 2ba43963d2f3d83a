/**
 * The shapes a parsed labeling config takes. `parsed` mirrors Label Studio's
 * `parsed_label_config` so API clients written for Label Studio can read it unchanged.
 */

/** A tag that shows task data (Image, Text, Audio, …). */
export interface ObjectTag {
  name: string;
  /** The tag name as written, e.g. `Image`. */
  type: string;
  /** The `value` attribute as written, e.g. `$image`. */
  value: string;
  /** The task data key the tag reads (`image` for `$image`); null for a literal value. */
  dataKey: string | null;
}

/** A tag that produces results (Choices, RectangleLabels, TextArea, …). */
export interface ControlTag {
  name: string;
  /** The tag name as written, e.g. `RectangleLabels`; results carry it lower-cased. */
  type: string;
  /** The object tags it labels, from the comma-separated `toName`. */
  toName: string[];
  /** Values of its Label/Choice children, in order, nested Taxonomy choices flattened. */
  labels: string[];
  /** Whether one or several labels may be picked (`single-radio` counts as single). */
  choice: 'single' | 'multiple';
  perRegion: boolean;
  required: boolean;
  /** The task data key its labels are loaded from (`value="$options"`), or null. */
  dynamicLabels: string | null;
  /** Every attribute as written. */
  attributes: Record<string, string>;
}

/** One label's attributes, keyed by label value in `labels_attrs`. */
export type LabelAttrs = Record<string, string> & { value: string };

/** One control in Label Studio's `parsed_label_config` shape. */
export interface ParsedControl {
  type: string;
  to_name: string[];
  inputs: { type: string; value: string }[];
  labels: string[];
  labels_attrs: Record<string, LabelAttrs>;
}

/** A validated labeling config. */
export interface LabelConfig {
  objects: ObjectTag[];
  controls: ControlTag[];
  /** Values of the `<Relation>` children of `<Relations>` (empty when there are none). */
  relationLabels: string[];
  /** Sorted, unique task data keys the config reads. */
  dataKeys: string[];
  parsed: Record<string, ParsedControl>;
}
