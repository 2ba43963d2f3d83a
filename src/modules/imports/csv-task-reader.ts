/**
 * CSV and TSV: the header row names the data keys, and each later row is one task
 * `{data: {column: cell}}`. Cells stay strings, exactly as written (see readDelimitedTasks).
 */
import { Readable, pipeline } from 'node:stream';
import { parse } from 'csv-parse';
import { AppError } from '../../http/errors.js';
import { type RawTask, type ReadContext, forbiddenKey, importError, isForbiddenKey, taskTooLarge, tooManyTasks } from './task-shape.js';

interface Row {
  record: string[];
  info: { lines: number };
}

const CSV_PROBLEMS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted cell is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'unexpected character after a closing quote',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'unexpected character after a closing quote',
};

/**
 * Our own wording for csv-parse's errors (its messages can quote cell contents); any other error
 * (ours, or the source failing) passes through unchanged.
 */
function csvError(err: unknown, ctx: ReadContext): unknown {
  const { code, lines } = (err ?? {}) as { code?: unknown; lines?: unknown };
  if (err instanceof AppError || typeof code !== 'string' || !code.startsWith('CSV_')) return err;
  const at = typeof lines === 'number' ? `line ${lines}` : 'CSV';
  if (code === 'CSV_MAX_RECORD_SIZE') return taskTooLarge(ctx, at);
  const problem = CSV_PROBLEMS[code] ?? 'malformed CSV';
  return importError(ctx, `${at}: ${problem}`);
}

/** Stops the source and waits until it is closed, so an early stop releases it at once. */
async function closed(input: Readable): Promise<void> {
  if (!input.destroyed) input.destroy();
  if (!input.closed) await new Promise((resolve) => input.once('close', resolve));
}

/** Checks the header row: every column named, once, and no forbidden names. */
function checkHeaders(headers: string[], ctx: ReadContext): void {
  const seen = new Set<string>();
  headers.forEach((name, i) => {
    if (name.trim() === '') throw importError(ctx, `line 1: column ${i + 1} has no name in the header row`);
    if (isForbiddenKey(name)) throw forbiddenKey(ctx, 'line 1', name);
    if (seen.has(name)) throw importError(ctx, `line 1: the column name "${name}" appears more than once`);
    seen.add(name);
  });
}

/** Builds a row's data; a short row's missing trailing cells become empty strings. */
function rowData(headers: string[], row: Row, ctx: ReadContext): Record<string, unknown> {
  const { record, info } = row;
  if (record.length > headers.length) {
    throw importError(ctx, `line ${info.lines}: ${record.length} cells but the header row has ${headers.length} columns`);
  }
  const data: Record<string, unknown> = {};
  headers.forEach((name, i) => {
    data[name] = record[i] ?? '';
  });
  return data;
}

/**
 * Yields one task per CSV/TSV row after the header. Cells are kept as strings: Label Studio's
 * docs only say column names become data keys, and inferring numbers loses leading zeros and
 * precision ("007", long ids). Blank lines and rows whose cells are all empty are skipped;
 * quoting follows RFC 4180, with a stray quote inside an unquoted cell kept as text.
 */
export async function* readDelimitedTasks(bytes: AsyncIterable<Buffer>, delimiter: ',' | '\t', ctx: ReadContext): AsyncGenerator<RawTask> {
  const parser = parse({
    delimiter,
    info: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    max_record_size: ctx.maxTaskBytes,
  });
  const input = Readable.from(bytes);
  pipeline(input, parser, () => {}); // a failure surfaces through the iteration below
  let headers: string[] | undefined;
  let index = 0;
  try {
    for await (const row of parser as AsyncIterable<Row>) {
      if (headers === undefined) {
        checkHeaders(row.record, ctx);
        headers = row.record;
        continue;
      }
      if (index >= ctx.maxTasks) throw tooManyTasks(ctx);
      yield { index, data: rowData(headers, row, ctx), annotations: [], predictions: [], meta: {} };
      index += 1;
    }
  } catch (err) {
    throw csvError(err, ctx);
  } finally {
    await closed(input);
  }
  if (headers === undefined) throw importError(ctx, 'the input is empty');
  if (index === 0) throw importError(ctx, 'the input contains no tasks');
}
