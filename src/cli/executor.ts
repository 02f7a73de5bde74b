import { adminToken, resolveMasterKey } from '../auth/master-key.ts';
import type { OperationName } from '../admin/operations.ts';
import { runOperation } from '../admin/operations.ts';
import type { Config } from '../config.ts';
import { AppError, errorStatus, type ErrorCode } from '../errors.ts';
import { pgliteDir } from '../server.ts';
import { runningServer } from '../server-file.ts';
import { createServices } from '../services.ts';
import { openStorage } from '../storage/database.ts';

export interface Executor {
  run(name: OperationName, input: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Where the CLI's operations run. PostgreSQL takes many processes, so the CLI opens it itself.
 * PGlite takes one: while a server holds it, go through that server's admin API; otherwise
 * open it here.
 */
export async function connect(config: Config): Promise<Executor> {
  const masterKey = resolveMasterKey(config);
  const server = config.databaseUrl ? undefined : runningServer(config.dataDir);
  if (server) return remoteExecutor(server.url, adminToken(masterKey));
  const storage = await openStorage({
    databaseUrl: config.databaseUrl,
    dataDir: config.databaseUrl ? undefined : pgliteDir(config),
    pool: config.database,
  });
  const services = await createServices(storage, masterKey, { sync: config.sync });
  return {
    run: (name, input) => runOperation(services, name, input),
    close: () => services.close(),
  };
}

function remoteExecutor(baseUrl: string, token: string): Executor {
  return {
    async run(name, input) {
      const response = await fetch(`${baseUrl}/admin/v1/${name}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(input),
      });
      const body = (await response.json()) as Record<string, unknown>;
      if (!response.ok) throw toAppError(body, response.status);
      return body;
    },
    close: async () => undefined,
  };
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
