import cluster, { type Worker } from 'node:cluster';
import { constants } from 'node:os';
import { ConfigError, type Config } from '../config.ts';
import type { DemoCredentials } from '../demo/demo.ts';
import { createLogger, type Logger } from '../logger.ts';
import type { SignInLink } from '../server.ts';
import { shutDown } from './shutdown.ts';
import { printWelcome } from './welcome.ts';

/**
 * `serve --processes N`: a node:cluster primary forks N children, each a whole server (API on the
 * shared port, its own sync worker unless --no-worker, its own metrics port). The primary serves
 * nothing itself: it hands connections out, restarts a child that dies, prints the welcome once
 * and stops every child on SIGTERM/SIGINT.
 */

/** The slot (0 … N-1) a child fills, set by the primary in its environment; kept across restarts. */
const SLOT_VARIABLE = 'OPENCOMMAS_CLUSTER_SLOT';

const READY = 'opencommas:ready';
const SHUTDOWN = 'opencommas:shutdown';

/** Consecutive children dying before they serve (the database unreachable, say): then give up. */
const MAX_FAILED_STARTS = 5;
const RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 5000;

/** What a child tells the primary once it serves: enough for the welcome. */
export interface ChildReady {
  url: string;
  demo: DemoCredentials | undefined;
  signIn: SignInLink | undefined;
}

/** Several processes on the embedded database: refused before anything starts (exit 2). */
export class ProcessesRefused extends ConfigError {}

/** This process's slot when it is a child of `serve --processes N`; undefined otherwise. */
export function childSlot(): number | undefined {
  const slot = process.env[SLOT_VARIABLE];
  return cluster.isWorker && slot !== undefined ? Number(slot) : undefined;
}

/** Throws when `processes` cannot run with this configuration. */
export function checkProcesses(config: Config, processes: number): void {
  if (processes <= 1) return;
  if (!config.databaseUrl) {
    throw new ProcessesRefused(
      `${processes} processes (--processes, OPENCOMMAS_PROCESSES) need PostgreSQL (set ` +
        'DATABASE_URL): the embedded database has one writer per data directory, so it serves ' +
        'from one process',
    );
  }
  const metrics = config.metrics;
  if (metrics && metrics.port !== 0 && metrics.port + processes - 1 > 65535) {
    throw new ConfigError(
      `OPENCOMMAS_METRICS_PORT ${metrics.port}: the children of ${processes} processes scrape on ` +
        `${metrics.port}…${metrics.port + processes - 1}, past 65535`,
    );
  }
}

/**
 * Child `slot`'s metrics on a port of its own, base + slot: on one shared port each scrape would
 * see whichever child the connection landed on. Port 0 (any free one) and off stay as they are.
 */
export function childConfig(config: Config, slot: number): Config {
  const metrics = config.metrics;
  if (!metrics || metrics.port === 0) return config;
  return { ...config, metrics: { ...metrics, port: metrics.port + slot } };
}

/** Tells the primary this child serves (its stop handlers are in place). */
export function reportReady(ready: ChildReady): void {
  process.send?.({ type: READY, ...ready });
}

/**
 * A child's stop: as `stopOnSignals` (stop, exit 0; past `graceMs` exit 1; a second signal exits
 * at once), and also at the primary's request. Ctrl-C and systemd signal the whole process group,
 * so the child often gets the signal and the primary's request both: they are one stop.
 */
export function stopOnSignalsOrPrimary(
  logger: Pick<Logger, 'info' | 'warn' | 'error'>,
  graceMs: number,
  stop: () => Promise<void>,
): void {
  let stoppedBy: 'signal' | 'primary' | undefined;
  const begin = (reason: Record<string, unknown>) => shutDown(logger, graceMs, stop, reason);
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy === 'signal') {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(128 + constants.signals[signal]);
    }
    const first = stoppedBy === undefined;
    stoppedBy = 'signal';
    if (first) begin({ signal });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('message', (message: unknown) => {
    if (isMessage(message, SHUTDOWN) && stoppedBy === undefined) {
      stoppedBy = 'primary';
      begin({ by: 'primary' });
    }
  });
}

/**
 * The primary: forks the first child, and the others once it serves (so migrations and the demo
 * seed run once, and the welcome comes from it); restarts children that exit unexpectedly, after
 * a delay that doubles while they die before serving, giving up (exit 1) after a few in a row.
 * SIGTERM/SIGINT: every child stops as a single server does; exit 0 once all have (1 if one did
 * not stop cleanly); a second signal or the grace exceeded kills them and exits at once.
 */
