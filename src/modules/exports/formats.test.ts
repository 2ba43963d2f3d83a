import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  EXPORT_ANNOTATION_KEYS,
  EXPORT_PREDICTION_KEYS,
  EXPORT_TASK_KEYS,
  type ExportAnnotation,
  type ExportControlInfo,
  type ExportPrediction,
  type ExportResult,
  type ExportTask,
} from './export-types.js';
import { EXPORT_CHUNK_CHARS, EXPORT_FORMATS, csvColumns, exportCsv, exportJson, exportJsonMin, toMinTask } from './formats.js';

// Fixtures: three small projects whose tasks have 0, 1 and 2 annotations and one prediction each.

const at = (day: number, minute = 0) => `2024-05-0${day}T10:${String(minute).padStart(2, '0')}:00.000000Z`;

function annotation(id: number, task: number, project: number, result: ExportResult[], over: Partial<ExportAnnotation> = {}): ExportAnnotation {
  return {
    id,
    completed_by: 7,
    result,
    was_cancelled: false,
    ground_truth: false,
    created_at: at(2),
    updated_at: at(2, 5),
    draft_created_at: null,
    lead_time: 12.5,
    prediction: {},
    result_count: result.length,
    unique_id: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
    import_id: null,
    last_action: null,
    task,
    project,
    updated_by: 7,
    parent_prediction: null,
    parent_annotation: null,
    last_created_by: null,
    ...over,
  };
}

function prediction(id: number, task: number, project: number, result: ExportResult[]): ExportPrediction {
  const times = { created_at: at(1), updated_at: at(1) };
  return { id, model_version: 'v1', created_ago: '3\u00a0days', result, score: 0.5, cluster: null, neighbors: null, mislabeling: 0, ...times, task, project };
}

function task(id: number, project: number, data: Record<string, unknown>, annotations: ExportAnnotation[], predictions: ExportPrediction[]): ExportTask {
  const cancelled = annotations.filter((a) => a.was_cancelled).length;
  return {
    id, annotations, file_upload: 'tasks.json', drafts: [], predictions, data, meta: {}, created_at: at(1), updated_at: at(3),
    inner_id: id, total_annotations: annotations.length - cancelled, cancelled_annotations: cancelled, total_predictions: predictions.length,
    comment_count: 0, unresolved_comment_count: 0, last_comment_updated_at: null, project, updated_by: 7, comment_authors: [],
  };
}

const box = (id: string, x: number, label: string): ExportResult => ({
  id, type: 'rectanglelabels', from_name: 'label', to_name: 'image', origin: 'manual', image_rotation: 0, original_width: 640, original_height: 480,
  value: { x, y: 10, width: 20, height: 30, rotation: 0, rectanglelabels: [label] },
});
const span = (id: string, start: number, end: number, text: string, label: string): ExportResult => ({
  id, type: 'labels', from_name: 'label', to_name: 'text', origin: 'manual', value: { start, end, text, labels: [label] },
});
const choices = (name: string, picked: string[]): ExportResult => ({ id: `${name}-1`, type: 'choices', from_name: name, to_name: 'text', value: { choices: picked } });
const texts = (lines: string[]): ExportResult => ({ id: 'c-1', type: 'textarea', from_name: 'comment', to_name: 'text', value: { text: lines } });
const stars = (rating: number): ExportResult => ({ id: 's-1', type: 'rating', from_name: 'stars', to_name: 'text', value: { rating } });

