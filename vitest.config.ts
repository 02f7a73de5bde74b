import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file builds its own server and database; a PGlite boot takes ~1 s.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
