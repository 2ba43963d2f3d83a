/**
 * The embedded default process (`npm start`): HTTP and background jobs in one process — the
 * in-process job runner without REDIS_URL, the BullMQ queue with it. `labelvault serve` and
 * `labelvault worker` (src/cli/main.ts) split the two; src/processes.ts runs all three.
 */
import { ConfigError } from './config/config.js';
import { runProcess } from './processes.js';

runProcess('all').catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`Labelvault failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
