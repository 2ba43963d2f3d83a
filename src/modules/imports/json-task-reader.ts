/**
 * Streaming JSON task reading on @streamparser/json. A top-level array is read one element at a
 * time (each element is dropped from the parser's array once yielded, so memory stays flat); a
 * top-level object is one task. Keys are checked as tokens, before the parser assigns them.
 */
import { JSONParser, TokenType } from '@streamparser/json';
import { AppError } from '../../http/errors.js';
import {
  type RawTask,
  type ReadContext,
  forbiddenKey,
  importError,
  isForbiddenKey,
  taskTooLarge,
  toRawTask,
  tooManyTasks,
} from './task-shape.js';

/** Bytes handed to the parser at once: bounds how far a task can overrun its limit unseen. */
const SLICE_BYTES = 64 * 1024;

interface Token {
  token: TokenType;
  value: unknown;
  offset: number;
}

interface Emitted {
  value?: unknown;
  parent?: unknown;
  stack: readonly unknown[];
}

interface GuardHooks {
  token?(t: Token): void;
  value(e: Emitted): void;
  forbidden(key: string): AppError;
  syntax(reason: string): AppError;
}

const VALUE_STARTS: ReadonlySet<TokenType> = new Set([
  TokenType.LEFT_BRACE,
  TokenType.LEFT_BRACKET,
  TokenType.STRING,
  TokenType.NUMBER,
  TokenType.TRUE,
  TokenType.FALSE,
  TokenType.NULL,
]);

const PUNCTUATION: Partial<Record<TokenType, string>> = {
  [TokenType.LEFT_BRACE]: '"{"',
  [TokenType.RIGHT_BRACE]: '"}"',
  [TokenType.LEFT_BRACKET]: '"["',
  [TokenType.RIGHT_BRACKET]: '"]"',
  [TokenType.COLON]: '":"',
  [TokenType.COMMA]: '","',
};

function describeToken(t: Token): string {
  if (t.token === TokenType.STRING) return 'string';
  if (t.token === TokenType.NUMBER) return 'number';
  return PUNCTUATION[t.token] ?? String(t.value);
}

function describeByte(byte: number | undefined): string {
  if (byte === undefined) return 'input';
  if (byte >= 0x20 && byte < 0x7f) return JSON.stringify(String.fromCharCode(byte));
  return `byte 0x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * One JSONParser that refuses forbidden keys (a string token followed by a colon) and turns the
 * parser's errors into a reason with an absolute byte offset. Only the first error counts: the
 * parser keeps reporting follow-on errors once it has failed.
 */
class GuardedJson {
  private readonly parser: JSONParser;
  private previous: Token | undefined;
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkStart = 0;
  private failure: unknown;
  /** Bytes written so far. */
  written = 0;

  constructor(
    paths: string[],
    private readonly hooks: GuardHooks,
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
      return `invalid JSON at byte ${this.chunkStart + i}: unexpected ${describeByte(this.chunk[i])}${after}`;
    }
    if (/ended in (the middle of a token|mid-parsing)/.test(message)) return 'invalid JSON: the input ends in the middle of a value';
    if (this.previous && message.startsWith('Unexpected ')) {
      return `invalid JSON at byte ${this.previous.offset}: unexpected ${describeToken(this.previous)}`;
    }
    return 'invalid JSON';
  }
}

/**
 * Follows a whole JSON document: counts tasks as they start (so the task limit stops the read
 * early), measures each one in bytes, and queues finished tasks for the generator to yield.
 */
class JsonDocumentScanner {
  private readonly json: GuardedJson;
  private queue: RawTask[] = [];
  private root: 'array' | 'object' | 'other' | undefined;
  private depth = 0;
  private count = 0;
  /** Byte offset where the current task began; -1 between tasks. */
  private taskStart = -1;
  private lastOffset = 0;

  constructor(private readonly ctx: ReadContext) {
    this.json = new GuardedJson(['$', '$.*'], {
      token: (t) => this.onToken(t),
      value: (e) => this.onValue(e),
      forbidden: (key) => forbiddenKey(ctx, this.at(), key),
      syntax: (reason) => importError(ctx, reason),
    });
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

  private at(): string {
    return `task ${this.count}`;
  }

  private onToken(t: Token): void {
    if (this.root === undefined) {
      this.root = t.token === TokenType.LEFT_BRACKET ? 'array' : t.token === TokenType.LEFT_BRACE ? 'object' : 'other';
      if (this.root === 'object') this.beginTask(t.offset);
    } else if (this.root === 'array' && this.depth === 1 && VALUE_STARTS.has(t.token)) {
      this.beginTask(t.offset);
    }
    if (this.taskStart >= 0 && t.offset - this.taskStart >= this.ctx.maxTaskBytes) throw taskTooLarge(this.ctx, this.at());
    if (t.token === TokenType.LEFT_BRACE || t.token === TokenType.LEFT_BRACKET) this.depth += 1;
    if (t.token === TokenType.RIGHT_BRACE || t.token === TokenType.RIGHT_BRACKET) this.depth -= 1;
    this.lastOffset = t.offset;
  }

  private onValue(e: Emitted): void {
    if (e.stack.length === 1 && this.root === 'array' && Array.isArray(e.parent)) {
      this.finishTask(e.value);
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
function completeUtf8Length(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 4; i -= 1) {
    const byte = bytes[i] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead
    const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return bytes.length - i < size ? i : bytes.length;
  }
  return bytes.length;
}

/**
 * Re-cuts the input into slices of at most SLICE_BYTES that end on character boundaries: the
 * parser mis-decodes a character whose bytes arrive in three or more writes.
 */
async function* characterSlices(bytes: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let carry: Buffer | undefined;
  for await (const chunk of bytes) {
    const data = carry ? Buffer.concat([carry, chunk]) : chunk;
    const usable = completeUtf8Length(data);
    for (let start = 0; start < usable; ) {
      const window = data.subarray(start, Math.min(start + SLICE_BYTES, usable));
      const end = start + window.length === usable ? usable : start + (completeUtf8Length(window) || window.length);
      yield data.subarray(start, end);
      start = end;
    }
    carry = usable < data.length ? Buffer.from(data.subarray(usable)) : undefined;
  }
  if (carry) yield carry;
}

/** Yields the tasks of a JSON document (a list of tasks, or one task object) as they complete. */
export async function* readJsonTasks(bytes: AsyncIterable<Buffer>, ctx: ReadContext): AsyncGenerator<RawTask> {
  const scanner = new JsonDocumentScanner(ctx);
  for await (const slice of characterSlices(bytes)) {
    scanner.write(slice);
    yield* scanner.take();
  }
  scanner.end();
  yield* scanner.take();
}

/**
 * Parses one complete JSON value (a JSONL line) with the same key guard and error wording;
 * `at` ("line 7") prefixes every message.
 */
export function parseJsonValue(bytes: Uint8Array, at: string, ctx: ReadContext): unknown {
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
