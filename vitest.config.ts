import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time (vitest's default is cores - 1, one file on a 2-core CI machine): most
    // files wait on child processes, PostgreSQL, Redis, emulators and the browser, not on the CPU.
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
