/**
 * Parses and validates a Label Studio labeling config (its XML `label_config`) into a
 * `LabelConfig`: the object tags, the control tags with their labels, the task data keys, and
 * Label Studio's `parsed_label_config` shape. Every refusal is a 400 naming `label_config`.
 */
import { LABEL_CONTROLS, tagSpec, type TagSpec } from './label-config.tags.js';
import type { ControlTag, LabelAttrs, LabelConfig, ObjectTag, ParsedControl } from './label-config.types.js';
import { configError, readConfigXml, type XmlElement } from './label-config.xml.js';

export { LABEL_CONFIG_MAX_BYTES, LABEL_CONFIG_MAX_DEPTH, LABEL_CONFIG_MAX_ELEMENTS } from './label-config.xml.js';
export type { ControlTag, LabelAttrs, LabelConfig, ObjectTag, ParsedControl } from './label-config.types.js';

/** `$field`: a task data key (letters, digits, `_` and `-`, not starting with a digit or `-`). */
const VARIABLE = /^\$([A-Za-z_][\w-]*)$/;
/** CSS that could load or run something, or close the style element it is placed in. */
const RISKY_CSS = /@import|url\s*\(|image-set\s*\(|expression\s*\(|javascript:|behavior\s*:|-moz-binding|</i;

interface ControlDraft {
  control: ControlTag;
  labelsAttrs: Record<string, LabelAttrs>;
}

interface Collected {
  objects: ObjectTag[];
  controls: ControlDraft[];
  relationLabels: string[];
  filters: { name: string; toName: string[]; line: number }[];
  dataKeys: Set<string>;
}

/** The data key of a `$field` value, or null when the value is not a variable. */
function variableKey(value: string | undefined): string | null {
  return value === undefined ? null : (VARIABLE.exec(value)?.[1] ?? null);
}

const tagAt = (el: XmlElement) => `<${el.tag}> at line ${el.line}`;

function splitNames(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

function requireName(el: XmlElement): string {
  const name = el.attrs.name?.trim();
  if (!name) throw configError(`${tagAt(el)} needs a name.`);
  return name;
}

/** Refuses CSS that loads resources, and raw-HTML attributes (labels are shown as text). */
function checkAttributes(el: XmlElement): void {
  for (const [attr, value] of Object.entries(el.attrs)) {
    if (attr === 'html') throw configError(`The html attribute is not allowed (${tagAt(el)}).`);
    if ((attr === 'style' || attr.endsWith('Style')) && RISKY_CSS.test(value)) {
      throw configError(`The ${attr} attribute of ${tagAt(el)} may not load resources or contain "<".`);
    }
  }
  if (el.tag === 'Style' && RISKY_CSS.test(el.text)) {
    throw configError(`${tagAt(el)} may not load resources (@import, url()) or contain "<".`);
  }
}

/**
 * Object values must be `$field` so the data comes from the task. Literals are accepted only
 * where they are harmless and Label Studio documents them: plain Text (shown as text, used for
 * instructions) and a TimeSeries http(s) URL.
 */
function readObject(el: XmlElement, spec: Extract<TagSpec, { kind: 'object' }>): ObjectTag {
  const name = requireName(el);
  const value = el.attrs.value ?? (el.tag === 'Image' ? el.attrs.valueList : undefined) ?? '';
  const dataKey = variableKey(value);
  const literalOk =
    (spec.literal === 'text' && value !== '') || (spec.literal === 'url' && /^https?:\/\/\S+$/i.test(value));
  if (dataKey === null && !literalOk) {
    throw configError(`Object tag "${name}" (<${el.tag}>) needs value="$field" naming task data, not "${value}".`);
  }
  return { name, type: el.tag, value, dataKey };
}

/** The Label/Choice elements of a control, through `<View>`s and nested (Taxonomy) choices. */
function labelElements(el: XmlElement, childTag: string): XmlElement[] {
  const found: XmlElement[] = [];
  for (const child of el.children) {
    if (child.tag === childTag) found.push(child, ...labelElements(child, childTag));
    else if (child.tag === 'View') found.push(...labelElements(child, childTag));
  }
  return found;
}

/**
 * Labels keyed by value, in document order (first one wins). A Map, not an object: it keeps
 * numeric-looking labels in order and treats `__proto__` as just a label.
 */
function readLabels(el: XmlElement, name: string, childTag: string): Map<string, LabelAttrs> {
  const labels = new Map<string, LabelAttrs>();
  for (const label of labelElements(el, childTag)) {
    const value = label.attrs.value;
    if (!value) throw configError(`${tagAt(label)} in control "${name}" needs a value.`);
    if (!labels.has(value)) labels.set(value, { ...label.attrs, value });
  }
  return labels;
}

function readControl(el: XmlElement, spec: Extract<TagSpec, { kind: 'control' }>): ControlDraft {
  const name = requireName(el);
  const toName = splitNames(el.attrs.toName);
  if (toName.length === 0) throw configError(`Control "${name}" (<${el.tag}>) needs a toName.`);
  if (el.attrs.apiUrl !== undefined) {
    throw configError(`Control "${name}": loading labels from apiUrl is not supported; list them in the config.`);
  }
  const dynamicLabels = spec.dynamicLabels ? variableKey(el.attrs.value) : null;
  const labelMap = spec.labelChild ? readLabels(el, name, spec.labelChild) : new Map<string, LabelAttrs>();
  const labels = [...labelMap.keys()];
  if (spec.labelChild && labels.length === 0 && dynamicLabels === null) {
    throw configError(`Control "${name}" (<${el.tag}>) needs at least one <${spec.labelChild}> with a value.`);
  }
  const multiple = el.attrs.choice === 'multiple' || (el.tag === 'Taxonomy' && el.attrs.choice !== 'single');
  const control: ControlTag = {
    name,
    type: el.tag,
    toName,
    labels,
    choice: multiple ? 'multiple' : 'single',
    perRegion: el.attrs.perRegion === 'true',
    required: el.attrs.required === 'true',
    dynamicLabels,
    attributes: { ...el.attrs },
  };
  return { control, labelsAttrs: Object.fromEntries(labelMap) };
}

/** The nearest ancestor that is not a `<View>` (nor, for a Choice, another Choice). */
function ownerOf(el: XmlElement, ancestors: XmlElement[]): { owner?: XmlElement; nested: boolean } {
  let nested = false;
  for (let i = ancestors.length - 1; i >= 0; i -= 1) {
    const ancestor = ancestors[i]!;
    if (el.tag === 'Choice' && ancestor.tag === 'Choice') nested = true;
    else if (ancestor.tag !== 'View') return { owner: ancestor, nested };
  }
  return { nested };
}

function checkChild(el: XmlElement, ancestors: XmlElement[], owners: readonly string[]): void {
  const { owner, nested } = ownerOf(el, ancestors);
  if (!owner || !owners.includes(owner.tag)) {
    const list = owners === LABEL_CONTROLS ? 'a labels control such as <Labels> or <RectangleLabels>' : owners.map((o) => `<${o}>`).join(' or ');
    throw configError(`${tagAt(el)} must be inside ${list}.`);
  }
  if (nested && owner.tag !== 'Taxonomy') throw configError(`Nested <Choice> (line ${el.line}) is only allowed inside <Taxonomy>.`);
  if (el.tag === 'Channel' && !el.attrs.column) throw configError(`${tagAt(el)} needs a column.`);
  if (el.tag === 'Relation' && !el.attrs.value) throw configError(`${tagAt(el)} needs a value.`);
}

function visitTag(el: XmlElement, spec: TagSpec, ancestors: XmlElement[], acc: Collected): void {
  switch (spec.kind) {
    case 'object': {
      const object = readObject(el, spec);
      acc.objects.push(object);
      if (object.dataKey) acc.dataKeys.add(object.dataKey);
      return;
    }
    case 'control': {
      const draft = readControl(el, spec);
      acc.controls.push(draft);
      const key = variableKey(el.attrs.value);
      if (key) acc.dataKeys.add(key);
      return;
    }
    case 'visual': {
      const key = el.tag === 'Header' || el.tag === 'Markdown' ? variableKey(el.attrs.value) : null;
      if (key) acc.dataKeys.add(key);
      if (el.tag === 'Filter') acc.filters.push({ name: requireName(el), toName: splitNames(el.attrs.toName), line: el.line });
      return;
    }
    case 'relations':
      if (!labelElements(el, 'Relation').length) throw configError(`${tagAt(el)} needs at least one <Relation>.`);
      return;
    case 'child':
      checkChild(el, ancestors, spec.owners);
      if (el.tag === 'Relation') acc.relationLabels.push(el.attrs.value!);
  }
}

/** Visits children first, so a misplaced child is reported before its parent's own checks. */
function visit(el: XmlElement, ancestors: XmlElement[], acc: Collected): void {
  const spec = tagSpec(el.tag);
  if (!spec) throw configError(`Unknown tag <${el.tag}> at line ${el.line}.`);
  const path = [...ancestors, el];
  for (const child of el.children) visit(child, path, acc);
  checkAttributes(el);
  visitTag(el, spec, ancestors, acc);
}

/** Names are unique across objects and controls; every toName names an object tag. */
function checkLinks(acc: Collected): void {
  const seen = new Set<string>();
  for (const { name } of [...acc.objects, ...acc.controls.map((d) => d.control)]) {
    if (seen.has(name)) throw configError(`Duplicate name "${name}": object and control names must be unique.`);
    seen.add(name);
  }
  const objects = new Set(acc.objects.map((o) => o.name));
  for (const { control } of acc.controls) {
    const missing = control.toName.find((target) => !objects.has(target));
    if (missing !== undefined) {
      throw configError(`Control "${control.name}" has toName "${missing}", but no object tag is named "${missing}".`);
    }
  }
  const controls = new Set(acc.controls.map((d) => d.control.name));
  for (const filter of acc.filters) {
    const missing = filter.toName.find((target) => !controls.has(target));
    if (missing !== undefined || filter.toName.length === 0) {
      throw configError(`<Filter> "${filter.name}" at line ${filter.line} must have toName naming a control tag.`);
    }
  }
}

function toParsed(acc: Collected): Record<string, ParsedControl> {
  const objects = new Map(acc.objects.map((o) => [o.name, o]));
  const entries = acc.controls.map(({ control, labelsAttrs }): [string, ParsedControl] => [
    control.name,
    {
      type: control.type,
      to_name: control.toName,
      inputs: control.toName.map((name) => {
        const object = objects.get(name)!;
        return { type: object.type, value: object.dataKey ?? object.value };
      }),
      labels: control.labels,
      labels_attrs: labelsAttrs,
    },
  ]);
  // fromEntries defines own properties, so a control named `__proto__` cannot touch the prototype.
  return Object.fromEntries(entries);
}

/**
 * Parses and validates a labeling config. Throws a 400 (`invalid({ label_config: [...] })`)
 * naming the problem: unsafe or malformed XML, an unknown tag, a broken toName, a duplicate
 * name, an object without `$field`, or a labels control without labels.
 */
export function parseLabelConfig(xml: string): LabelConfig {
  const root = readConfigXml(xml);
  const acc: Collected = { objects: [], controls: [], relationLabels: [], filters: [], dataKeys: new Set() };
  visit(root, [], acc);
  checkLinks(acc);
  return {
    objects: acc.objects,
    controls: acc.controls.map((d) => d.control),
    relationLabels: [...new Set(acc.relationLabels)],
    dataKeys: [...acc.dataKeys].sort(),
    parsed: toParsed(acc),
  };
}
