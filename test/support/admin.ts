import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { postAdmin, type AdminAnswer } from '../../src/cli/admin-client.ts';
import { listenAdmin } from '../../src/http/admin-app.ts';
import type { TestServer } from './server.ts';

export interface TestAdmin {
  socket: string;
  /**
   * POST /admin/v1/<operation> on the socket; `body` as sent (a string) or as JSON; with the
   * admin token unless another `authorization` (or none: null) is given.
   */
  post(operation: string, body: unknown, authorization?: string | null): Promise<AdminAnswer>;
  close(): Promise<void>;
}

/** The test server's admin API on its own owner-only socket, as the embedded server has it. */
export async function listenTestAdmin(server: TestServer): Promise<TestAdmin> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'opencommas-admin-test-'));
  const admin = await listenAdmin(server.services, { dataDir, token: server.adminToken });
  return {
    socket: admin.socket,
    post: (operation, body, authorization = `Bearer ${server.adminToken}`) =>
      postAdmin(
        admin.socket,
        authorization ?? undefined,
        operation,
        typeof body === 'string' ? body : JSON.stringify(body),
      ),
    async close() {
      await admin.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
