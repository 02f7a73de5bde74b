import { PGlite } from '@electric-sql/pglite';

/**
 * PostgreSQL settings of the embedded database, for a small footprint (measured by
 * `bench/pglite-floor.ts`). PGlite runs PostgreSQL inside WebAssembly, whose memory never shrinks:
 * every page PostgreSQL ever touches stays resident, so these cap what it can touch.
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = {
  // The default 128MB is allocated and written at start (it grows the WebAssembly memory by
  // 60 MB and adds ~110 MB of RSS). Reads that miss it are served by the OS's page cache.
  shared_buffers: '16MB',
};

/** PGlite's own start parameters (single-user mode and the rest), then ours. */
export function pgliteStartParams(): string[] {
  return [
    ...PGlite.defaultStartParams,
    ...Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ];
}
