/**
 * The shape every import reader yields, and the rules that turn a parsed value into it.
 *
 * Label Studio's rule: an object with a `data` key is a task in Label Studio's format
 * (`{data, annotations?, predictions?, meta?, id?, …}`); any other object is the data itself.
 */
import { type AppError, invalid } from '../../http/errors.js';

/** One task read from an import, before it is stored. */
export interface RawTask {
  /** Position among the tasks of this input, counting from 0. */
  index: number;
  data: Record<string, unknown>;
  annotations: unknown[];
  predictions: unknown[];
  meta: Record<string, unknown>;
}

/** What a reader needs to know: its limits and where to report errors. */
export interface ReadContext {
  maxTasks: number;
  maxTaskBytes: number;
  /** Deepest nesting of objects/arrays one task may have (JSON_MAX_DEPTH; 64 when not given). */
  maxDepth?: number;
  /** The key errors are reported under (an uploaded file's name, or `tasks`). */
  errorKey: string;
}

/**
 * Keys refused anywhere in imported data: assigning `__proto__` swaps an object's prototype, and
 * `constructor`/`prototype` are the other half of the classic pollution gadgets.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** True for a key in FORBIDDEN_KEYS. */
export function isForbiddenKey(key: unknown): boolean {
  return typeof key === 'string' && FORBIDDEN_KEYS.has(key);
}

/** The 400 every reader throws: one message under the context's error key. */
export function importError(ctx: ReadContext, message: string): AppError {
  return invalid({ [ctx.errorKey]: [message] });
}

/** The error for a task that would pass the per-import task limit. */
export function tooManyTasks(ctx: ReadContext): AppError {
  return importError(ctx, `more than ${ctx.maxTasks} tasks (the limit for one import)`);
}

/** The error for a task larger than the per-task limit; `at` names it ("task 3", "line 7"). */
export function taskTooLarge(ctx: ReadContext, at: string): AppError {
  return importError(ctx, `${at}: larger than ${ctx.maxTaskBytes} bytes (the limit for one task)`);
}

/** The error for a forbidden key; `at` names the task or line. */
export function forbiddenKey(ctx: ReadContext, at: string, key: string): AppError {
  return importError(ctx, `${at}: the key "${key}" is not allowed`);
}

/** True for a non-null object that is not an array (what JSON calls an object). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** An own property only: a value inherited from a prototype is never read as imported data. */
function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function listOrEmpty(ctx: ReadContext, at: string, task: Record<string, unknown>, key: string): unknown[] {
  const value = own(task, key);
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw importError(ctx, `${at}: ${key} must be a list, not ${kindOf(value)}`);
  return value;
}

/**
 * True when objects/arrays nest deeper than `max` (the value itself is level 1). Iterative, so a
 * hostile task is refused before recursive code (serializer, database JSON functions) walks it.
 */
function nestedDeeperThan(root: object, max: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > max) return true;
    for (const child of Object.values(v as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * Turns one parsed value into a RawTask, or throws a 400 naming `at`. A flat object becomes
 * `{data: object}`; in Label Studio's format, `data` and `meta` must be objects and
 * `annotations`/`predictions` lists (the pre-1.0 name `completions` is read as `annotations`).
 * Other top-level keys (`id`, `created_at`, … from an export) are ignored: ids are ours to assign.
 */
export function toRawTask(value: unknown, index: number, at: string, ctx: ReadContext, depth?: number): RawTask {
  if (!isJsonObject(value)) throw importError(ctx, `${at}: must be an object, not ${kindOf(value)}`);
  const maxDepth = ctx.maxDepth ?? 64;
  // `depth`: the reader already knows the value's nesting (the JSON splitter counts brackets), so
  // the walk runs only when it is unknown or too deep (the walk then names the problem).
  if ((depth === undefined || depth > maxDepth) && nestedDeeperThan(value, maxDepth)) throw importError(ctx, `${at}: nests objects or arrays deeper than ${maxDepth} levels`);
  if (!Object.hasOwn(value, 'data')) return { index, data: value, annotations: [], predictions: [], meta: {} };
  const data = own(value, 'data');
  const meta = own(value, 'meta');
  if (!isJsonObject(data)) throw importError(ctx, `${at}: data must be an object, not ${kindOf(data)}`);
  if (meta !== undefined && !isJsonObject(meta)) throw importError(ctx, `${at}: meta must be an object, not ${kindOf(meta)}`);
  const annotationsKey = own(value, 'annotations') === undefined && own(value, 'completions') !== undefined ? 'completions' : 'annotations';
  return {
    index,
    data,
    annotations: listOrEmpty(ctx, at, value, annotationsKey),
    predictions: listOrEmpty(ctx, at, value, 'predictions'),
    meta: meta ?? {},
  };
}