const IMAGE: ExportControlInfo = { controls: [{ name: 'label', type: 'RectangleLabels' }], dataKeys: ['image'] };
const imageTasks = [
  task(1, 1, { image: '/data/upload/1/a.png' }, [], [prediction(1, 1, 1, [box('p1', 5, 'Car')])]),
  task(2, 1, { image: '/data/upload/1/b.png' }, [annotation(21, 2, 1, [box('b1', 5, 'Airplane'), box('b2', 50, 'Car')])], [prediction(2, 2, 1, [box('p2', 6, 'Car')])]),
  task(3, 1, { image: '/data/upload/1/c.png' }, [
    annotation(31, 3, 1, [box('b3', 1, 'Car')], { created_at: at(2) }),
    annotation(32, 3, 1, [box('b4', 2, 'Airplane')], { created_at: at(4), completed_by: { id: 8, email: 'bo@example.com', first_name: 'Bo', last_name: '' } }),
  ], [prediction(3, 3, 1, [box('p3', 7, 'Car')])]),
];

const NER: ExportControlInfo = { controls: [{ name: 'label', type: 'Labels' }], dataKeys: ['text'] };
const relation: ExportResult = { type: 'relation', from_id: 'n1', to_id: 'n2', direction: 'right', labels: ['works_at'] };
const nerTasks = [
  task(11, 2, { text: 'Ada at IBM' }, [], [prediction(11, 11, 2, [span('p', 0, 3, 'Ada', 'PER')])]),
  task(12, 2, { text: 'Ada at IBM' }, [annotation(121, 12, 2, [span('n1', 0, 3, 'Ada', 'PER'), span('n2', 7, 10, 'IBM', 'ORG'), relation])], [prediction(12, 12, 2, [])]),
  task(13, 2, { text: 'Bob' }, [
    annotation(131, 13, 2, [span('n3', 0, 3, 'Bob', 'PER')]),
    annotation(132, 13, 2, [], { was_cancelled: true, created_at: at(5) }),
  ], [prediction(13, 13, 2, [])]),
];

const REVIEWS: ExportControlInfo = {
  controls: [{ name: 'sentiment', type: 'Choices' }, { name: 'topics', type: 'Choices' }, { name: 'comment', type: 'TextArea' }, { name: 'stars', type: 'Rating' }],
  dataKeys: ['review'],
};
const tricky = 'Cheap, "sturdy"\nand\tquiet';
const reviewTasks = [
  task(21, 3, { review: 'Fine.' }, [], [prediction(21, 21, 3, [choices('sentiment', ['Neutral'])])]),
  task(22, 3, { review: tricky }, [
    annotation(221, 22, 3, [choices('sentiment', ['Positive']), choices('topics', ['price', 'quality']), texts(['Great value']), stars(4)], {
      completed_by: { id: 9, email: 'ann@example.com', first_name: 'Ann', last_name: 'Lee' },
    }),
  ], [prediction(22, 22, 3, [choices('sentiment', ['Positive'])])]),
  task(23, 3, { review: 'Loud' }, [
    annotation(231, 23, 3, [choices('sentiment', ['Negative'])], { created_at: at(2), lead_time: null }),
    annotation(232, 23, 3, [choices('sentiment', ['Neutral']), texts(['too loud', 'too big'])], { created_at: at(3) }),
  ], [prediction(23, 23, 3, [])]),
];

async function* stream<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}
async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}
const none = { annotator: null, annotation_id: null, created_at: null, updated_at: null, lead_time: null };
const meta = (id: number, annotator: unknown, created = at(2), lead_time: number | null = 12.5) => ({ annotator, annotation_id: id, created_at: created, updated_at: at(2, 5), lead_time });

