import { constants } from 'node:os';
import type { Logger } from '../logger.ts';

/**
 * SIGTERM/SIGINT stop the process cleanly: `stop` (stop accepting, finish what is in flight,
 * close storage), then exit 0. Past `graceMs` it exits 1 anyway, saying so; a second signal
 * exits at once (128 + the signal's number, as a shell reports a signalled process).
 */
export function stopOnSignals(
  logger: Pick<Logger, 'info' | 'warn' | 'error'>,
  graceMs: number,
  stop: () => Promise<void>,
): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(128 + constants.signals[signal]);
    }
    stopping = true;
    shutDown(logger, graceMs, stop, { signal });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/**
 * One shutdown: `stop`, then exit 0 (1 if it failed); past `graceMs` exit 1 anyway, saying so.
 * `reason` (the signal, or who asked) goes in the first log line.
 */
export function shutDown(
  logger: Pick<Logger, 'info' | 'error'>,
  graceMs: number,
  stop: () => Promise<void>,
  reason: Record<string, unknown>,
): void {
  logger.info({ ...reason, graceMs }, 'shutting down');
  // Not unref'd: this timer is what ends a shutdown that hangs.
  setTimeout(() => {
    logger.error({ graceMs }, 'shutdown took longer than OPENCOMMAS_SHUTDOWN_GRACE: exiting');
    process.exit(1);
  }, graceMs);
  stop().then(
    () => {
      logger.info('stopped');
      process.exit(0);
    },
    (error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    },
  );
}
