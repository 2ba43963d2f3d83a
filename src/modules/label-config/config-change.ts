/**
 * Guards labeling-config changes: a new config may add or reorder labels, but may not remove a
 * control or a label that existing annotations still use, change such a control's type, or take
 * from it an object its results label (their results would stop matching).
 */
import type { ControlTag, LabelConfig } from './label-config.types.js';

/** What a set of results uses of one control: its labels (or choices) and the objects it labels. */
export interface LabelUsage {
  from_name: string;
  labels: string[];
  /** The `to_name` of its results: the objects it labeled. */
  to_names: string[];
}

interface UsageSets {
  labels: Set<string>;
  toNames: Set<string>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Keys of `value` holding labels: `choices`, `taxonomy`, `labels` and every `…labels` key. */
const isLabelKey = (key: string) => key === 'choices' || key === 'taxonomy' || key.endsWith('labels');

/** Label strings inside a value entry, flattening Taxonomy paths. */
function labelsOf(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((entry: unknown) =>
    typeof entry === 'string' ? [entry] : Array.isArray(entry) ? entry.filter((e): e is string => typeof e === 'string') : [],
  );
}

function setsOf(usage: Map<string, UsageSets>, name: string): UsageSets {
  let sets = usage.get(name);
  if (!sets) usage.set(name, (sets = { labels: new Set(), toNames: new Set() }));
  return sets;
}

function addItem(usage: Map<string, UsageSets>, item: Record<string, unknown> & { from_name: string }): void {
  const sets = setsOf(usage, item.from_name);
  if (typeof item.to_name === 'string') sets.toNames.add(item.to_name);
  if (!isObject(item.value)) return;
  for (const [key, raw] of Object.entries(item.value)) {
    if (isLabelKey(key)) for (const label of labelsOf(raw)) sets.labels.add(label);
  }
}

const toList = (usage: Map<string, UsageSets>): LabelUsage[] =>
  [...usage].map(([from_name, u]) => ({ from_name, labels: [...u.labels], to_names: [...u.toNames] }));

/**
 * Extracts, from result arrays (one per annotation or prediction), which controls they use and,
 * for each, which label/choice values and objects (`to_name`). Relation items (no
 * `from_name`) and malformed items are skipped; controls without labels (ratings, text) are
 * listed with no labels.
 */
export function labelsUsedIn(results: unknown[]): LabelUsage[] {
  const usage = new Map<string, UsageSets>();
  for (const result of results) {
    if (!Array.isArray(result)) continue;
    for (const item of result) {
      if (isObject(item) && typeof item.from_name === 'string') addItem(usage, item as Record<string, unknown> & { from_name: string });
    }
  }
  return toList(usage);
}

/** The union of two usage summaries (e.g. of successive batches of results), control by control. */
export function mergeLabelUsage(a: LabelUsage[], b: LabelUsage[]): LabelUsage[] {
  const usage = new Map<string, UsageSets>();
  for (const use of [...a, ...b]) {
    const sets = setsOf(usage, use.from_name);
    for (const label of use.labels) sets.labels.add(label);
    for (const toName of use.to_names) sets.toNames.add(toName);
  }
  return toList(usage);
}

/** The values a control accepts in results: each label's value and alias. */
function accepted(config: LabelConfig, control: ControlTag): Set<string> {
  const attrs = Object.values(config.parsed[control.name]?.labels_attrs ?? {});
  return new Set([...control.labels, ...attrs.flatMap((label) => (label.alias ? [label.alias] : []))]);
}

interface Side {
  config: LabelConfig;
  control: ControlTag | undefined;
}

/** Problems for one used control: removed, retyped, moved off an object, or losing labels it uses. */
function usageProblems(use: LabelUsage, before: Side & { control: ControlTag }, after: Side): string[] {
  const name = use.from_name;
  if (!after.control) return [`control "${name}" is used by annotations`];
  if (after.control.type !== before.control.type) return [`control "${name}" is used by annotations and cannot change from <${before.control.type}> to <${after.control.type}>`];
  const kept = new Set(after.control.toName);
  const moved = use.to_names.filter((o) => before.control.toName.includes(o) && !kept.has(o));
  const problems = moved.map((o) => `control "${name}" is used by annotations of object "${o}" and cannot stop labeling it`);
  if (after.control.dynamicLabels !== null) return problems;
  const had = accepted(before.config, before.control);
  const has = accepted(after.config, after.control);
  const wasDynamic = before.control.dynamicLabels !== null;
  const dropped = use.labels.filter((label) => (wasDynamic || had.has(label)) && !has.has(label));
  return [...problems, ...dropped.map((label) => `label "${label}" of "${name}" is used by annotations`)];
}

/**
 * Lists, as messages, the controls and labels that existing annotations use and that the new
 * config would remove (or, for a control, turn into another tag type or point away from an
 * object its results label). Empty means the change is safe; adding or reordering labels never
 * appears. Usage of controls, objects or labels the old config did not have is ignored: the
 * change does not remove them.
 */
export function droppedInUse(oldConfig: LabelConfig, newConfig: LabelConfig, used: LabelUsage[]): string[] {
  const oldControls = new Map(oldConfig.controls.map((c) => [c.name, c]));
  const newControls = new Map(newConfig.controls.map((c) => [c.name, c]));
  const problems = new Set<string>();
  for (const use of used) {
    const control = oldControls.get(use.from_name);
    if (!control) continue;
    const after = { config: newConfig, control: newControls.get(use.from_name) };
    for (const problem of usageProblems(use, { config: oldConfig, control }, after)) problems.add(problem);
  }
  return [...problems];
}