describe('export formats', () => {
  it("lists JSON, JSON_MIN, CSV and TSV in Label Studio's shape and titles", () => {
    expect(EXPORT_FORMATS.map((f) => [f.name, f.title])).toEqual([['JSON', 'JSON'], ['JSON_MIN', 'JSON-MIN'], ['CSV', 'CSV'], ['TSV', 'TSV']]);
    for (const f of EXPORT_FORMATS) {
      expect(Object.keys(f).every((k) => ['name', 'title', 'description', 'link', 'tags'].includes(k))).toBe(true);
      expect(f.description.length).toBeGreaterThan(20);
      expect(f.link).toMatch(/^https:\/\/labelstud\.io\/guide\/export\.html#/);
    }
    expect(Object.isFrozen(EXPORT_FORMATS[0])).toBe(true);
  });
});

describe('JSON', () => {
  it.each([['image', imageTasks], ['NER', nerTasks], ['classification', reviewTasks]])('%s: parses back to exactly the input', async (_name, tasks) => {
    const text = await collect(exportJson(stream(tasks)));
    expect(JSON.parse(text)).toEqual(tasks);
    expect(text).not.toContain('\n');
  });

  it("writes keys in Label Studio's export order, whatever order the objects were built in", async () => {
    const source = imageTasks[2]!;
    const shuffled = { ...Object.fromEntries(Object.entries(source).reverse()), annotations: source.annotations.map((a) => Object.fromEntries(Object.entries(a).reverse())) };
    const [out] = JSON.parse(await collect(exportJson(stream([shuffled as unknown as ExportTask]))));
    expect(Object.keys(out)).toEqual([...EXPORT_TASK_KEYS]);
    expect(Object.keys(out.annotations[0])).toEqual([...EXPORT_ANNOTATION_KEYS]);
    expect(Object.keys(out.predictions[0])).toEqual(EXPORT_PREDICTION_KEYS.filter((k) => k !== 'model' && k !== 'model_run'));
  });

  it('writes an empty array for no tasks', async () => {
    expect(await collect(exportJson(stream([])))).toBe('[]');
  });
});

describe('JSON_MIN', () => {
  it('image boxes: region values with the labels and the original size; no annotations gives a bare row', () => {
    const region = (x: number, label: string) => ({ x, y: 10, width: 20, height: 30, rotation: 0, rectanglelabels: [label], original_width: 640, original_height: 480 });
    expect(imageTasks.flatMap((t) => toMinTask(t, IMAGE))).toEqual([
      { image: '/data/upload/1/a.png', id: 1, ...none },
      { image: '/data/upload/1/b.png', id: 2, label: [region(5, 'Airplane'), region(50, 'Car')], ...meta(21, 7) },
      { image: '/data/upload/1/c.png', id: 3, label: [region(2, 'Airplane')], ...meta(32, 'bo@example.com', at(4)) },
      { image: '/data/upload/1/c.png', id: 3, label: [region(1, 'Car')], ...meta(31, 7) },
    ]);
    expect(Object.keys(toMinTask(imageTasks[1]!, IMAGE)[0]!)).toEqual(['image', 'id', 'label', 'annotator', 'annotation_id', 'created_at', 'updated_at', 'lead_time']);
  });

  it('NER spans: start, end, text and labels; relations and skipped annotations are left out', () => {
    expect(nerTasks.flatMap((t) => toMinTask(t, NER))).toEqual([
      { text: 'Ada at IBM', id: 11, ...none },
      { text: 'Ada at IBM', id: 12, label: [{ start: 0, end: 3, text: 'Ada', labels: ['PER'] }, { start: 7, end: 10, text: 'IBM', labels: ['ORG'] }], ...meta(121, 7) },
      { text: 'Bob', id: 13, label: [{ start: 0, end: 3, text: 'Bob', labels: ['PER'] }], ...meta(131, 7) },
    ]);
  });

  it('classification: one choice or text is a string, several stay lists, ratings stay region lists', () => {
    expect(reviewTasks.flatMap((t) => toMinTask(t, REVIEWS))).toEqual([
      { review: 'Fine.', id: 21, ...none },
      { review: tricky, id: 22, sentiment: 'Positive', topics: { choices: ['price', 'quality'] }, comment: 'Great value', stars: [{ rating: 4 }], ...meta(221, 'ann@example.com') },
      { review: 'Loud', id: 23, sentiment: 'Neutral', comment: { text: ['too loud', 'too big'] }, ...meta(232, 7, at(3)) },
      { review: 'Loud', id: 23, sentiment: 'Negative', ...meta(231, 7, at(2), null) },
    ]);
  });

  it('gives no row for a task whose annotations were all skipped, and drops results of unknown controls', () => {
    const skipped = task(5, 3, { review: 'x' }, [annotation(51, 5, 3, [], { was_cancelled: true })], []);
    expect(toMinTask(skipped, REVIEWS)).toEqual([]);
    const stray = task(6, 3, { review: 'x' }, [annotation(61, 6, 3, [choices('old_control', ['A']), choices('sentiment', ['Positive', 'Negative'])])], []);
    expect(toMinTask(stray, REVIEWS)[0]).toEqual({ review: 'x', id: 6, sentiment: { choices: ['Positive', 'Negative'] }, ...meta(61, 7) });
    expect(toMinTask(stray)[0]).toMatchObject({ old_control: [{ choices: ['A'] }], sentiment: [{ choices: ['Positive', 'Negative'] }] });
  });

  it('treats data keys and control names such as __proto__ as plain keys', () => {
    const odd = task(7, 3, JSON.parse('{"__proto__": {"polluted": true}, "review": "x"}'), [], []);
    const [row] = toMinTask(odd, REVIEWS);
    expect(Object.keys(row!)).toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("is written like Python's json.dump(indent=2): '[', the rows, ']'", async () => {
    const text = await collect(exportJsonMin(stream(nerTasks.slice(0, 1)), NER));
    const expected = [
      '[',
      '{',
      '  "text": "Ada at IBM",',
      '  "id": 11,',
      '  "annotator": null,',
      '  "annotation_id": null,',
      '  "created_at": null,',
      '  "updated_at": null,',
      '  "lead_time": null',
      '}',
      ']',
    ].join('\n');
    expect(text).toBe(expected);
    expect(await collect(exportJsonMin(stream([]), NER))).toBe('[\n\n]');
    const all = JSON.parse(await collect(exportJsonMin(stream(reviewTasks), REVIEWS)));
    expect(all).toEqual(reviewTasks.flatMap((t) => toMinTask(t, REVIEWS)));
  });
});

describe('CSV and TSV', () => {
  it('sorts the columns: data keys, id, controls and the fixed columns', () => {
    expect(csvColumns(REVIEWS)).toEqual(['annotation_id', 'annotator', 'comment', 'created_at', 'id', 'lead_time', 'review', 'sentiment', 'stars', 'topics', 'updated_at']);
  });

  it('writes a quoted header, quoted strings, bare numbers, "" for missing values and JSON for lists', async () => {
    const text = await collect(exportCsv(stream(reviewTasks), { delimiter: ',', info: REVIEWS }));
    expect(text).toBe(
      [
        '"annotation_id","annotator","comment","created_at","id","lead_time","review","sentiment","stars","topics","updated_at"',
        '"","","","",21,"","Fine.","","","",""',
        `221,"ann@example.com","Great value","${at(2)}",22,12.5,"Cheap, ""sturdy""\nand\tquiet","Positive","[{""rating"":4}]","{""choices"":[""price"",""quality""]}","${at(2, 5)}"`,
        `232,"7","{""text"":[""too loud"",""too big""]}","${at(3)}",23,12.5,"Loud","Neutral","","","${at(2, 5)}"`,
        `231,"7","","${at(2)}",23,"","Loud","Negative","","","${at(2, 5)}"`,
        '',
      ].join('\r\n'),
    );
  });

  it('quotes commas, quotes and newlines so a CSV reader gets the values back', async () => {
    const text = await collect(exportCsv(stream(reviewTasks), { delimiter: ',', info: REVIEWS }));
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.review)).toEqual(['Fine.', tricky, 'Loud', 'Loud']);
    expect(JSON.parse(rows[1]!.topics!)).toEqual({ choices: ['price', 'quality'] });
  });

  it('writes TSV with tabs, quoting a value that holds a tab', async () => {
    const text = await collect(exportCsv(stream(reviewTasks.slice(1, 2)), { delimiter: '\t', info: REVIEWS }));
    const [header, row] = text.split('\r\n');
    expect(header!.split('\t')).toHaveLength(11);
    expect(row).toContain('\t"Cheap, ""sturdy""\nand\tquiet"\t');
    const rows = parse(text, { columns: true, delimiter: '\t' }) as Record<string, string>[];
    expect(rows[0]).toMatchObject({ review: tricky, sentiment: 'Positive', stars: '[{"rating":4}]', id: '22' });
  });

  it('JSON-encodes nested data, writes booleans as Python does and keeps only the given columns', async () => {
    const nested = task(8, 3, { review: { title: 'T', tags: ['a'] }, flag: true, extra: 'dropped' }, [], []);
    const text = await collect(exportCsv(stream([nested]), { delimiter: ',', info: REVIEWS, columns: ['id', 'review', 'flag'] }));
    expect(text).toBe('"id","review","flag"\r\n8,"{""title"":""T"",""tags"":[""a""]}",True\r\n');
  });

  it('refuses other delimiters', async () => {
    const bad = { delimiter: ';', info: REVIEWS } as unknown as Parameters<typeof exportCsv>[1];
    await expect(collect(exportCsv(stream([]), bad))).rejects.toThrow(RangeError);
  });
});

describe('streaming', () => {
  const body = 'lorem ipsum dolor sit amet '.repeat(12);
  async function* manyTasks(count: number): AsyncGenerator<ExportTask> {
    for (let i = 1; i <= count; i += 1) {
      yield task(i, 9, { text: `${i} ${body}` }, [annotation(i, i, 9, [span(`r${i}`, 0, 5, 'lorem', 'PER')])], []);
    }
  }

  it('yields about EXPORT_CHUNK_CHARS at a time, in every format, the same text as tasks exported one by one', async () => {
    const all: ExportTask[] = [];
    for await (const t of manyTasks(3000)) all.push(t);
    const csv = { delimiter: ',', info: NER } as const;
    const header = await collect(exportCsv(stream([]), csv));
    const alone = async (format: (tasks: AsyncIterable<ExportTask>) => AsyncIterable<string>, from: number, to?: number) => {
      const texts = await Promise.all(all.map(async (t) => (await collect(format(stream([t])))).slice(from, to)));
      return texts.filter((text) => text !== '');
    };
    const formats: [string, AsyncIterable<string>, string][] = [
      ['JSON', exportJson(stream(all)), `[${(await alone(exportJson, 1, -1)).join(',')}]`],
      ['JSON_MIN', exportJsonMin(stream(all), NER), `[\n${(await alone((t) => exportJsonMin(t, NER), 2, -2)).join(',\n')}\n]`],
      ['CSV', exportCsv(stream(all), csv), header + (await alone((t) => exportCsv(t, csv), header.length)).join('')],
    ];
    for (const [format, chunks, expected] of formats) {
      const sizes: number[] = [];
      let text = '';
      for await (const chunk of chunks) {
        sizes.push(chunk.length);
        text += chunk;
      }
      expect(text, format).toBe(expected);
      expect(sizes.length, format).toBeGreaterThan(10);
      expect(sizes.length, format).toBeLessThanOrEqual(Math.ceil(text.length / EXPORT_CHUNK_CHARS));
      for (const size of sizes.slice(0, -1)) expect(size, format).toBeGreaterThanOrEqual(EXPORT_CHUNK_CHARS);
      for (const size of sizes) expect(size, format).toBeLessThan(EXPORT_CHUNK_CHARS + 4096);
    }
  });

  it('exports 200,000 tasks as JSON without holding them: heap growth stays under 50 MB', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let chars = 0;
    let chunks = 0;
    for await (const chunk of exportJson(manyTasks(200_000))) {
      chars += chunk.length;
      chunks += 1;
      if (chunks % 2000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    expect(chars).toBeGreaterThan(150_000_000);
    expect(peak - before).toBeLessThan(50 * 1024 * 1024);
  });
});
