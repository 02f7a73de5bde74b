import { runOperation } from '../admin/operations.ts';
import { pgliteDir, type Config } from '../config.ts';
import { createServices } from '../services.ts';
import type { DataDirLock } from '../storage/data-dir-lock.ts';
import { openStorage, type Storage } from '../storage/database.ts';
import type { Executor } from './executor.ts';

/**
 * Runs operations in this process: opens the database and wires every service. Imported only
 * when a command needs it, since it loads the database drivers and the whole service layer.
 */
export async function openHere(
  config: Config,
  masterKey: Buffer,
  lock: DataDirLock | undefined,
): Promise<Executor> {
  let storage: Storage | undefined;
  try {
    storage = await openStorage({
      databaseUrl: config.databaseUrl,
      dataDir: config.databaseUrl ? undefined : pgliteDir(config),
      pool: config.database,
    });
    const services = await createServices(storage, masterKey, {
      sync: config.sync,
      sessions: config.sessions,
    });
    return {
      run: (name, input) => runOperation(services, name, input),
      async close() {
        try {
          await services.close();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (error) {
    // Closed before the lock goes: never two writers at once.
    await storage?.close().catch(() => undefined);
    lock?.release();
    throw error;
  }
}
