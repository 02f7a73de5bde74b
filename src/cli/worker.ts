import { resolveMasterKey } from '../auth/master-key.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { tryStartMetricsServer } from '../ops/metrics-server.ts';
import { createServices } from '../services.ts';
import { openStorage } from '../storage/database.ts';
import { stopOnSignals } from './shutdown.ts';

/** `opencommas worker`: scheduled syncs without the API, until SIGINT/SIGTERM. */
export async function runWorker(): Promise<void> {
  const config = loadConfig();
  // PGlite is one process: the server's in-process worker is the only one it can have.
  if (!config.databaseUrl) {
    throw new ConfigError(
      'a separate worker needs PostgreSQL (set DATABASE_URL); on the embedded database, ' +
        '`npm start` already runs a worker inside the server',
    );
  }
  const logger = createLogger(config.logLevel);
  const storage = await openStorage({
    databaseUrl: config.databaseUrl,
    onBackgroundError: (error) => logger.warn({ err: error }, 'database connection lost'),
    pool: config.database,
  });
  const services = await createServices(storage, resolveMasterKey(config), {
    sync: config.sync,
    logger,
  });
  const metricsServer = await tryStartMetricsServer(config.metrics, storage, logger);
  services.worker.start();
  logger.info({ worker: services.worker.id }, 'sync worker started');
  // Syncs still reading are aborted (their accounts released untouched); those writing commit.
  stopOnSignals(logger, config.shutdownGraceMs, async () => {
    logger.info({ ...services.worker.stats }, 'sync worker stopping');
    await metricsServer?.close();
    await services.close();
  });
}
