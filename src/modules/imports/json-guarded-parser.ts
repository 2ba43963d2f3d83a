/**
 * The guarded JSON parser the import readers fall back to: @streamparser/json with every key
 * checked as a token before it is assigned (forbidden keys refused, escaped spellings included),
 * task size limits, and the messages every import error uses. Split out of json-task-reader.ts,
 * whose fast path hands it anything it cannot vouch for.
 */
import { JSONParser, TokenType } from '@streamparser/json';
import { AppError } from '../../http/errors.js';
import { type RawTask, type ReadContext, forbiddenKey, importError, isForbiddenKey, taskTooLarge, toRawTask, tooManyTasks } from './task-shape.js';

/** Bytes handed to the parser at once: bounds how far a task can overrun its limit unseen. */
export const SLICE_BYTES = 64 * 1024;

export interface Token {
  token: TokenType;
  value: unknown;
  offset: number;
}

export interface Emitted {
  value?: unknown;
  parent?: unknown;
  stack: readonly unknown[];
}

export interface GuardHooks {
  token?(t: Token): void;
  value(e: Emitted): void;
  forbidden(key: string): AppError;
  syntax(reason: string): AppError;
}

export const VALUE_STARTS: ReadonlySet<TokenType> = new Set([
  TokenType.LEFT_BRACE,
  TokenType.LEFT_BRACKET,
  TokenType.STRING,
  TokenType.NUMBER,
  TokenType.TRUE,
  TokenType.FALSE,
  TokenType.NULL,
]);

export const PUNCTUATION: Partial<Record<TokenType, string>> = {
  [TokenType.LEFT_BRACE]: '"{"',
  [TokenType.RIGHT_BRACE]: '"}"',
  [TokenType.LEFT_BRACKET]: '"["',
  [TokenType.RIGHT_BRACKET]: '"]"',
  [TokenType.COLON]: '":"',
  [TokenType.COMMA]: '","',
};

/** A token as an error message shows it. */
export function describeToken(t: Token): string {
  if (t.token === TokenType.STRING) return 'string';
  if (t.token === TokenType.NUMBER) return 'number';
  return PUNCTUATION[t.token] ?? String(t.value);
}

