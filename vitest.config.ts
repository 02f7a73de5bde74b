import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Each test file builds its own server and database; a PGlite boot takes ~1 s.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most test time is spent waiting on child processes, sockets and timers, not on a core:
    // vitest's default (cores - 1, so one file at a time on two cores) leaves the machine idle.
    maxWorkers: 3,
  },
});
