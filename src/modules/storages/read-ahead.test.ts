import { describe, expect, it } from 'vitest';
import { readAhead } from './read-ahead.js';

/** A source of `n` numbers that records how far it was pulled and whether it was closed. */
function source(n: number, failAt = -1) {
  const state = { pulled: 0, closed: false };
  async function* gen() {
    try {
      for (let i = 0; i < n; i++) {
        await new Promise((r) => setTimeout(r, 1));
        if (i === failAt) throw new Error(`failed at ${i}`);
        state.pulled = i + 1;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, items: gen() };
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

describe('readAhead', () => {
  it('yields every item in order', async () => {
    const { items } = source(10);
    const out: number[] = [];
    for await (const x of readAhead(items, 3)) out.push(x);
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('pulls up to `depth` items while the consumer is busy, and no further', async () => {
    const { state, items } = source(10);
    const it = readAhead(items, 3)[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe(0);
    await tick();
    expect(state.pulled).toBe(4); // the one consumed and 3 ahead
    await it.return(undefined);
    expect(state.closed).toBe(true);
  });

  it('delivers the items before an error, then the error', async () => {
    const { items } = source(10, 4);
    const out: number[] = [];
    await expect(
      (async () => {
        for await (const x of readAhead(items, 2)) {
          out.push(x);
          await tick(5);
        }
      })(),
    ).rejects.toThrow('failed at 4');
    expect(out).toEqual([0, 1, 2, 3]);
  });

  it('closes the source when the consumer stops early, even with a pull pending or failing', async () => {
    const { state, items } = source(10, 2);
    for await (const x of readAhead(items, 5)) {
      if (x === 0) break; // the pull of item 2 fails meanwhile: nobody waits for it
    }
    await tick();
    expect(state.closed).toBe(true);
    expect(state.pulled).toBeLessThanOrEqual(2);
  });
});