/** A byte as an error message shows it. */
export function describeByte(byte: number | undefined): string {
  if (byte === undefined) return 'input';
  if (byte >= 0x20 && byte < 0x7f) return JSON.stringify(String.fromCharCode(byte));
  return `byte 0x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * One JSONParser that refuses forbidden keys (a string token followed by a colon) and turns the
 * parser's errors into a reason with an absolute byte offset. Only the first error counts: the
 * parser keeps reporting follow-on errors once it has failed.
 */
export class GuardedJson {
  private readonly parser: JSONParser;
  private previous: Token | undefined;
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkStart = 0;
  private failure: unknown;
  /** Bytes written so far. */
  written = 0;

  /** `base`: the input's byte offset of the first byte written (offsets in messages are the input's). */
  constructor(
    paths: string[],
    private readonly hooks: GuardHooks,
    private base = 0,
  ) {
    this.parser = new JSONParser({ paths });
    this.parser.onToken = (t: Token) => this.onToken(t);
    this.parser.onValue = (e: Emitted) => {
      if (this.failure === undefined) hooks.value(e);
    };
    this.parser.onError = (err: Error) => {
      this.failure ??= err;
    };
  }

  /** Feeds bytes; throws the first error as a 400. */
  write(bytes: Uint8Array): void {
    this.chunk = bytes;
    this.chunkStart = this.written;
    this.parser.write(bytes);
    this.written += bytes.length;
    this.rethrow();
  }

  /** Declares that the next byte written is the input's byte `origin`. */
  rebase(origin: number): void {
    this.base = origin - this.written;
  }

  /** Ends the input; throws if it stopped in the middle of a value. */
  end(): void {
    if (!this.parser.isEnded) this.parser.end();
    this.rethrow();
  }

  private onToken(t: Token): void {
    if (this.failure !== undefined) return;
    const key = this.previous;
    if (t.token === TokenType.COLON && key?.token === TokenType.STRING && isForbiddenKey(key.value)) {
      throw this.hooks.forbidden(String(key.value));
    }
    this.hooks.token?.(t);
    this.previous = t;
  }

  private rethrow(): void {
    if (this.failure === undefined) return;
    throw this.failure instanceof AppError ? this.failure : this.hooks.syntax(this.reason(this.failure));
  }

  private reason(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    const at = /at position "(\d+)"/.exec(message);
    if (at) {
      const i = Number(at[1]);
      const after = message.includes('state ENDED') ? ' after the end of the JSON value' : '';
      return `invalid JSON at byte ${this.base + this.chunkStart + i}: unexpected ${describeByte(this.chunk[i])}${after}`;
    }
    if (/ended in (the middle of a token|mid-parsing)/.test(message)) return 'invalid JSON: the input ends in the middle of a value';
    if (this.previous && message.startsWith('Unexpected ')) {
      return `invalid JSON at byte ${this.base + this.previous.offset}: unexpected ${describeToken(this.previous)}`;
    }
    return 'invalid JSON';
  }
}

/**
 * A point of a top-level array where the guarded parser can take over: after its `[`, after an
 * element, after a `,`, after its `]`.
 */
export type ArrayPoint = 'open' | 'value' | 'comma' | 'closed';

/** Bytes that bring a fresh parser to each point (the primer's `{}` is not a task). */
export const PRIMERS: Readonly<Record<ArrayPoint, Buffer>> = {
  open: Buffer.from('['),
  value: Buffer.from('[{}'),
  comma: Buffer.from('[{},'),
  closed: Buffer.from('[]'),
};

/** Where a scanner starts: at the input's byte `origin`, and, inside an array, at `point` after `tasks` tasks. */
export interface ScanStart {
  origin: number;
  point?: ArrayPoint;
  tasks?: number;
}

/**
 * Follows a JSON document with the guarded parser: counts tasks as they start (so the task limit
 * stops the read early), measures each one in bytes, and queues finished tasks for the generator
 * to yield. It can start mid-document, at a point of a top-level array (see ScanStart).
 */
export class JsonDocumentScanner {
  private readonly json: GuardedJson;
  private queue: RawTask[] = [];
  private root: 'array' | 'object' | 'other' | undefined;
  private depth = 0;
  private count = 0;
  /** Byte offset where the current task began; -1 between tasks. */
  private taskStart = -1;
  private lastOffset = 0;
  /** True while the primer is written: its tokens and value are not tasks. */
  private priming = false;

  constructor(
    private readonly ctx: ReadContext,
    start: ScanStart = { origin: 0 },
  ) {
    const primer = start.point === undefined ? undefined : PRIMERS[start.point];
    const hooks: GuardHooks = {
      token: (t) => this.onToken(t),
      value: (e) => this.onValue(e),
      forbidden: (key) => forbiddenKey(ctx, this.at(), key),
      syntax: (reason) => importError(ctx, reason),
    };
    this.json = new GuardedJson(['$', '$.*'], hooks, start.origin - (primer?.length ?? 0));
    if (primer) {
      this.prime(primer);
      this.count = start.tasks ?? 0;
    }
  }

  /**
   * Moves a scanner that is between two elements of a top-level array (isBetweenElements) past a
   * `,`, to read the next element from the input's byte `origin`, after `tasks` tasks: cheaper
   * than a new scanner for every element the guarded parser must check.
   */
  resume(origin: number, tasks: number): void {
    this.prime(PRIMERS.comma.subarray(-1));
    this.json.rebase(origin);
    this.count = tasks;
  }

  private prime(bytes: Buffer): void {
    this.priming = true;
    this.json.write(bytes);
    this.priming = false;
  }

  write(bytes: Uint8Array): void {
    this.json.write(bytes);
    if (this.taskStart >= 0 && this.json.written - this.taskStart > this.ctx.maxTaskBytes) {
      throw taskTooLarge(this.ctx, this.at());
    }
  }

  end(): void {
    this.json.end();
    if (this.root === undefined) throw importError(this.ctx, 'the input is empty');
    if (this.count === 0) throw importError(this.ctx, 'the input contains no tasks');
  }

  /** The tasks finished since the last call. */
  take(): RawTask[] {
    const tasks = this.queue;
    this.queue = [];
    return tasks;
  }

  /** True right after an element of a top-level array. */
  isBetweenElements(): boolean {
    return this.root === 'array' && this.taskStart === -1 && this.depth === 1;
  }

  private at(): string {
    return `task ${this.count}`;
  }

  private onToken(t: Token): void {
    if (this.root === undefined) {
      this.root = t.token === TokenType.LEFT_BRACKET ? 'array' : t.token === TokenType.LEFT_BRACE ? 'object' : 'other';
      if (this.root === 'object') this.beginTask(t.offset);
    } else if (this.root === 'array' && this.depth === 1 && !this.priming && VALUE_STARTS.has(t.token)) {
      this.beginTask(t.offset);
    }
    if (this.taskStart >= 0 && t.offset - this.taskStart >= this.ctx.maxTaskBytes) throw taskTooLarge(this.ctx, this.at());
    if (t.token === TokenType.LEFT_BRACE || t.token === TokenType.LEFT_BRACKET) this.depth += 1;
    if (t.token === TokenType.RIGHT_BRACE || t.token === TokenType.RIGHT_BRACKET) this.depth -= 1;
    this.lastOffset = t.offset;
  }

  private onValue(e: Emitted): void {
    if (e.stack.length === 1 && this.root === 'array' && Array.isArray(e.parent)) {
      if (!this.priming) this.finishTask(e.value);
      e.parent.length = 0; // the parser keeps the top-level array: empty it so it never grows
    } else if (e.stack.length === 0 && this.root === 'object') {
      this.finishTask(e.value);
    } else if (e.stack.length === 0 && this.root === 'other') {
      throw importError(this.ctx, 'must be a JSON list of tasks or a single task object');
    }
  }

  private beginTask(offset: number): void {
    this.count += 1;
    if (this.count > this.ctx.maxTasks) throw tooManyTasks(this.ctx);
    this.taskStart = offset;
  }

  private finishTask(value: unknown): void {
    if (this.lastOffset + 1 - this.taskStart > this.ctx.maxTaskBytes) throw taskTooLarge(this.ctx, this.at());
    this.queue.push(toRawTask(value, this.count - 1, this.at(), this.ctx));
    this.taskStart = -1;
  }
}

/** The length of `bytes` without an incomplete UTF-8 character at its end. */
export function completeUtf8Length(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 4; i -= 1) {
    const byte = bytes[i] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead
    const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return bytes.length - i < size ? i : bytes.length;
  }
  return bytes.length;
}

/**
 * Re-cuts input for the guarded parser into slices of at most SLICE_BYTES that end on character
 * boundaries: the parser mis-decodes a character whose bytes arrive in three or more writes.
 */
export class CharacterSlicer {
  private carry: Buffer | undefined;

  /** The complete slices of `chunk` (with what was carried over); keeps an incomplete character. */
  slices(chunk: Buffer): Buffer[] {
    const data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const usable = completeUtf8Length(data);
    const out: Buffer[] = [];
    for (let start = 0; start < usable; ) {
      const window = data.subarray(start, Math.min(start + SLICE_BYTES, usable));
      const end = start + window.length === usable ? usable : start + (completeUtf8Length(window) || window.length);
      out.push(data.subarray(start, end));
      start = end;
    }
    this.carry = usable < data.length ? Buffer.from(data.subarray(usable)) : undefined;
    return out;
  }

  /** Bytes still carried at the end of the input (an incomplete character), if any. */
  rest(): Buffer | undefined {
    return this.carry;
  }
}

