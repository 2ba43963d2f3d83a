/**
 * Line-based formats: TXT (one task per non-empty line) and JSONL (one JSON task per line).
 * Lines are cut on the newline byte, which never occurs inside a multi-byte UTF-8 character, so
 * a chunk boundary anywhere is harmless; a line longer than the task limit is refused unread.
 */
import { parseJsonValue } from './json-task-reader.js';
import { type RawTask, type ReadContext, importError, taskTooLarge, toRawTask, tooManyTasks } from './task-shape.js';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** One line of input without its line ending; `number` counts from 1. */
export interface Line {
  number: number;
  bytes: Buffer;
}

function withoutCr(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN ? bytes.subarray(0, -1) : bytes;
}

/** Splits a byte stream into lines (LF or CRLF), refusing any line over the task limit. */
export async function* splitLines(bytes: AsyncIterable<Buffer>, ctx: ReadContext): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let partBytes = 0;
  let number = 1;
  const checkSize = (extra: number) => {
    if (partBytes + extra > ctx.maxTaskBytes + 1) throw taskTooLarge(ctx, `line ${number}`); // +1: a trailing CR
  };
  for await (const chunk of bytes) {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, end);
      checkSize(piece.length);
      yield { number, bytes: withoutCr(parts.length === 0 ? piece : Buffer.concat([...parts, piece])) };
      parts = [];
      partBytes = 0;
      number += 1;
      start = end + 1;
    }
    const rest = chunk.subarray(start);
    checkSize(rest.length);
    parts.push(rest);
    partBytes += rest.length;
  }
  if (partBytes > 0) yield { number, bytes: withoutCr(Buffer.concat(parts)) };
}

/** True for a line of JSON whitespace only (space, tab, CR). */
function isBlankJson(bytes: Buffer): boolean {
  return bytes.every((b) => b === 0x20 || b === 0x09 || b === CARRIAGE_RETURN);
}

/** Yields one task per non-blank line of a text file: `{data: {[textKey]: line}}`. */
export async function* readTxtTasks(bytes: AsyncIterable<Buffer>, ctx: ReadContext, textKey: string): AsyncGenerator<RawTask> {
  let index = 0;
  for await (const line of splitLines(bytes, ctx)) {
    const text = line.bytes.toString('utf8');
    if (text.trim() === '') continue;
    if (line.bytes.length > ctx.maxTaskBytes) throw taskTooLarge(ctx, `line ${line.number}`);
    if (index >= ctx.maxTasks) throw tooManyTasks(ctx);
    yield { index, data: { [textKey]: text }, annotations: [], predictions: [], meta: {} };
    index += 1;
  }
  if (index === 0) throw importError(ctx, 'the input is empty');
}

/** Yields one task per non-blank line of a JSONL file, each line a task in either shape. */
export async function* readJsonlTasks(bytes: AsyncIterable<Buffer>, ctx: ReadContext): AsyncGenerator<RawTask> {
  let index = 0;
  for await (const line of splitLines(bytes, ctx)) {
    if (isBlankJson(line.bytes)) continue;
    const at = `line ${line.number}`;
    if (line.bytes.length > ctx.maxTaskBytes) throw taskTooLarge(ctx, at);
    if (index >= ctx.maxTasks) throw tooManyTasks(ctx);
    yield toRawTask(parseJsonValue(line.bytes, at, ctx), index, at, ctx);
    index += 1;
  }
  if (index === 0) throw importError(ctx, 'the input is empty');
}
