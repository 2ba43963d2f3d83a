/**
 * Checks an annotation's or prediction's `result` array against a labeling config: every item
 * names a control and one of its objects, carries that control's result type, and uses only
 * labels the control offers. Geometry and free-text values are not judged here.
 */
import type { ControlTag, LabelConfig } from './label-config.types.js';

/** The most items one result array may hold. */
export const RESULT_MAX_ITEMS = 10_000;

const RELATION_DIRECTIONS = new Set(['left', 'right', 'bi']);

type Item = Record<string, unknown>;

const isObject = (value: unknown): value is Item => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((entry) => typeof entry === 'string');

/** The values a control's results may carry: each label's value and, when set, its alias. */
function acceptedLabels(config: LabelConfig, control: ControlTag): Set<string> {
  const attrs = config.parsed[control.name]?.labels_attrs ?? {};
  const accepted = new Set(control.labels);
  for (const label of Object.values(attrs)) if (label.alias) accepted.add(label.alias);
  return accepted;
}

/** Controls with their own labels: their labels sit in `value[<type>]`, e.g. `value.choices`. */
const hasOwnLabels = (control: ControlTag) => control.labels.length > 0 || control.dynamicLabels !== null;

/** The label values in a result, flattening Taxonomy (and nested Choices) paths. */
function labelValues(control: ControlTag, raw: unknown): string[] | string {
  const key = control.type.toLowerCase();
  const paths = control.type === 'Taxonomy' || control.attributes.allowNested === 'true';
  if (!Array.isArray(raw)) return `value.${key} must be an array`;
  const flat: string[] = [];
  for (const entry of raw) {
    if (typeof entry === 'string' && control.type !== 'Taxonomy') flat.push(entry);
    else if (paths && isStringArray(entry)) flat.push(...entry);
    else return `value.${key} must be an array of ${control.type === 'Taxonomy' ? 'paths (arrays of strings)' : 'strings'}`;
  }
  return flat;
}

function ownLabelsProblem(config: LabelConfig, control: ControlTag, value: Item): string | null {
  const values = labelValues(control, value[control.type.toLowerCase()]);
  if (typeof values === 'string') return values;
  if (control.dynamicLabels !== null) return null;
  const accepted = acceptedLabels(config, control);
  const word = control.type === 'Choices' || control.type === 'Taxonomy' ? 'choice' : 'label';
  const unknown = values.find((label) => !accepted.has(label));
  return unknown === undefined ? null : `${word} "${unknown}" is not in control "${control.name}"`;
}

/**
 * Tools without labels (VideoRectangle, Rectangle, …) may carry `value.labels` chosen from a
 * labels control on the same object; those must exist in one of them.
 */
function toolLabelsProblem(config: LabelConfig, toName: string, value: Item): string | null {
  if (value.labels === undefined) return null;
  if (!isStringArray(value.labels)) return 'value.labels must be an array of strings';
  const sources = config.controls.filter((c) => c.toName.includes(toName) && hasOwnLabels(c));
  if (sources.some((c) => c.dynamicLabels !== null)) return null;
  const accepted = new Set(sources.flatMap((c) => [...acceptedLabels(config, c)]));
  const unknown = value.labels.find((label) => !accepted.has(label));
  return unknown === undefined ? null : `label "${unknown}" is not in any labels control for "${toName}"`;
}

/** Light shape checks for the input controls whose values are not labels. */
function inputProblem(control: ControlTag, value: Item): string | null {
  switch (control.type) {
    case 'TextArea':
      return isStringArray(value.text) ? null : 'value.text must be an array of strings';
    case 'Rating':
      return typeof value.rating === 'number' ? null : 'value.rating must be a number';
    case 'Number':
      return typeof value.number === 'number' ? null : 'value.number must be a number';
    case 'DateTime':
      return typeof value.datetime === 'string' ? null : 'value.datetime must be a string';
    default:
      return null;
  }
}

function relationProblem(config: LabelConfig, item: Item): string | null {
  if (typeof item.from_id !== 'string' || typeof item.to_id !== 'string') return 'a relation needs string from_id and to_id';
  if (item.direction !== undefined && !RELATION_DIRECTIONS.has(item.direction as string)) {
    return 'relation direction must be "left", "right" or "bi"';
  }
  if (item.labels === undefined) return null;
  if (!isStringArray(item.labels)) return 'relation labels must be an array of strings';
  const allowed = new Set(config.relationLabels);
  const unknown = item.labels.find((label) => !allowed.has(label));
  return unknown === undefined ? null : `relation label "${unknown}" is not in <Relations>`;
}

function itemProblem(config: LabelConfig, controls: Map<string, ControlTag>, item: unknown): string | null {
  if (!isObject(item)) return 'must be an object';
  if (item.type === 'relation') return relationProblem(config, item);
  if (typeof item.from_name !== 'string') return 'from_name must be a string';
  const control = controls.get(item.from_name);
  if (!control) return `from_name "${item.from_name}" is not a control in the labeling config`;
  if (typeof item.to_name !== 'string' || !control.toName.includes(item.to_name)) {
    return `to_name ${JSON.stringify(item.to_name)} is not an object of control "${control.name}"`;
  }
  const expected = control.type.toLowerCase();
  if (item.type !== expected) return `type ${JSON.stringify(item.type)} does not match control "${control.name}" (expected "${expected}")`;
  if (!isObject(item.value)) return 'value must be an object';
  if (hasOwnLabels(control)) return ownLabelsProblem(config, control, item.value);
  return inputProblem(control, item.value) ?? toolLabelsProblem(config, item.to_name, item.value);
}

/**
 * Checks a Label Studio `result` array against a config. Returns null when it is acceptable,
 * otherwise a message naming the first bad item, e.g. `result[2]: label "Dog" is not in control "label"`.
 */
export function resultProblem(config: LabelConfig, result: unknown): string | null {
  if (!Array.isArray(result)) return 'result must be an array';
  if (result.length > RESULT_MAX_ITEMS) return `result has more than ${RESULT_MAX_ITEMS} items`;
  const controls = new Map(config.controls.map((c) => [c.name, c]));
  for (const [index, item] of result.entries()) {
    const problem = itemProblem(config, controls, item);
    if (problem) return `result[${index}]: ${problem}`;
  }
  return null;
}
