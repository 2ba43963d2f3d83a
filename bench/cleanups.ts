/**
 * Cleanups a benchmark still owes (servers to stop, databases to drop, folders to remove), run in
 * reverse on the way out, and on Ctrl-C before exiting.
 */

/** Push a cleanup when something is made; runCleanups() undoes them, newest first. */
export const cleanups: (() => Promise<void> | void)[] = [];

/** Runs the owed cleanups down to `keep` of them; one failing does not stop the others. */
export async function runCleanups(keep = 0): Promise<void> {
  while (cleanups.length > keep) {
    try {
      await cleanups.pop()!();
    } catch (err) {
      process.stderr.write(`cleanup failed: ${String(err)}\n`);
    }
  }
}

process.once('SIGINT', () => void runCleanups().finally(() => process.exit(130)));
