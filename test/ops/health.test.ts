import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabaseAt, onPostgres } from '../support/database.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { cutStorage } from './cut-storage.ts';

// The probes an orchestrator or load balancer calls: unsigned, on the API port, and honest about
// what the process cannot do (storage, migrations, the change feed).

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

interface Readyz {
  status?: string;
  error?: string;
  error_description?: string;
  checks: Record<string, string>;
}

async function readyz(target: { url: string }): Promise<{ status: number; body: Readyz }> {
  const response = await fetch(`${target.url}/readyz`);
  return { status: response.status, body: (await response.json()) as Readyz };
}

/** Polls `/readyz` until it answers `status` (the test's own timeout bounds the wait). */
async function readyzUntil(status: number, target: { url: string } = server): Promise<Readyz> {
  for (;;) {
    const answer = await readyz(target);
    if (answer.status === status) return answer.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('health probes', () => {
  it('answers /livez while the process is up, unsigned', async () => {
    const response = await fetch(`${server.url}/livez`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with every check passed', async () => {
    expect(await readyz(server)).toEqual({
      status: 200,
      body: { status: 'ok', checks: { storage: 'ok', migrations: 'ok', change_feed: 'ok' } },
    });
  });

  it('keeps the probes out of the 3Commas API document', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths)).not.toContain('/readyz');
    expect(Object.keys(document.paths)).not.toContain('/livez');
  });

  // PGlite is one process: its change feed cannot be cut. PostgreSQL's LISTEN connection can.
  if (onPostgres) {
    it('answers 503 naming the change feed while LISTEN is cut, and 200 once it reconnects', async () => {
      const admin = new pg.Client({ connectionString: server.databaseUrl });
      await admin.connect();
      try {
        const killed = await admin.query<{ pid: number }>(
          `SELECT pg_terminate_backend(pid) AS killed, pid FROM pg_stat_activity
           WHERE datname = current_database() AND query ILIKE 'LISTEN%'`,
        );
        expect(killed.rowCount).toBe(1);
      } finally {
        await admin.end();
      }
      const down = await readyzUntil(503);
      expect(down).toEqual({
        error: 'not_ready',
        error_description: 'Not ready: change_feed failed',
        checks: { storage: 'ok', migrations: 'ok', change_feed: 'failed' },
      });
      const back = await readyzUntil(200);
      expect(back.checks.change_feed).toBe('ok');
    }, 20_000);
  }
});

describe('readiness without storage', () => {
  it('answers 503 naming storage while the database is away, /livez still 200; ready once back', async () => {
    const cut = await startTestServer();
    const outage = await cutStorage(cut);
    try {
      const { status, body } = await readyz(cut);
      expect(status).toBe(503);
      expect(body.error).toBe('not_ready');
      expect(body.checks.storage).toBe('failed');
      expect(body.error_description).toContain('storage');
      expect((await fetch(`${cut.url}/livez`)).status).toBe(200);
      await outage.restore();
      // PostgreSQL comes back (PGlite, closed in the process, does not).
      if (cut.databaseUrl) expect((await readyzUntil(200, cut)).checks.storage).toBe('ok');
    } finally {
      await outage.restore();
      // PGlite's storage is closed for good: the usual teardown fails partway.
      await cut.close().catch(() => undefined);
      await dropDatabaseAt(cut.databaseUrl);
    }
  }, 30_000);
});