export function runPrimary(config: Config, processes: number, worker: boolean): void {
  const logger = createLogger(config.logLevel);
  const children = new Map<number, Worker>();
  const ready = new Set<Worker>();
  const restarts = new Set<NodeJS.Timeout>();
  let failedStarts = 0;
  let welcomed = false;
  let stopping = false;
  let signalled = false;
  let exitCode = 0;
  /** Set when the children are being killed: the exit code is then this, whatever theirs. */
  let forced = false;

  const fork = (slot: number) => {
    const child = cluster.fork({ [SLOT_VARIABLE]: String(slot) });
    children.set(slot, child);
    const metrics = childConfig(config, slot).metrics;
    logger.info(
      { child: slot, childPid: child.process.pid, metricsPort: metrics ? metrics.port : 'off' },
      'child started',
    );
    child.on('message', (message: unknown) => {
      if (isMessage(message, READY)) onReady(slot, child, message as unknown as ChildReady);
    });
    child.on('exit', (code, signal) => onExit(slot, child, code, signal));
    // A message to a child that is exiting fails; its exit is handled above.
    child.on('error', (error) => logger.warn({ err: error, child: slot }, 'child unreachable'));
  };

  const onReady = (slot: number, child: Worker, message: ChildReady) => {
    ready.add(child);
    failedStarts = 0;
    logger.info({ child: slot, childPid: child.process.pid, url: message.url }, 'child ready');
    if (welcomed || stopping) return;
    welcomed = true;
    printWelcome(message.url, message.demo, config, worker, message.signIn);
    logger.info({ processes, url: message.url }, 'starting the other children');
    for (let other = 1; other < processes; other += 1) fork(other);
  };

  const onExit = (slot: number, child: Worker, code: number | null, signal: string | null) => {
    const served = ready.delete(child);
    if (children.get(slot) === child) children.delete(slot);
    const childPid = child.process.pid;
    if (stopping) {
      logger.info({ child: slot, childPid, code, signal }, 'child exited');
      if (code !== 0 && code !== null && !forced) exitCode = 1;
      if (children.size === 0) finish();
      return;
    }
    if (!served) failedStarts += 1;
    if (failedStarts >= MAX_FAILED_STARTS) {
      logger.error(
        { child: slot, childPid, code, signal, failedStarts },
        'children keep exiting before they serve: giving up',
      );
      exitCode = 1;
      stopAll();
      return;
    }
    const delayMs = Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** failedStarts);
    logger.warn(
      { child: slot, childPid, code, signal, restartInMs: delayMs },
      served
        ? 'child exited unexpectedly: restarting it'
        : 'child exited before serving: restarting it',
    );
    const timer = setTimeout(() => {
      restarts.delete(timer);
      if (!stopping) fork(slot);
    }, delayMs);
    restarts.add(timer);
  };

  /** Stops every child as a signal stops a single server; exits when all have. */
  const stopAll = () => {
    if (stopping) return;
    stopping = true;
    // Not unref'd: this timer is what ends a shutdown that hangs.
    setTimeout(() => {
      logger.error(
        { graceMs: config.shutdownGraceMs },
        'shutdown took longer than OPENCOMMAS_SHUTDOWN_GRACE: exiting',
      );
      killAllAndExit(1);
    }, config.shutdownGraceMs);
    restarts.forEach((timer) => clearTimeout(timer));
    restarts.clear();
    if (children.size === 0) finish();
    for (const child of children.values()) {
      // One still starting has no stop handler yet: a signal ends it as it would a single one.
      if (ready.has(child)) child.send({ type: SHUTDOWN });
      else child.process.kill('SIGTERM');
    }
  };

  const finish = () => {
    logger.info({ code: exitCode }, 'stopped');
    process.exit(exitCode);
  };

  /** Kills the children left and exits with `code` once they are gone (a moment: SIGKILL). */
  const killAllAndExit = (code: number) => {
    forced = true;
    exitCode = code;
    if (children.size === 0) finish();
    for (const child of children.values()) child.process.kill('SIGKILL');
    // Should a killed child never be reported gone, exit all the same.
    setTimeout(() => process.exit(code), 1000);
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting at once');
      killAllAndExit(128 + constants.signals[signal]);
      return;
    }
    signalled = true;
    logger.info(
      { signal, graceMs: config.shutdownGraceMs, children: children.size },
      'shutting down',
    );
    stopAll();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  logger.info({ processes, port: config.port, worker }, 'starting children');
  fork(0);
}

function isMessage(message: unknown, type: string): message is Record<string, unknown> {
  return (
    typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type
  );
}
