import { serve } from './cli/serve.ts';

// `npm start`: the server on the configured storage (embedded PGlite by default).
serve().catch((error: unknown) => {
  console.error(`opencommas: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
