import { adminToken, resolveMasterKey } from '../auth/master-key.ts';
import type { OperationName } from '../admin/operations.ts';
import type { Config } from '../config.ts';
import { AppError, errorStatus, type ErrorCode } from '../errors.ts';
import { lockOrWait, type DataDirLock, type LockHolder } from '../storage/data-dir-lock.ts';
import { postAdmin, socketAnswers } from './admin-client.ts';

export interface Executor {
  run(name: OperationName, input: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/** How long a command waits for a server that is starting (or another command) to be done. */
export const LOCK_WAIT_MS = 30_000;

/**
 * Where the CLI's operations run. PostgreSQL takes many processes, so the CLI opens it itself.
 * The embedded PGlite takes one writer: the CLI takes the data directory's lock and opens it
 * here, or — while a server holds the lock — goes through that server's admin socket, waiting
 * (bounded) while the server is still starting. It never opens a directory another holds.
 */
export async function connect(config: Config): Promise<Executor> {
  if (config.databaseUrl) return openHere(config, resolveMasterKey(config), undefined);
  const claim = await lockOrWait(config.dataDir, 'cli', {
    timeoutMs: LOCK_WAIT_MS,
    enough: async (holder) =>
      holder.role === 'server' && holder.socket !== undefined && socketAnswers(holder.socket),
    onWait: (holder) => process.stderr.write(`opencommas: ${waitingFor(holder)}…\n`),
  });
  // Read only once the directory is ours or a server's: whoever creates the key holds the lock.
  const masterKey = resolveMasterKey(config);
  if ('lock' in claim) return openHere(config, masterKey, claim.lock);
  const { holder } = claim;
  if (claim.timedOut || !holder.socket) {
    throw new Error(
      `${config.dataDir} is in use: still ${waitingFor(holder)} after ${LOCK_WAIT_MS / 1000} s; try again later`,
    );
  }
  return remoteExecutor(holder, holder.socket, adminToken(masterKey));
}

function waitingFor(holder: LockHolder): string {
  if (holder.role === 'cli') {
    return `waiting for another opencommas command (pid ${holder.pid}) to finish`;
  }
  // Listed with a socket that does not answer: the server is stopping (or about to listen).
  return holder.socket
    ? `waiting for the opencommas server (pid ${holder.pid}) to answer on its admin socket`
    : `waiting for the opencommas server (pid ${holder.pid}) to finish starting`;
}

/**
 * Imported only on this path: it loads the database drivers and the whole service layer, which
 * a command going through the server never needs.
 */
async function openHere(
  config: Config,
  masterKey: Buffer,
  lock: DataDirLock | undefined,
): Promise<Executor> {
  const local = await import('./local-executor.ts').catch((error: unknown) => {
    lock?.release();
    throw error;
  });
  return local.openHere(config, masterKey, lock);
}

function remoteExecutor(server: LockHolder, socket: string, token: string): Executor {
  return {
    async run(name, input) {
      let answer;
      try {
        answer = await postAdmin(socket, `Bearer ${token}`, name, JSON.stringify(input));
      } catch (error) {
        throw lostServer(server, name, error as NodeJS.ErrnoException);
      }
      const body = answer.body as Record<string, unknown>;
      if (answer.status >= 400) throw toAppError(body, answer.status);
      return body;
    },
    close: async () => undefined,
  };
}

/** The server stopped between our check and the answer: say whether anything may have happened. */
function lostServer(server: LockHolder, name: string, error: NodeJS.ErrnoException): Error {
  const who = `the opencommas server (pid ${server.pid})`;
  if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') {
    return new Error(`${who} stopped before taking ${name}: nothing was done; run it again`);
  }
  return new Error(
    `${who} went away before answering ${name} (${error.code ?? error.message}): ` +
      'it was done whole or not at all; check before running it again',
  );
}

function toAppError(body: Record<string, unknown>, status: number): AppError {
  const code = String(body.error ?? '');
  const known = Object.hasOwn(errorStatus, code) ? (code as ErrorCode) : undefined;
  const message = String(body.error_description ?? `server answered ${status}`);
  if (!known) return new AppError('record_invalid', `${code || 'error'}: ${message}`);
  return new AppError(
    known,
    message,
    body.error_attributes as Record<string, string[]> | undefined,
  );
}
