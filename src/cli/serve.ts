import { loadConfig } from '../config.ts';
import { startServer, type ServerOptions } from '../server.ts';
import { stopOnSignals } from './shutdown.ts';
import { printWelcome } from './welcome.ts';

/**
 * Runs the server in this process until SIGINT/SIGTERM, then stops cleanly: no new connections,
 * requests in flight answered, syncs still reading aborted, storage closed, exit 0.
 */
export async function serve(options: ServerOptions = {}): Promise<void> {
  const config = loadConfig();
  const server = await startServer(config, options);
  printWelcome(server.url, server.demo, config, options.worker !== false, server.signIn);
  stopOnSignals(server.app.log, config.shutdownGraceMs, () => server.stop());
}
