#!/usr/bin/env node
// The `opencommas` command (and `npm start`, `npm run cli`): the compiled CLI in dist/, built
// from src/ first if dist/ is missing or stale.
import { freshBuild, preparePgliteTemplate } from './build.mjs';

// Sources changed (a migration, perhaps): the template follows, or new directories run initdb.
if (freshBuild()) await preparePgliteTemplate();
await import('../dist/cli/main.js');
