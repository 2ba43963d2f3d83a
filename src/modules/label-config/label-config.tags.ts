/**
 * The tag allowlist: every tag a labeling config may use, learned from Label Studio's public tag
 * reference. Anything else (including `<script>`, HTML, and Label Studio's code-running or
 * Enterprise-only tags such as ReactCode, Chat and Repeater) is refused by the parser.
 */

/** Object tags show task data; `value` names the data (`$field`). */
interface ObjectSpec {
  kind: 'object';
  /** Also accepted: a literal value instead of `$field` (see `objectValueProblem`). */
  literal?: 'text' | 'url';
}

/** Control tags produce results; `toName` names the object tags they label. */
interface ControlSpec {
  kind: 'control';
  /** The child tag holding its labels, when it has labels. */
  labelChild?: 'Label' | 'Choice';
  /** Whether its labels may instead come from task data (`value="$options"`). */
  dynamicLabels?: boolean;
}

/** Layout and helper tags; they produce no results. */
interface VisualSpec {
  kind: 'visual';
}

/** Tags only meaningful inside an owner tag (the nearest ancestor of one of these types). */
interface ChildSpec {
  kind: 'child';
  owners: readonly string[];
}

/** Relations groups Relation labels for links between regions; it has no name or toName. */
interface RelationsSpec {
  kind: 'relations';
}

export type TagSpec = ObjectSpec | ControlSpec | VisualSpec | ChildSpec | RelationsSpec;

const labelled = { kind: 'control', labelChild: 'Label', dynamicLabels: true } as const;
const tool = { kind: 'control' } as const;
const object = { kind: 'object' } as const;
const visual = { kind: 'visual' } as const;

/** Controls whose labels are `<Label>` children. */
export const LABEL_CONTROLS = [
  'Labels',
  'RectangleLabels',
  'PolygonLabels',
  'KeyPointLabels',
  'BrushLabels',
  'EllipseLabels',
  'HyperTextLabels',
  'ParagraphLabels',
  'TimeSeriesLabels',
  'TimelineLabels',
  'VectorLabels',
] as const;

export const TAGS: Readonly<Record<string, TagSpec>> = {
  // Objects
  Image: object,
  Text: { kind: 'object', literal: 'text' },
  HyperText: object,
  Audio: object,
  AudioPlus: object,
  Video: object,
  TimeSeries: { kind: 'object', literal: 'url' },
  Table: object,
  Paragraphs: object,
  List: object,
  Pdf: object,
  // Controls with labels
  ...Object.fromEntries(LABEL_CONTROLS.map((tag) => [tag, labelled])),
  Choices: { kind: 'control', labelChild: 'Choice', dynamicLabels: true },
  Taxonomy: { kind: 'control', labelChild: 'Choice' },
  // Controls without labels (tools and inputs)
  Rectangle: tool,
  Polygon: tool,
  KeyPoint: tool,
  Brush: tool,
  Ellipse: tool,
  Vector: tool,
  MagicWand: tool,
  VideoRectangle: tool,
  TextArea: tool,
  Rating: tool,
  Number: tool,
  DateTime: tool,
  Ranker: tool,
  Pairwise: tool,
  // Layout and helpers
  View: visual,
  Header: visual,
  Markdown: visual,
  Style: visual,
  Filter: visual,
  Collapse: visual,
  Relations: { kind: 'relations' },
  // Children
  Label: { kind: 'child', owners: LABEL_CONTROLS },
  Choice: { kind: 'child', owners: ['Choices', 'Taxonomy'] },
  Relation: { kind: 'child', owners: ['Relations'] },
  Channel: { kind: 'child', owners: ['TimeSeries'] },
  Shortcut: { kind: 'child', owners: ['TextArea'] },
  Bucket: { kind: 'child', owners: ['Ranker'] },
  Panel: { kind: 'child', owners: ['Collapse'] },
};

/** The spec of an allowed tag, or undefined for a tag that must be refused. */
export function tagSpec(tag: string): TagSpec | undefined {
  return Object.hasOwn(TAGS, tag) ? TAGS[tag] : undefined;
}
