#!/usr/bin/env node
// The `opencommas` command (and `npm start`, `npm run cli`): the compiled CLI in dist/, built
// from src/ first if dist/ is missing or stale.
import { freshBuild, preparePgliteTemplate } from './build.mjs';

try {
  // Sources changed (a migration, perhaps): the template follows, or new directories run initdb.
  if (freshBuild()) await preparePgliteTemplate();
} catch (error) {
  // esbuild has printed where the sources are wrong; the old build must not run instead.
  process.stderr.write(`opencommas: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
await import('../dist/cli/main.js');
