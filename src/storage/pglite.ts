import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect } from 'kysely';
import {
  CHANGES_CHANNEL,
  INT8,
  NUMERIC,
  keepText,
  parseInt8,
  queryLog,
  type QueryListener,
  type Storage,
} from './database.ts';
import { migrate } from './migrate.ts';
import { pgliteStartParams } from './pglite-settings.ts';
import { createFromTemplate, isNewDataDir } from './pglite-template.ts';
import type { Database } from './schema.ts';

/** The embedded database in `dataDir` (in memory without one), migrated; see `openStorage`. */
export async function openPGlite(
  dataDir: string | undefined,
  templateRoot: string | undefined,
  onQuery?: QueryListener,
): Promise<Storage> {
  const storage = await openEmbedded(dataDir, templateRoot, onQuery);
  try {
    await migrate(storage.db);
  } catch (error) {
    await storage.close();
    throw error;
  }
  return storage;
}

async function openEmbedded(
  dataDir: string | undefined,
  templateRoot: string | undefined,
  onQuery: QueryListener | undefined,
): Promise<Storage> {
  // A new database is copied from the template the build prepared; without one, PGlite runs initdb.
  if (dataDir && isNewDataDir(dataDir)) await createFromTemplate(dataDir, templateRoot);
  const pglite = await PGlite.create(dataDir, {
    parsers: { [INT8]: parseInt8, [NUMERIC]: keepText },
    startParams: pgliteStartParams(),
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }), ...queryLog(onQuery) });
  return {
    kind: 'pglite',
    db,
    async listen(listener) {
      await pglite.listen(CHANGES_CHANNEL, (payload) => listener.onNotification(payload));
    },
    poolStats: () => undefined,
    close: () => db.destroy(),
  };
}
