/**
 * Streaming JSON task reading. A top-level array (the usual import file) is cut into its
 * elements' bytes by a splitter that follows only strings, escapes and nesting, and each element
 * is parsed by the native JSON.parse: about three times faster than a JavaScript tokenizer, with
 * little garbage, and memory stays flat (one element is held at a time).
 *
 * The guarded parser (@streamparser/json, keys checked as tokens before they are assigned) stays
 * the authority: it re-reads every element that could hide a forbidden key (a `\u` escape, or a
 * string spelled `__proto__`, `constructor` or `prototype`), that is over the size limit, or that
 * JSON.parse refuses, primed to the same point of the array and told the element's byte offset,
 * so rules and error messages are the guarded parser's. Anything else the splitter does not
 * expect (bytes between elements, input ending early, a document that is not an array) hands the
 * rest of the document to the guarded parser.
 */
import { GuardedJson, type ArrayPoint, JsonDocumentScanner, completeUtf8Length, CharacterSlicer } from './json-guarded-parser.js';
import { type RawTask, type ReadContext, FORBIDDEN_KEYS, forbiddenKey, importError, taskTooLarge, toRawTask, tooManyTasks } from './task-shape.js';

const FORBIDDEN_SPELLINGS = [...FORBIDDEN_KEYS].map((key) => Buffer.from(key));

/**
 * True when the string whose quotes are at `open` and `close` is spelled exactly like a
 * forbidden key, or may be (it began in an earlier chunk: `open` < 0). Without a `\u` escape a
 * string decodes to one of those keys only if its bytes are the key: no other escape gives any
 * of their characters.
 */
function spellsForbiddenKey(bytes: Uint8Array, open: number, close: number): boolean {
  const length = close - open - 1;
  if (length !== 9 && length !== 11) return false; // __proto__, prototype; constructor
  if (open < 0) return true;
  return FORBIDDEN_SPELLINGS.some((key) => key.length === length && key.every((b, i) => bytes[open + 1 + i] === b));
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LETTER_U = 0x75;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** The index of the first `byte` in `bytes` at or after `from`, or the length when there is none. */
function indexOrEnd(bytes: Buffer, byte: number, from: number): number {
  const at = bytes.indexOf(byte, from);
  return at === -1 ? bytes.length : at;
}

/** JSON's whitespace: space, tab, LF, CR. */
const isWhitespace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/**
 * True when a complete JSON text could hold a forbidden key once parsed: it has a `\u` escape,
 * or a string spelled like one. Only meaningful for text JSON.parse accepts.
 */
function mayHideForbiddenKey(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i += 1) {
    if (bytes[i] !== QUOTE) continue;
    const open = i;
    for (i += 1; i < bytes.length && bytes[i] !== QUOTE; i += 1) {
      if (bytes[i] === BACKSLASH) {
        i += 1;
        if (bytes[i] === LETTER_U) return true;
      }
    }
    if (spellsForbiddenKey(bytes, open, i)) return true;
  }
  return false;
}

