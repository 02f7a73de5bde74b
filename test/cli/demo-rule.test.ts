// The demo user is seeded into an empty database at start only on the embedded default, unless
// OPENCOMMAS_DEMO says otherwise: `on` seeds on PostgreSQL too, `off` never seeds. The real
// server, started in this process on fresh storage (PGlite, or PostgreSQL when DATABASE_URL is
// set) for each setting.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import { createCliStorage, type CliStorage } from '../support/cli.ts';
import { onPostgres } from '../support/database.ts';

const opened: CliStorage[] = [];
afterEach(async () => {
  for (const storage of opened.splice(0)) await storage.cleanup();
});

/** Starts a server on fresh storage with OPENCOMMAS_DEMO as given; answers what it seeded. */
async function firstStart(demo: string | undefined) {
  const storage = await createCliStorage();
  opened.push(storage);
  const server = await startServer(
    loadConfig({
      ...storage.env,
      ...(demo === undefined ? {} : { OPENCOMMAS_DEMO: demo }),
      PORT: '0',
      OPENCOMMAS_METRICS_PORT: 'off',
      LOG_LEVEL: 'silent',
    }),
  );
  try {
    const users = await server.services.storage.db.selectFrom('users').select('email').execute();
    return { printed: server.demo !== undefined, users: users.map((u) => u.email) };
  } finally {
    await server.stop();
  }
}

const seeded = { printed: true, users: ['demo@opencommas.local'] };
const nothing = { printed: false, users: [] };

describe(
  `demo seeding on ${onPostgres ? 'PostgreSQL' : 'the embedded database'}`,
  {
    timeout: 120_000,
  },
  () => {
    it(`without OPENCOMMAS_DEMO: ${onPostgres ? 'nothing' : 'the demo user'}`, async () => {
      expect(await firstStart(undefined)).toEqual(onPostgres ? nothing : seeded);
      expect(await firstStart('auto')).toEqual(onPostgres ? nothing : seeded);
    });

    it('OPENCOMMAS_DEMO=on seeds, off seeds nothing', async () => {
      expect(await firstStart('on')).toEqual(seeded);
      expect(await firstStart('off')).toEqual(nothing);
    });
  },
);
