import { loadConfig } from '../config.ts';
import type { ServerOptions } from '../server.ts';
import {
  checkProcesses,
  childConfig,
  childSlot,
  reportReady,
  runPrimary,
  stopOnSignalsOrPrimary,
} from './cluster.ts';
import { stopOnSignals } from './shutdown.ts';
import { printWelcome } from './welcome.ts';

export interface ServeOptions extends ServerOptions {
  /** API processes on the port (`--processes`); default `OPENCOMMAS_PROCESSES`, else 1. */
  processes?: number | undefined;
}

/**
 * Runs the server in this process until SIGINT/SIGTERM, then stops cleanly: no new connections,
 * requests in flight answered, syncs still reading aborted, storage closed, exit 0. With several
 * processes (PostgreSQL only) this process is their primary instead, and each child runs this.
 */
export async function serve(options: ServeOptions = {}): Promise<void> {
  const config = loadConfig();
  const slot = childSlot();
  const processes = options.processes ?? config.processes;
  if (slot === undefined) checkProcesses(config, processes);
  if (slot === undefined && processes > 1) {
    runPrimary(config, processes, options.worker !== false);
    return;
  }
  // Loaded here, not above: a primary serves nothing and need not carry the server's code.
  const { startServer } = await import('../server.ts');
  const serverOptions: ServerOptions = { worker: options.worker !== false };
  if (slot === undefined) {
    const server = await startServer(config, serverOptions);
    printWelcome(server.url, server.demo, config, serverOptions.worker, server.signIn);
    stopOnSignals(server.app.log, config.shutdownGraceMs, () => server.stop());
    return;
  }
  // A child of `serve --processes N`: the primary prints the welcome, once.
  const server = await startServer(childConfig(config, slot), serverOptions);
  stopOnSignalsOrPrimary(server.app.log, config.shutdownGraceMs, () => server.stop());
  reportReady({ url: server.url, demo: server.demo, signIn: server.signIn });
}