/** JSON.parse of the bytes, or `undefined` when it refuses them (no JSON text parses to undefined). */
function parseNatively(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Where the splitter is in the document. */
type Split = typeof BEFORE | typeof OPEN | typeof ELEMENT | typeof AFTER_ELEMENT | typeof AFTER_COMMA | typeof CLOSED;
/** Nothing but whitespace yet. */
const BEFORE = 0;
/** After the array's `[`. */
const OPEN = 1;
/** In an element (an object, or a list): up to the bracket that closes it. */
const ELEMENT = 2;
/** After an element. */
const AFTER_ELEMENT = 3;
/** After a `,` between elements. */
const AFTER_COMMA = 4;
/** After the array's `]`. */
const CLOSED = 5;

/** The array point of a splitter state outside elements (BEFORE has none: the document starts there). */
const POINTS: Readonly<Record<number, ArrayPoint>> = { [OPEN]: 'open', [AFTER_ELEMENT]: 'value', [AFTER_COMMA]: 'comma', [CLOSED]: 'closed' };

/**
 * Reads a JSON document into tasks: the objects of a top-level array through the splitter and
 * JSON.parse, everything else through the guarded parser (see the module comment). An element
 * that is not an object or a list is never a task, so it hands the rest to the guarded parser,
 * which says what is wrong. Feed it with write(), collect with take(), finish with end().
 */
class JsonTaskReader {
  private state: Split = BEFORE;
  /** Nesting inside the current element (1 in the element's own brackets). */
  private depth = 0;
  /** The deepest nesting seen in the current element (1: its own brackets). */
  private deepest = 0;
  private inString = false;
  private escaped = false;
  /** The current element may hide a forbidden key: the guarded parser must read it. */
  private suspect = false;
  /** Index of the current string's opening quote in the current chunk (negative: in an earlier one). */
  private stringStart = 0;
  /** The current element's bytes from earlier chunks. */
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Byte offset of the current chunk in the input. */
  private offset = 0;
  /** Where the current element began: its byte offset and the array point before it. */
  private elementOrigin = 0;
  private elementPoint: ArrayPoint = 'open';
  /** Elements begun. */
  private count = 0;
  private queue: RawTask[] = [];
  /** Set once the guarded parser reads the rest of the document. */
  private guarded: { scanner: JsonDocumentScanner; slicer: CharacterSlicer } | undefined;
  /** The guarded scanner that checked the last suspect element, kept to check the next one. */
  private checker: JsonDocumentScanner | undefined;

  constructor(private readonly ctx: ReadContext) {}

  /** The tasks finished since the last call. */
  take(): RawTask[] {
    const tasks = this.queue;
    this.queue = [];
    return tasks;
  }

  write(chunk: Buffer): void {
    if (this.guarded) return this.writeGuarded(chunk);
    // The scan keeps its state in locals (saved at the end): this is the hot loop of an import.
    let { state, depth, deepest, inString, escaped, suspect, stringStart } = this;
    let start = state === ELEMENT ? 0 : -1; // where the current element began in this chunk
    const length = chunk.length;
    // The next `"` and `\` at or after the scan (found natively, so a string's text is skipped, not walked).
    let nextQuote = -1;
    let nextBackslash = -1;
    for (let i = 0; i < length; i += 1) {
      if (inString) {
        if (escaped) {
          escaped = false;
          if (chunk[i] === LETTER_U) suspect = true;
          continue;
        }
        if (nextQuote < i) nextQuote = indexOrEnd(chunk, QUOTE, i);
        if (nextBackslash < i) nextBackslash = indexOrEnd(chunk, BACKSLASH, i);
        i = nextQuote < nextBackslash ? nextQuote : nextBackslash;
        if (i === length) break; // the string goes on in the next chunk
        if (i === nextBackslash) escaped = true;
        else {
          inString = false;
          if (!suspect && spellsForbiddenKey(chunk, stringStart, i)) suspect = true;
        }
        continue;
      }
      const b = chunk[i]!;
      if (state === ELEMENT) {
        if (b === QUOTE) {
          inString = true;
          stringStart = i;
        } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
          depth += 1;
          if (depth > deepest) deepest = depth;
        } else if ((b === CLOSE_BRACE || b === CLOSE_BRACKET) && --depth === 0) {
          if (!this.finishElement(chunk, start, i + 1, suspect, deepest)) return this.writeGuarded(chunk.subarray(i + 1));
          state = AFTER_ELEMENT;
        }
      } else if (isWhitespace(b)) continue;
      else if (state === BEFORE && b === OPEN_BRACKET) state = OPEN;
      else if (state === OPEN && b === CLOSE_BRACKET) state = CLOSED;
      else if (state === AFTER_ELEMENT && b === CLOSE_BRACKET) state = CLOSED;
      else if (state === AFTER_ELEMENT && b === COMMA) state = AFTER_COMMA;
      else if ((state === OPEN || state === AFTER_COMMA) && (b === OPEN_BRACE || b === OPEN_BRACKET)) {
        this.count += 1;
        if (this.count > this.ctx.maxTasks) throw tooManyTasks(this.ctx);
        this.elementPoint = POINTS[state]!;
        this.elementOrigin = this.offset + i;
        state = ELEMENT;
        start = i;
        depth = 1;
        deepest = 1;
        suspect = false;
      } else {
        const scanner = new JsonDocumentScanner(this.ctx, { origin: this.offset + i, point: POINTS[state], tasks: this.count });
        return this.handOver(scanner, chunk.subarray(i));
      }
    }
    if (state === ELEMENT) {
      if (inString) stringStart -= chunk.length; // relative to the next chunk
      this.parts.push(Buffer.from(chunk.subarray(start))); // a copy: a view would keep the whole chunk
      this.partBytes += chunk.length - start;
    }
    Object.assign(this, { state, depth, deepest, inString, escaped, suspect, stringStart });
    this.offset += chunk.length;
    if (state === ELEMENT && this.partBytes > this.ctx.maxTaskBytes) this.checkRunaway();
  }

  end(): void {
    if (!this.guarded && this.state !== CLOSED) this.handOverAtEnd();
    if (this.guarded) {
      const { scanner, slicer } = this.guarded;
      const rest = slicer.rest();
      if (rest) scanner.write(rest);
      scanner.end();
      this.queue.push(...scanner.take());
    } else if (this.count === 0) {
      throw importError(this.ctx, 'the input contains no tasks');
    }
  }

  /**
   * Parses the element that ends at `end` (exclusive), natively when that is safe; otherwise the
   * guarded parser reads it (`deepest`: its nesting, as counted by the splitter). False when the
   * guarded parser is to read the rest of the document.
   */
  private finishElement(chunk: Buffer, start: number, end: number, suspect: boolean, deepest: number): boolean {
    const joined = this.parts.length === 0 ? undefined : this.elementBytes(chunk.subarray(start, end));
    this.parts = [];
    this.partBytes = 0;
    if (!suspect && (joined?.length ?? end - start) <= this.ctx.maxTaskBytes) {
      const value = parseNatively(joined ? joined.toString('utf8') : chunk.toString('utf8', start, end));
      if (value !== undefined) {
        this.queue.push(toRawTask(value, this.count - 1, `task ${this.count}`, this.ctx, deepest));
        return true;
      }
    }
    const scanner = this.elementScanner();
    scanner.write(joined ?? chunk.subarray(start, end));
    const tasks = scanner.take();
    if (tasks.length === 1 && scanner.isBetweenElements()) {
      this.queue.push(tasks[0]!);
      this.checker = scanner;
      return true;
    }
    this.queue.push(...tasks);
    this.guarded = { scanner, slicer: new CharacterSlicer() };
    return false;
  }

  /** The current element's bytes from earlier chunks, then `tail`. */
  private elementBytes(tail?: Buffer): Buffer {
    return Buffer.concat(tail ? [...this.parts, tail] : this.parts);
  }

  /**
   * A guarded scanner ready to read the current element: the last checker moved past a `,` (for
   * an element, after `[` and after `,` are the same state), else a new one.
   */
  private elementScanner(): JsonDocumentScanner {
    const scanner = this.checker ?? new JsonDocumentScanner(this.ctx, { origin: this.elementOrigin, point: this.elementPoint, tasks: this.count - 1 });
    if (this.checker) scanner.resume(this.elementOrigin, this.count - 1);
    this.checker = undefined;
    return scanner;
  }

  /**
   * Refuses an element still open past maxTaskBytes: the guarded parser names its first problem,
   * else it is too large. Like the guarded reader, it counts whole characters only.
   */
  private checkRunaway(): void {
    const bytes = this.elementBytes();
    const complete = bytes.subarray(0, completeUtf8Length(bytes));
    if (complete.length <= this.ctx.maxTaskBytes) return;
    this.elementScanner().write(complete);
    throw taskTooLarge(this.ctx, `task ${this.count}`);
  }

  /** The input ended before the array did: the guarded parser reports it as it would have. */
  private handOverAtEnd(): void {
    if (this.state === ELEMENT) {
      this.guarded = { scanner: this.elementScanner(), slicer: new CharacterSlicer() };
      this.guarded.scanner.write(this.elementBytes());
    } else {
      const scanner = new JsonDocumentScanner(this.ctx, { origin: this.offset, point: POINTS[this.state], tasks: this.count });
      this.guarded = { scanner, slicer: new CharacterSlicer() };
    }
  }

  private handOver(scanner: JsonDocumentScanner, rest: Buffer): void {
    this.guarded = { scanner, slicer: new CharacterSlicer() };
    this.writeGuarded(rest);
  }

  private writeGuarded(bytes: Buffer): void {
    const { scanner, slicer } = this.guarded!;
    for (const slice of slicer.slices(bytes)) {
      scanner.write(slice);
      for (const task of scanner.take()) this.queue.push(task);
    }
  }
}

