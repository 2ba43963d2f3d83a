/**
 * The JSON splitter counts each element's nesting while it scans, so natively parsed tasks skip
 * the depth walk; the limit must hold exactly as before, for elements whole in one chunk and for
 * elements split across chunks.
 */
import { describe, expect, it } from 'vitest';
import { readTasks } from './task-readers.js';

const nested = (levels: number): unknown => (levels <= 1 ? { v: 1 } : { v: nested(levels - 1) });

/** The text as chunks of `size` bytes. */
async function* chunks(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function read(text: string, size: number) {
  const out = [];
  for await (const t of readTasks(chunks(text, size), 'json', { maxTasks: 100, maxTaskBytes: 10_000, maxDepth: 10 })) out.push(t);
  return out;
}

describe('JSON splitter and the nesting limit', () => {
  for (const size of [7, 64, 100_000]) {
    it(`accepts a task nested exactly to the limit and refuses one level more, naming it (chunks of ${size} bytes)`, async () => {
      // Task 3: the element is level 1, its data level 2, so data nested 9 deep is 10 levels.
      const ok = JSON.stringify([{ a: 1 }, { b: [1, [2]] }, { data: nested(9) }]);
      expect(await read(ok, size)).toHaveLength(3);
      const deep = JSON.stringify([{ a: 1 }, { b: [1, [2]] }, { data: nested(10) }]);
      await expect(read(deep, size)).rejects.toMatchObject({ validationErrors: { tasks: [expect.stringMatching(/^task 3: nests objects or arrays deeper than 10 levels/)] } });
      // Arrays count as levels too.
      const lists = JSON.stringify([{ data: { x: [[[[[[[[[1]]]]]]]]] } }]);
      await expect(read(lists, size)).rejects.toMatchObject({ validationErrors: { tasks: [expect.stringMatching(/^task 1: nests/)] } });
    });
  }
});
