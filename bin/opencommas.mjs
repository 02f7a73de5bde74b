#!/usr/bin/env node
// The `opencommas` command (and `npm start`, `npm run cli`): the compiled CLI in dist/, built
// from src/ first if dist/ is missing or stale.
import { freshBuild } from './build.mjs';

freshBuild();
await import('../dist/cli/main.js');
