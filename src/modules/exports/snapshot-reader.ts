/**
 * Reads a stored JSON snapshot back as tasks, streaming: the file (a stream from the file store)
 * is parsed a chunk at a time with @streamparser/json and each top-level array element is yielded
 * and dropped, so converting a snapshot to JSON_MIN, CSV or TSV holds one chunk's tasks in
 * memory, not the file.
 */
import { JSONParser, TokenType } from '@streamparser/json';
import type { ExportTask } from './export-types.js';

/** Keys that would reach an object's prototype if assigned; the snapshot writer never emits them. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

interface Token {
  token: TokenType;
  value: unknown;
}

/**
 * The tasks of a snapshot file, read from `source` (its bytes), in file order. Throws if the file
 * is not a JSON array of tasks. Stopping early (the consumer returns) ends the source too.
 */
export async function* readSnapshotTasks(source: AsyncIterable<Uint8Array>): AsyncGenerator<ExportTask> {
  const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
  let queue: ExportTask[] = [];
  let failure: unknown;
  let previous: Token | undefined;
  parser.onToken = (t: Token) => {
    if (t.token === TokenType.COLON && previous?.token === TokenType.STRING && FORBIDDEN_KEYS.has(String(previous.value))) {
      failure ??= new Error(`The snapshot file has a forbidden key ${String(previous.value)}`);
      throw failure;
    }
    previous = t;
  };
  parser.onValue = ({ value }: { value?: unknown }) => {
    queue.push(value as ExportTask);
  };
  parser.onError = (err: Error) => {
    failure ??= err;
  };
  const check = () => {
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
  };
  for await (const chunk of source) {
    parser.write(chunk);
    check();
    const ready = queue;
    queue = [];
    yield* ready;
  }
  if (!parser.isEnded) parser.end();
  check();
  yield* queue;
}
