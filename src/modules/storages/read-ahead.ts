/**
 * Read-ahead for an async source: keeps pulling up to `depth` items while the consumer works on
 * the one it has, so a storage listing's next pages are on their way (the storage answering, the
 * SDK parsing) while a chunk of tasks is being inserted. Order, values and errors are the source's:
 * an error is thrown to the consumer when it reaches it, after the items before it. When the
 * consumer stops early (break, throw), the source is closed (`return()`) once its pending pull
 * settles, and nothing more is pulled; an error of that pull is dropped (nobody is waiting for it).
 */

type Pull<T> = Promise<IteratorResult<T>>;

/** Iterates `source` with up to `depth` (≥ 1) items requested ahead of the consumer. */
export async function* readAhead<T>(source: AsyncIterable<T>, depth: number): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: Pull<T>[] = [];
  let ended = false;
  // One pull at a time (an async generator answers them in order anyway); the next one starts
  // when the previous settles, while the queue has room.
  let pulling: Pull<T> | null = null;
  const fill = () => {
    if (ended || pulling !== null || queue.length >= depth) return;
    const pull = it.next();
    pulling = pull;
    queue.push(pull);
    pull.then(
      (r) => {
        pulling = null;
        if (r.done) ended = true;
        else fill();
      },
      () => {
        pulling = null;
        ended = true;
      },
    );
  };
  let finished = false;
  try {
    fill();
    while (queue.length > 0) {
      const next = await queue.shift()!;
      if (next.done) {
        finished = true;
        return;
      }
      fill();
      yield next.value;
    }
    finished = true;
  } catch (err) {
    finished = true; // the source threw: it is closed already
    throw err;
  } finally {
    if (!finished) {
      ended = true;
      for (const p of queue) p.catch(() => undefined);
      await (pulling as Pull<T> | null)?.catch(() => undefined); // set by fill(), which TypeScript does not follow
      await it.return?.();
    }
  }
}