/**
 * Yields the tasks of a JSON document (a list of tasks, or one task object) in batches: those
 * completed by each chunk of input (never an empty batch). Handing over a batch instead of each
 * task saves an await per task through every generator between here and the database.
 */
export async function* readJsonTaskBatches(bytes: AsyncIterable<Buffer>, ctx: ReadContext): AsyncGenerator<RawTask[]> {
  const reader = new JsonTaskReader(ctx);
  for await (const chunk of bytes) {
    reader.write(chunk);
    const tasks = reader.take();
    if (tasks.length > 0) yield tasks;
  }
  reader.end();
  const tasks = reader.take();
  if (tasks.length > 0) yield tasks;
}

/** Yields the tasks of a JSON document (a list of tasks, or one task object) as they complete. */
export async function* readJsonTasks(bytes: AsyncIterable<Buffer>, ctx: ReadContext): AsyncGenerator<RawTask> {
  for await (const batch of readJsonTaskBatches(bytes, ctx)) yield* batch;
}

/**
 * Parses one complete JSON value (a JSONL line): natively when it cannot hide a forbidden key,
 * else (or when JSON.parse refuses it) with the guarded parser, for the same key guard and error
 * wording; `at` ("line 7") prefixes every message.
 */
export function parseJsonValue(bytes: Buffer, at: string, ctx: ReadContext): unknown {
  if (!mayHideForbiddenKey(bytes)) {
    const value = parseNatively(bytes.toString('utf8'));
    if (value !== undefined) return value;
  }
  let result: unknown;
  const json = new GuardedJson(['$'], {
    value: (e) => {
      result = e.value;
    },
    forbidden: (key) => forbiddenKey(ctx, at, key),
    syntax: (reason) => importError(ctx, `${at}: ${reason}`),
  });
  json.write(bytes);
  json.end();
  return result;
}
