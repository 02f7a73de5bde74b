import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { registerErrorHandling } from './errors.ts';
import { adminRoutes } from './routes/admin.ts';

/**
 * The largest admin request: a whole import file in one body, written in one transaction.
 * Parsed as one JavaScript string, whose length V8 caps a little above 512 MiB.
 */
export const ADMIN_BODY_LIMIT = 500 * 1024 * 1024;

export interface AdminListener {
  app: FastifyInstance;
  /** The Unix socket it listens on (owner-only). */
  socket: string;
  close(): Promise<void>;
}

/**
 * The admin API (the CLI's operations) on a Unix socket of its own, never on the public port:
 * only the data directory's owner can connect to it. No body size limit worth the name and no
 * request deadline, so that imports of any size go through while the server runs; the public
 * listener keeps its limits.
 */
export async function listenAdmin(
  services: Services,
  options: { dataDir: string; token: string; logger?: FastifyBaseLogger | undefined },
): Promise<AdminListener> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: ADMIN_BODY_LIMIT,
    requestTimeout: 0,
    connectionTimeout: 0,
  });
  registerErrorHandling(app);
  await app.register(adminRoutes, { prefix: '/admin', services, token: options.token });
  const place = socketPlace(options.dataDir);
  // We hold the data directory's lock: a socket file left there is a dead server's.
  rmSync(place.socket, { force: true });
  await app.listen({ path: place.socket });
  chmodSync(place.socket, 0o600);
  return {
    app,
    socket: place.socket,
    async close() {
      await app.close();
      rmSync(place.socket, { force: true });
      place.cleanup();
    },
  };
}

/** Linux allows 107 bytes in a socket path, macOS 103. */
const MAX_SOCKET_PATH = 103;

/**
 * `<dataDir>/admin/admin.sock`, in a directory only the owner may enter (mode 0700, whatever the
 * data directory's own mode). A data directory too deep for a socket path gets a private
 * temporary directory instead; the lock file tells the CLI where.
 */
function socketPlace(dataDir: string): { socket: string; cleanup(): void } {
  const directory = path.join(dataDir, 'admin');
  const socket = path.join(directory, 'admin.sock');
  if (Buffer.byteLength(socket) <= MAX_SOCKET_PATH) {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    chmodSync(directory, 0o700);
    return { socket, cleanup: () => undefined };
  }
  const temporary = mkdtempSync(path.join(tmpdir(), 'opencommas-admin-')); // mode 0700
  return {
    socket: path.join(temporary, 'admin.sock'),
    cleanup: () => rmSync(temporary, { recursive: true, force: true }),
  };
}
