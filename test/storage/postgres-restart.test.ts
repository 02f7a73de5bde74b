import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createServices } from '../../src/services.ts';
import { openStorage } from '../../src/storage/database.ts';
import { spawnServer, type ServerProcess } from '../support/cli.ts';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres.ts';
import { LIST, signedGet, userWithKey, type Credentials } from '../support/server.ts';

// PostgreSQL restarts under load. The server (a child process running `opencommas serve`, its
// worker included) answers 503 database_unavailable while the database is away, never ends,
// and serves again within 5 s of the database's return. This needs a cluster of the test's
// own (it is stopped and started), so it runs on both suite runs, DATABASE_URL or not.

let postgres: OwnPostgres;
let server: ServerProcess | undefined;

beforeAll(async () => {
  postgres = await startOwnPostgres();
});
afterAll(async () => {
  server?.kill();
  await postgres?.destroy();
});

interface Answer {
  at: number;
  status: number;
  error?: string;
  retryAfter?: string | null;
}

const RECOVERY_MS = 5000;

async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it('a PostgreSQL restart under load: 503 database_unavailable while away, no process ends, 200s again within 5 s', async () => {
  const masterKey = randomBytes(32);
  const setup = await createServices(await openStorage({ databaseUrl: postgres.url }), masterKey, {
    sync: loadConfig({}).sync,
  });
  const { user, credentials } = await userWithKey(setup);
  await setup.accounts.add({ user_id: user.id, market_code: 'binance', name: 'Main' });
  await setup.close();

  server = spawnServer({
    DATABASE_URL: postgres.url,
    OPENCOMMAS_MASTER_KEY: masterKey.toString('base64'),
    PORT: '0',
    OPENCOMMAS_DEMO: 'off',
    // The limiter stays on (it counts in PostgreSQL too), high enough never to trip here.
    OPENCOMMAS_RATE_LIMIT: '1000000/1m',
    LOG_LEVEL: 'warn',
  });
  const printed = await server.waitForStdout(/listening on (http:\/\/\S+)/);
  const url = /listening on (http:\/\/\S+)/.exec(printed)?.[1] ?? '';

  const answers: Answer[] = [];
  const failures: string[] = [];
  let loading = true;
  const load = async (who: Credentials) => {
    while (loading) {
      try {
        const response = await signedGet({ url }, LIST, who);
        const body = (await response.json()) as { error?: string };
        answers.push({
          at: Date.now(),
          status: response.status,
          ...(response.status === 200 ? {} : { error: body.error }),
          retryAfter: response.headers.get('retry-after'),
        });
      } catch (error) {
        failures.push(String(error));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  const loops = [load(credentials), load(credentials), load(credentials)];
  const count = (check: (answer: Answer) => boolean) => answers.filter(check).length;

  try {
    await waitUntil('served before the outage', () => count((a) => a.status === 200) >= 20, 10_000);

    const stoppedAt = Date.now();
    await postgres.stop();
    await waitUntil(
      'refused during the outage',
      () => count((a) => a.at > stoppedAt && a.status === 503) >= 20,
      10_000,
    );
    expect(server.child.exitCode).toBeNull();
    // Not ready while away: storage unreachable, change feed down.
    expect((await fetch(`${url}/readyz`)).status).toBe(503);

    await postgres.start();
    const backAt = Date.now();
    // Bounded poll: the service must recover by itself within 5 s of PostgreSQL's return.
    await waitUntil(
      'served again after the restart',
      () => count((a) => a.at > backAt && a.status === 200) >= 1,
      RECOVERY_MS,
    );
    // Ready again too: the change feed (LISTEN) reconnected by itself, caches trusted again.
    await waitUntil(
      'ready again after the restart',
      async () => (await fetch(`${url}/readyz`)).status === 200,
      RECOVERY_MS,
    );
    await waitUntil(
      'served steadily',
      () => count((a) => a.at > backAt && a.status === 200) >= 20,
      10_000,
    );
  } finally {
    loading = false;
    await Promise.all(loops);
  }

  // Every answer was a page or the 3Commas-shaped 503 with Retry-After; no connection failed.
  expect(failures).toEqual([]);
  const others = answers.filter(
    (a) =>
      a.status !== 200 &&
      !(a.status === 503 && a.error === 'database_unavailable' && a.retryAfter !== null),
  );
  expect(others).toEqual([]);
  // The last answers after the restart are all pages again.
  expect(answers.slice(-10).map((a) => a.status)).toEqual(Array<number>(10).fill(200));

  // Still the same process, and it stops cleanly.
  expect(server.child.exitCode).toBeNull();
  server.child.kill('SIGTERM');
  expect(await server.exited).toEqual({ code: 0, signal: null });
  expect(server.stderr()).not.toMatch(/unhandled|uncaught/i);
});
