/**
 * The benchmark's tasks: one deterministic generator shared by the JSON file the API imports and
 * the baseline's direct inserts, so both store exactly the same rows.
 */
import fs from 'node:fs';
import { once } from 'node:events';

/** The labeling config of every benchmark project: text classification. */
export const LABEL_CONFIG =
  '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>';

/** The one result every annotated task carries (Positive). */
export const POSITIVE_RESULT = [
  { id: 'bench-r1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Positive'] } },
];

export interface BenchTask {
  data: { text: string; n: number };
  annotations?: { result: typeof POSITIVE_RESULT }[];
}

const LOREM =
  'the quick brown fox jumps over the lazy dog while a labeling team reviews customer feedback about delivery times, ' +
  'refunds, support quality and product durability across several regions and seasons of the year';

/** Every 10th task (0, 10, 20, …) has one annotation. */
export const isAnnotated = (i: number): boolean => i % 10 === 0;

/** Task `i`: about 100 characters of text, its number, and every 10th an annotation. */
export function benchTask(i: number): BenchTask {
  const offset = (i * 7) % 100;
  const text = `Review #${i}: ${LOREM.slice(offset, offset + 88)}`;
  const task: BenchTask = { data: { text, n: i } };
  if (isAnnotated(i)) task.annotations = [{ result: POSITIVE_RESULT }];
  return task;
}

/** How many of the first `n` tasks are annotated. */
export const annotatedCount = (n: number): number => Math.ceil(n / 10);

/** Writes `n` tasks as one JSON list to `file` (streamed, a thousand tasks per write); returns its size. */
export async function writeTaskFile(file: string, n: number): Promise<number> {
  const out = fs.createWriteStream(file);
  const closed = once(out, 'close');
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('[');
  for (let start = 0; start < n; start += 1000) {
    const parts: string[] = [];
    for (let i = start; i < Math.min(n, start + 1000); i += 1) parts.push(JSON.stringify(benchTask(i)));
    await write((start === 0 ? '' : ',') + parts.join(','));
  }
  await write(']');
  out.end();
  await closed;
  return fs.statSync(file).size;
}
