import { loadConfig } from '../config.ts';
import { startServer, type ServerOptions } from '../server.ts';
import { printWelcome } from './welcome.ts';

/** Runs the server in this process until SIGINT/SIGTERM, then stops cleanly. */
export async function serve(options: ServerOptions = {}): Promise<void> {
  const config = loadConfig();
  const server = await startServer(config, options);
  printWelcome(server.url, server.demo, config, options.worker !== false);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    await server.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
