/**
 * Guards labeling-config changes: a new config may add or reorder labels, but may not remove a
 * control or a label that existing annotations still use (their results would stop matching).
 */
import type { ControlTag, LabelConfig } from './label-config.types.js';

/** Which labels (or choices) of one control a set of results uses. */
export interface LabelUsage {
  from_name: string;
  labels: string[];
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

/**
 * Extracts, from result arrays (one per annotation or prediction), which controls they use and
 * which label/choice values of each. Relation items (no `from_name`) and malformed items are
 * skipped; controls without labels (ratings, text) are listed with no labels.
 */
export function labelsUsedIn(results: unknown[]): LabelUsage[] {
  const usage = new Map<string, Set<string>>();
  for (const result of results) {
    if (!Array.isArray(result)) continue;
    for (const item of result) {
      if (!isObject(item) || typeof item.from_name !== 'string') continue;
      const labels = usage.get(item.from_name) ?? new Set<string>();
      usage.set(item.from_name, labels);
      if (!isObject(item.value)) continue;
      for (const [key, raw] of Object.entries(item.value)) {
        if (isLabelKey(key)) for (const label of labelsOf(raw)) labels.add(label);
      }
    }
  }
  return [...usage].map(([from_name, labels]) => ({ from_name, labels: [...labels] }));
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

/** Problems for one used control: removed, retyped, or losing labels it uses. */
function usageProblems(use: LabelUsage, before: Side & { control: ControlTag }, after: Side): string[] {
  const name = use.from_name;
  if (!after.control) return [`control "${name}" is used by annotations`];
  if (after.control.type !== before.control.type) {
    return [`control "${name}" is used by annotations and cannot change from <${before.control.type}> to <${after.control.type}>`];
  }
  if (after.control.dynamicLabels !== null) return [];
  const had = accepted(before.config, before.control);
  const has = accepted(after.config, after.control);
  const wasDynamic = before.control.dynamicLabels !== null;
  return use.labels
    .filter((label) => (wasDynamic || had.has(label)) && !has.has(label))
    .map((label) => `label "${label}" of "${name}" is used by annotations`);
}

/**
 * Lists, as messages, the controls and labels that existing annotations use and that the new
 * config would remove (or, for a control, turn into another tag type). Empty means the change
 * is safe; adding or reordering labels never appears. Usage of controls or labels the old config
 * did not have is ignored: the change does not remove them.
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
