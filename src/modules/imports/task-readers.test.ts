import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../http/errors.js';
import { type RawTask, type TaskFileFormat, type ReadTasksOptions, detectFormat, readTasks } from './task-readers.js';

const LIMITS = { maxTasks: 100, maxTaskBytes: 1000 };

async function* chunksOf(...parts: (string | Buffer)[]): AsyncGenerator<Buffer | string> {
  yield* parts;
}

type Input = string | Buffer | AsyncIterable<Buffer | string> | NodeJS.ReadableStream;

async function readAll(input: Input, format: TaskFileFormat, opts: Partial<ReadTasksOptions> = {}): Promise<RawTask[]> {
  const source = typeof input === 'string' || Buffer.isBuffer(input) ? chunksOf(input) : input;
  const tasks: RawTask[] = [];
  for await (const task of readTasks(source, format, { ...LIMITS, ...opts })) tasks.push(task);
  return tasks;
}

/** The one message of the 400 that reading `input` ends with, under `key`. */
async function errorOf(input: Input, format: TaskFileFormat, opts: Partial<ReadTasksOptions> = {}, key = 'tasks'): Promise<string> {
  const error = await readAll(input, format, opts).then(
    () => expect.fail('expected the read to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  const { status, validationErrors } = error as AppError;
  expect(status).toBe(400);
  expect(Object.keys(validationErrors ?? {})).toEqual([key]);
  expect(validationErrors?.[key]).toHaveLength(1);
  return validationErrors?.[key]?.[0] ?? '';
}

const task = (index: number, data: Record<string, unknown>, rest: Partial<RawTask> = {}): RawTask => ({
  index,
  data,
  annotations: [],
  predictions: [],
  meta: {},
  ...rest,
});

describe('JSON', () => {
  it("reads a list of tasks in both shapes: Label Studio's keeps its parts, a flat object is the data", async () => {
    const input = JSON.stringify([
      { id: 99, created_at: '2024-01-01', data: { text: 'a' }, annotations: [{ result: [] }], predictions: [{ score: 0.5 }], meta: { src: 'x' } },
      { text: 'b', n: 2 },
      { text: 'c', annotations: [1] },
    ]);
    expect(await readAll(input, 'json')).toEqual([
      task(0, { text: 'a' }, { annotations: [{ result: [] }], predictions: [{ score: 0.5 }], meta: { src: 'x' } }),
      task(1, { text: 'b', n: 2 }),
      task(2, { text: 'c', annotations: [1] }),
    ]);
  });

  it('reads a top-level object as one task, in either shape', async () => {
    expect(await readAll('{"text": "solo"}', 'json')).toEqual([task(0, { text: 'solo' })]);
    expect(await readAll('{"data": {"text": "solo"}, "predictions": []}', 'json')).toEqual([task(0, { text: 'solo' })]);
  });

  it('reads the pre-1.0 "completions" as annotations', async () => {
    expect(await readAll('[{"data": {"t": 1}, "completions": [{"result": []}]}]', 'json')).toEqual([task(0, { t: 1 }, { annotations: [{ result: [] }] })]);
  });

  it('reads from Node streams: a Readable and a file', async () => {
    expect(await readAll(Readable.from([Buffer.from('[{"a":'), Buffer.from('1}]')]), 'json')).toEqual([task(0, { a: 1 })]);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lv-import-')), 'tasks.json');
    fs.writeFileSync(file, '\ufeff[{"text": "from disk"}]');
    expect(await readAll(fs.createReadStream(file, { highWaterMark: 5 }), 'json')).toEqual([task(0, { text: 'from disk' })]);
  });
});

describe('JSONL', () => {
  it('reads one task per line, either shape, skipping blank lines and CRLF endings', async () => {
    const input = '{"text": "a"}\r\n\r\n   \n{"data": {"text": "b"}, "meta": {"k": 1}}\n';
    expect(await readAll(input, 'jsonl')).toEqual([task(0, { text: 'a' }), task(1, { text: 'b' }, { meta: { k: 1 } })]);
  });

  it('names the line of a problem', async () => {
    expect(await errorOf('{"a": 1}\n{"b" 2}', 'jsonl')).toBe('line 2: invalid JSON at byte 5: unexpected number');
    expect(await errorOf('{"a": 1}\n\n{"b":', 'jsonl')).toBe('line 3: invalid JSON: the input ends in the middle of a value');
    expect(await errorOf('{"a": 1} {"b": 2}', 'jsonl')).toBe('line 1: invalid JSON at byte 9: unexpected "{" after the end of the JSON value');
    expect(await errorOf('[1]', 'jsonl')).toBe('line 1: must be an object, not a list');
    expect(await errorOf('{"data": 5}', 'jsonl')).toBe('line 1: data must be an object, not a number');
  });
});

describe('CSV and TSV', () => {
  it('reads the header as data keys and each row as a task, keeping every cell a string', async () => {
    const input = 'text,zip,score\n"Hello, ""world""\nsecond line",007,3.10\nplain,,1e3\n';
    expect(await readAll(input, 'csv')).toEqual([
      task(0, { text: 'Hello, "world"\nsecond line', zip: '007', score: '3.10' }),
      task(1, { text: 'plain', zip: '', score: '1e3' }),
    ]);
  });

  it('skips blank lines and all-empty rows, fills short rows, keeps stray quotes, drops a BOM', async () => {
    const input = '\ufeffa,b\r\n\r\n1\r\n,\r\nsay "hi",2\r\n';
    expect(await readAll(input, 'csv')).toEqual([task(0, { a: '1', b: '' }), task(1, { a: 'say "hi"', b: '2' })]);
  });

  it('reads TSV with tabs, commas staying inside cells', async () => {
    expect(await readAll('text\tlabel\na, b\tx\n', 'tsv')).toEqual([task(0, { text: 'a, b', label: 'x' })]);
  });

  it('refuses bad headers and rows with their line', async () => {
    expect(await errorOf('a,b\n1,2\n1,2,3\n', 'csv')).toBe('line 3: 3 cells but the header row has 2 columns');
    expect(await errorOf('a,b,a\n1,2,3\n', 'csv')).toBe('line 1: the column name "a" appears more than once');
    expect(await errorOf('a,,c\n1,2,3\n', 'csv')).toBe('line 1: column 2 has no name in the header row');
    expect(await errorOf('a,b\n1,"open\n', 'csv')).toBe('line 2: a quoted cell is never closed');
    expect(await errorOf('a\n', 'csv')).toBe('the input contains no tasks');
    expect(await errorOf('\n\n', 'tsv')).toBe('the input is empty');
  });
});

describe('TXT', () => {
  it('makes one task per non-empty line under "text" or the given key', async () => {
    expect(await readAll('first line\r\n\n  \nsecond, with comma', 'txt')).toEqual([task(0, { text: 'first line' }), task(1, { text: 'second, with comma' })]);
    expect(await readAll('https://example.com/a.jpg\n', 'txt', { textKey: 'image' })).toEqual([task(0, { image: 'https://example.com/a.jpg' })]);
  });
});

describe('problems in JSON tasks', () => {
  it('reports invalid JSON with its byte offset', async () => {
    expect(await errorOf('[{"a":1},}', 'json')).toBe('invalid JSON at byte 9: unexpected "}"');
    expect(await errorOf('[{"a": tru}]', 'json')).toBe('invalid JSON at byte 10: unexpected "}"');
    expect(await errorOf('[{"a":1}] x', 'json')).toBe('invalid JSON at byte 10: unexpected "x" after the end of the JSON value');
    expect(await errorOf('[{"a": 1}', 'json')).toBe('invalid JSON: the input ends in the middle of a value');
  });

  it('refuses what is not a task', async () => {
    expect(await errorOf('"just text"', 'json')).toBe('must be a JSON list of tasks or a single task object');
    expect(await errorOf('[{"a":1}, "b"]', 'json')).toBe('task 2: must be an object, not a string');
    expect(await errorOf('[null]', 'json')).toBe('task 1: must be an object, not null');
    expect(await errorOf('[[{"a":1}]]', 'json')).toBe('task 1: must be an object, not a list');
  });

  it('checks the parts of a task in Label Studio format', async () => {
    expect(await errorOf('[{"a":1}, {"data": "x"}]', 'json')).toBe('task 2: data must be an object, not a string');
    expect(await errorOf('[{"data": null}]', 'json')).toBe('task 1: data must be an object, not null');
    expect(await errorOf('[{"data": [1]}]', 'json')).toBe('task 1: data must be an object, not a list');
    expect(await errorOf('[{"data": {}, "annotations": {}}]', 'json')).toBe('task 1: annotations must be a list, not an object');
    expect(await errorOf('[{"data": {}, "predictions": "p"}]', 'json')).toBe('task 1: predictions must be a list, not a string');
    expect(await errorOf('[{"data": {}, "annotations": null}]', 'json')).toBe('task 1: annotations must be a list, not null');
    expect(await errorOf('[{"data": {}, "meta": []}]', 'json')).toBe('task 1: meta must be an object, not a list');
  });

  it('refuses empty input and a list without tasks', async () => {
    expect(await errorOf('', 'json')).toBe('the input is empty');
    expect(await errorOf(' \n\t', 'json')).toBe('the input is empty');
    expect(await errorOf('\ufeff', 'json')).toBe('the input is empty');
    expect(await errorOf('[ ]', 'json')).toBe('the input contains no tasks');
    expect(await errorOf('', 'jsonl')).toBe('the input is empty');
    expect(await errorOf('', 'csv')).toBe('the input is empty');
    expect(await errorOf('\n \n', 'txt')).toBe('the input is empty');
  });

  it('reports under the given key, such as the uploaded file name', async () => {
    expect(await errorOf('[]', 'json', { errorKey: 'batch-1.json' }, 'batch-1.json')).toBe('the input contains no tasks');
  });
});

describe('limits', () => {
  const tooMany = 'more than 2 tasks (the limit for one import)';

  it('refuses more tasks than maxTasks, in every format', async () => {
    expect(await errorOf('[{"a":1},{"a":2},{"a":3}]', 'json', { maxTasks: 2 })).toBe(tooMany);
    expect(await readAll('[{"a":1},{"a":2}]', 'json', { maxTasks: 2 })).toHaveLength(2);
    expect(await errorOf('{"a":1}\n{"a":2}\n{"a":3}', 'jsonl', { maxTasks: 2 })).toBe(tooMany);
    expect(await errorOf('a\n1\n2\n3\n', 'csv', { maxTasks: 2 })).toBe(tooMany);
    expect(await errorOf('1\n2\n3\n', 'txt', { maxTasks: 2 })).toBe(tooMany);
  });

  it('refuses a task over maxTaskBytes, in every format, naming it', async () => {
    const big = 'x'.repeat(60);
    const limit = { maxTaskBytes: 50 };
    const message = (at: string) => `${at}: larger than 50 bytes (the limit for one task)`;
    expect(await errorOf(`[{"a":"x"},{"a":"${big}"}]`, 'json', limit)).toBe(message('task 2'));
    expect(await errorOf(`{"a":"${big}"}`, 'json', limit)).toBe(message('task 1'));
    expect(await errorOf(`{"a":"x"}\n{"a":"${big}"}`, 'jsonl', limit)).toBe(message('line 2'));
    expect(await errorOf(`a\nshort\n${big}\n`, 'csv', limit)).toBe(message('line 3'));
    expect(await errorOf(`short\n${big}`, 'txt', limit)).toBe(message('line 2'));
    const exact = `{"a":"${'x'.repeat(42)}"}`; // 50 bytes: at the limit is fine
    expect(await readAll(`[${exact}]`, 'json', limit)).toHaveLength(1);
  });

  it('stops reading a runaway task without buffering it, and closes the source', async () => {
    let pulled = 0;
    let closed = false;
    async function* endlessString(): AsyncGenerator<string> {
      try {
        yield '[{"text": "';
        for (; pulled < 1000; pulled += 1) yield 'y'.repeat(1024 * 1024);
      } finally {
        closed = true;
      }
    }
    expect(await errorOf(endlessString(), 'json', { maxTaskBytes: 2 * 1024 * 1024 })).toBe('task 1: larger than 2097152 bytes (the limit for one task)');
    expect(pulled).toBeLessThan(5);
    expect(closed).toBe(true);
  });
});

describe('prototype pollution', () => {
  it('refuses __proto__, constructor and prototype keys at any depth, however spelled', async () => {
    expect(await errorOf('[{"a":1}, {"__proto__": {"polluted": true}}]', 'json')).toBe('task 2: the key "__proto__" is not allowed');
    expect(await errorOf('[{"\\u005f_proto__": {"polluted": true}}]', 'json')).toBe('task 1: the key "__proto__" is not allowed');
    expect(await errorOf('{"data": {"a": [{"constructor": {"prototype": {}}}]}}', 'json')).toBe('task 1: the key "constructor" is not allowed');
    expect(await errorOf('[{"data": {}, "predictions": [{"prototype": 1}]}]', 'json')).toBe('task 1: the key "prototype" is not allowed');
    expect(await errorOf('{"ok": 1}\n{"__proto__": {"polluted": true}}', 'jsonl')).toBe('line 2: the key "__proto__" is not allowed');
    expect(await errorOf('text,__proto__\na,b\n', 'csv')).toBe('line 1: the key "__proto__" is not allowed');
    expect(await errorOf('a line', 'txt', { textKey: 'constructor' })).toBe('the data key "constructor" is not allowed');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts those words as values', async () => {
    expect(await readAll('[{"text": "__proto__", "list": ["constructor", "prototype"]}]', 'json')).toEqual([
      task(0, { text: '__proto__', list: ['constructor', 'prototype'] }),
    ]);
  });
});

describe('JSON: the native fast path and the guarded parser agree', () => {
  /** The text as Buffers of `size` bytes (the last one shorter). */
  const cut = (text: string, size: number) => {
    const bytes = Buffer.from(text);
    return chunksOf(...Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));
  };

  it('reads tasks the guarded parser checks (escapes, key-like strings) in place, and the plain ones around them', async () => {
    const input = '[{"t": "a"}, {"t": "\\u00e9\\ud83d\\ude00"}, {"t": "constructor", "prototype_like": 1}, {"l": ["__proto__"]}, {"t": "e"}]';
    const expected = [task(0, { t: 'a' }), task(1, { t: 'é😀' }), task(2, { t: 'constructor', prototype_like: 1 }), task(3, { l: ['__proto__'] }), task(4, { t: 'e' })];
    for (const size of [1, 2, 3, 7, 1000]) expect(await readAll(cut(input, size), 'json'), `chunks of ${size}`).toEqual(expected);
  });

  it('refuses forbidden keys, escaped or not, wherever the input is cut', async () => {
    const cases: [string, string][] = [
      ['[{"a":1},{"b":{"__proto__":{}}}]', 'task 2: the key "__proto__" is not allowed'],
      ['[{"a":1},{"b":[{"\\u0063onstructor":1}]}]', 'task 2: the key "constructor" is not allowed'],
      ['[{"a":1},{"prot\\u006ftype":1}]', 'task 2: the key "prototype" is not allowed'],
    ];
    for (const [text, message] of cases) {
      const bytes = Buffer.from(text);
      for (let at = 1; at < bytes.length; at += 1) {
        expect(await errorOf(chunksOf(bytes.subarray(0, at), bytes.subarray(at)), 'json'), `${text} cut at ${at}`).toBe(message);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['plain tasks', 'é'],
    ['tasks the guarded parser checks', '\\u00e9'],
  ])('reports byte offsets in the whole input, after any number of %s', async (_kind, text) => {
    const head = `[${Array.from({ length: 2000 }, (_, i) => `{"n": ${i}, "s": "${text}"}`).join(', ')}`;
    const end = Buffer.byteLength(head);
    const limits = { maxTasks: 5000 };
    for (const size of [5, 4096, 100_000]) {
      expect(await errorOf(cut(`${head}, }`, size), 'json', limits)).toBe(`invalid JSON at byte ${end + 2}: unexpected "}"`);
      expect(await errorOf(cut(`${head}, {"a": tru}]`, size), 'json', limits)).toBe(`invalid JSON at byte ${end + 11}: unexpected "}"`);
      expect(await errorOf(cut(`${head} {"a": 1}]`, size), 'json', limits)).toBe(`invalid JSON at byte ${end + 1}: unexpected "{"`);
      expect(await errorOf(cut(`${head}]\n x`, size), 'json', limits)).toBe(`invalid JSON at byte ${end + 3}: unexpected "x" after the end of the JSON value`);
      expect(await errorOf(cut(`${head}, 7]`, size), 'json', limits)).toBe('task 2001: must be an object, not a number');
      expect(await errorOf(cut(head, size), 'json', limits)).toBe('invalid JSON: the input ends in the middle of a value');
    }
  });

  it('measures a task in bytes, multi-byte characters and escapes included, on either path', async () => {
    const limit = { maxTaskBytes: 50 };
    const plain = `{"a":"${'é'.repeat(21)}"}`; // 50 bytes
    const escaped = `{"a":"${'\\u00e9'.repeat(7)}"}`; // 50 bytes
    expect(await readAll(`[${plain}, ${escaped}]`, 'json', limit)).toHaveLength(2);
    expect(await errorOf(`[${plain}, ${escaped.replace('"a"', '"ab"')}]`, 'json', limit)).toBe('task 2: larger than 50 bytes (the limit for one task)');
    expect(await errorOf(`[${plain.replace('é', 'éx')}]`, 'json', limit)).toBe('task 1: larger than 50 bytes (the limit for one task)');
  });
});

describe('JSONL: the native fast path and the guarded parser agree', () => {
  it('refuses escaped forbidden keys and reads escaped values', async () => {
    expect(await errorOf('{"ok": 1}\n{"\\u005f_proto__": {"polluted": true}}', 'jsonl')).toBe('line 2: the key "__proto__" is not allowed');
    expect(await errorOf('{"a": [{"constructor": 1}]}', 'jsonl')).toBe('line 1: the key "constructor" is not allowed');
    expect(await readAll('{"t": "\\u00e9", "k": "prototype"}\n', 'jsonl')).toEqual([task(0, { t: 'é', k: 'prototype' })]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('detectFormat', () => {
  it('knows the task file extensions, in any case and after any path', () => {
    expect(detectFormat('tasks.json')).toBe('json');
    expect(detectFormat('C:\\exports\\Tasks.JSON')).toBe('json');
    expect(detectFormat('rows.jsonl')).toBe('jsonl');
    expect(detectFormat('rows.ndjson')).toBe('jsonl');
    expect(detectFormat('dir/data.csv')).toBe('csv');
    expect(detectFormat('data.tsv')).toBe('tsv');
    expect(detectFormat('urls.txt')).toBe('txt');
  });

  it("knows the media extensions Label Studio's guide lists, plus jpeg and pdf", () => {
    for (const ext of ['aiff', 'au', 'flac', 'm4a', 'mp3', 'ogg', 'wav', 'html', 'htm', 'xml', 'bmp', 'gif', 'jpg', 'jpeg', 'png', 'svg', 'tiff', 'webp', 'mp4', 'webm', 'avi', 'pdf']) {
      expect(detectFormat(`file.${ext}`), ext).toBe('media');
    }
    expect(detectFormat('IMG_0001.JPG')).toBe('media');
  });

  it('uses the content type only when the name has no extension', () => {
    expect(detectFormat('upload', 'application/json; charset=utf-8')).toBe('json');
    expect(detectFormat('upload', 'text/CSV')).toBe('csv');
    expect(detectFormat('upload', 'application/x-ndjson')).toBe('jsonl');
    expect(detectFormat('upload', 'image/png')).toBe('media');
    expect(detectFormat('upload', 'application/pdf')).toBe('media');
    expect(detectFormat('tasks.json', 'application/octet-stream')).toBe('json');
    expect(detectFormat('payload.exe', 'image/png')).toBeNull();
    expect(detectFormat('upload', 'application/octet-stream')).toBeNull();
    expect(detectFormat('upload')).toBeNull();
    expect(detectFormat('archive.zip')).toBeNull();
  });
});

describe('chunk boundaries', () => {
  const samples: [TaskFileFormat, string][] = [
    ['json', '[{"text": "café ☕ 😀 中文", "n": -1.5e3}, {"data": {"ok": true, "nil": null, "esc": "a\\"b\\u00e9"}, "annotations": [{"result": []}]}]'],
    ['jsonl', '{"text": "naïve 😀"}\r\n\n{"data": {"n": 12345}}\n'],
    ['csv', 'text,lang\n"ünïcödé, 😀\nline two",de\nplain,日本語\n'],
    ['tsv', 'text\tlang\nçà\t😀\n'],
    ['txt', 'première ligne\n😀 second\n'],
  ];

  it.each(samples)('reads %s the same when cut at every byte, including inside characters and tokens', async (format, text) => {
    const bytes = Buffer.from(`\ufeff${text}`);
    const whole = await readAll(bytes, format);
    expect(whole.length).toBeGreaterThan(0);
    for (let cut = 1; cut < bytes.length; cut += 1) {
      expect(await readAll(chunksOf(bytes.subarray(0, cut), bytes.subarray(cut)), format), `cut at ${cut}`).toEqual(whole);
    }
    const oneByteChunks = Array.from(bytes, (b) => Buffer.from([b]));
    expect(await readAll(chunksOf(...oneByteChunks), format)).toEqual(whole);
  });

  it.each(['json', 'jsonl', 'csv', 'txt'] as const)('passes a failing source through unchanged (%s): it is not bad input', async (format) => {
    async function* broken(): AsyncGenerator<string> {
      yield { json: '[{"a": 1},', jsonl: '{"a": 1}\n', csv: 'a\n1\n', txt: 'a\n' }[format];
      throw new Error('connection reset');
    }
    await expect(readAll(broken(), format)).rejects.toThrow(/^connection reset$/);
  });

  it('accepts string chunks mixed with Buffers', async () => {
    expect(await readAll(chunksOf('[{"a":', Buffer.from('"é"}'), ']'), 'json')).toEqual([task(0, { a: 'é' })]);
  });
});

describe('streaming', () => {
  const shapes: [TaskFileFormat, string, (i: number) => string][] = [
    ['json', '[', (i) => `${i ? ',' : ''}{"n": ${i}}`],
    ['jsonl', '', (i) => `{"n": ${i}}\n`],
    ['csv', 'n\n', (i) => `${i}\n`],
    ['txt', '', (i) => `${i}\n`],
  ];

  it.each(shapes)('reads %s lazily and closes the source when the consumer stops', async (format, head, row) => {
    let pulled = 0;
    let closed = false;
    async function* source(): AsyncGenerator<string> {
      try {
        yield head;
        for (; pulled < 100_000; pulled += 1) yield row(pulled);
      } finally {
        closed = true;
      }
    }
    const tasks = readTasks(source(), format, { ...LIMITS, textKey: 'n' });
    expect(pulled).toBe(0);
    const seen: unknown[] = [];
    for await (const t of tasks) {
      seen.push(String(t.data.n));
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(['0', '1', '2']);
    expect(closed).toBe(true);
    expect(pulled).toBeLessThan(10_000); // read-ahead is bounded by stream buffers (16 KB for CSV)
  });

  /** Heap in use after a full collection, so the figure is what is retained, not garbage. */
  function retainedHeap(): number {
    v8.setFlagsFromString('--expose-gc');
    (vm.runInNewContext('gc') as () => void)();
    return process.memoryUsage().heapUsed;
  }

  async function expectFlatMemory(tasks: AsyncIterable<RawTask>, expected: number): Promise<void> {
    const before = retainedHeap();
    let count = 0;
    let growth = 0;
    for await (const t of tasks) {
      count += 1;
      expect(t.index).toBe(count - 1);
      if (count % 50_000 === 0) growth = Math.max(growth, retainedHeap() - before);
    }
    expect(count).toBe(expected);
    expect(growth).toBeLessThan(60 * 1024 * 1024);
  }

  it('reads 300,000 JSON tasks (about 60 MB, never materialised) with flat memory', async () => {
    async function* generated(count: number): AsyncGenerator<string> {
      yield '[';
      for (let i = 0; i < count; i += 1000) {
        const batch: string[] = [];
        for (let j = i; j < Math.min(i + 1000, count); j += 1) {
          batch.push(JSON.stringify({ data: { text: `task ${j} ${'lorem ipsum '.repeat(8)}`, n: j }, predictions: [{ result: [], score: 0.5 }] }));
        }
        yield (i === 0 ? '' : ',') + batch.join(',');
      }
      yield ']';
    }
    await expectFlatMemory(readTasks(generated(300_000), 'json', { maxTasks: 300_000, maxTaskBytes: 4096 }), 300_000);
  });

  it('reads 200,000 CSV rows with flat memory', async () => {
    async function* generated(count: number): AsyncGenerator<string> {
      yield 'text,n\n';
      for (let i = 0; i < count; i += 1000) {
        let rows = '';
        for (let j = i; j < i + 1000; j += 1) rows += `"row ${j}, ${'dolor sit amet '.repeat(6)}",${j}\n`;
        yield rows;
      }
    }
    await expectFlatMemory(readTasks(generated(200_000), 'csv', { maxTasks: 200_000, maxTaskBytes: 4096 }), 200_000);
  });
});
