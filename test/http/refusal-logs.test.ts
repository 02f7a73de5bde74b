import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHmac } from '../../src/auth/signature.ts';
import { AppError } from '../../src/errors.ts';
import { registerErrorHandling } from '../../src/http/errors.ts';
import { loggerOptions } from '../../src/logger.ts';
import { cutStorage } from '../ops/cut-storage.ts';
import { dropDatabaseAt, onPostgres } from '../support/database.ts';
import {
  LIST,
  signedGet,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

// Every refused request leaves one JSON log line saying why, at a level an operator can filter:
// info for 4xx, warn for limits and bans, error for 5xx. Successful answers log nothing, and no
// line ever carries a signature, a secret or a whole API key.

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}
const INFO = 30;
const WARN = 40;
const ERROR = 50;

/** The process's logger (same options and redaction), writing into `lines`. */
function capturingLogger(lines: LogLine[]) {
  return pino(loggerOptions('info'), {
    write(text: string) {
      lines.push(JSON.parse(text) as LogLine);
    },
  });
}

const lines: LogLine[] = [];
let server: TestServer;
let caller: Credentials;

beforeAll(async () => {
  server = await startTestServer({}, { logger: capturingLogger(lines) });
  caller = (await userWithKey(server.services)).credentials;
});
afterAll(async () => {
  // The last test cuts the storage under the server (for good on PGlite): teardown may fail.
  await server?.close().catch(() => undefined);
  await dropDatabaseAt(server?.databaseUrl);
});

/** The log lines written while `work` ran. */
async function logged(work: () => Promise<void>): Promise<LogLine[]> {
  const from = lines.length;
  await work();
  return lines.slice(from);
}

describe('logs of refused requests', () => {
  it('writes nothing for a successful request', async () => {
    const written = await logged(async () => {
      expect((await signedGet(server, LIST, caller)).status).toBe(200);
      expect((await fetch(`${server.url}/public/api/ver1/ping`)).status).toBe(200);
    });
    expect(written).toEqual([]);
  });

  it('logs an unknown key at info, with a prefix of the key and never the key or signature', async () => {
    const stranger = { apiKey: randomBytes(32).toString('hex'), secret: 'guess' };
    const written = await logged(async () => {
      expect((await signedGet(server, LIST, stranger)).status).toBe(401);
    });
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      level: INFO,
      msg: 'request refused',
      status: 401,
      code: 'api_key_invalid_or_expired',
      route: '/public/api/ver1/accounts',
      method: 'GET',
      ip: '127.0.0.1',
      keyPrefix: stranger.apiKey.slice(0, 8),
    });
    expect(JSON.stringify(written)).not.toContain(stranger.apiKey);
  });

  it('logs a bad signature at info, without the signature, the secret or the key', async () => {
    const forged = { apiKey: caller.apiKey, secret: 'not-the-secret' };
    const written = await logged(async () => {
      expect((await signedGet(server, LIST, forged)).status).toBe(401);
    });
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ level: INFO, status: 401, code: 'signature_invalid' });
    const text = JSON.stringify(written);
    expect(text).not.toContain(caller.apiKey);
    expect(text).not.toContain(caller.secret ?? '');
    expect(text).not.toContain('not-the-secret');
    expect(text).not.toContain(signHmac('not-the-secret', LIST));
  });

  it('logs invalid parameters at info, naming the fields, with the caller’s key id', async () => {
    const written = await logged(async () => {
      expect((await signedGet(server, `${LIST}?page=abc`, caller)).status).toBe(400);
    });
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      level: INFO,
      status: 400,
      code: 'record_invalid',
      fields: ['page'],
      route: '/public/api/ver1/accounts',
    });
    expect(typeof written[0]?.keyId).toBe('number');
  });

  it('logs an unknown route at info, without its query string', async () => {
    const written = await logged(async () => {
      expect((await fetch(`${server.url}/nowhere?api_key=abcdef`)).status).toBe(404);
    });
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ level: INFO, status: 404, route: '/nowhere' });
    expect(JSON.stringify(written)).not.toContain('abcdef');
  });

  // PostgreSQL away is an outage (503 database_unavailable, warn: one line per request at
  // error would drown real bugs); a closed PGlite is a failure of ours (500, error).
  it('logs the database gone: an outage at warn, a failure of ours at error', async () => {
    const outage = await cutStorage(server);
    try {
      // A key never seen is looked up in the database, which is away.
      const stranger = { apiKey: randomBytes(32).toString('hex'), secret: 'guess' };
      let status = 0;
      const written = await logged(async () => {
        status = (await signedGet(server, LIST, stranger)).status;
      });
      expect(status).toBeGreaterThanOrEqual(500);
      expect(written).toHaveLength(1);
      expect(written[0]).toMatchObject(
        status === 503
          ? { level: WARN, code: 'database_unavailable', msg: 'request failed' }
          : { level: ERROR, status: 500, msg: 'request failed' },
      );
      if (onPostgres) expect(status).toBe(503);
    } finally {
      await outage.restore();
    }
  });
});

describe('the levels of limits and bans', () => {
  it('logs a key over its rate once, at warn, with Retry-After', async () => {
    const written: LogLine[] = [];
    const limited = await startTestServer(
      { OPENCOMMAS_RATE_LIMIT: '2/1m' },
      { logger: capturingLogger(written) },
    );
    try {
      const { credentials } = await userWithKey(limited.services);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await signedGet(limited, LIST, credentials)).status);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await limited.close();
    }
    expect(written.filter((line) => line.level >= WARN)).toEqual([
      expect.objectContaining({
        level: WARN,
        msg: 'request refused',
        status: 429,
        code: 'rate_limit_exceeded',
        route: '/public/api/ver1/accounts',
        retryAfter: 300, // the key's mitigation period (OPENCOMMAS_RATE_LIMIT_BLOCK, 5m)
      }),
    ]);
  });

  // The same error handler on an app of its own, whose routes refuse as the limiter does.
  it.each([
    ['rate_limit_exceeded', 429],
    ['ip_banned', 418],
  ] as const)('logs %s (%i) at warn, with Retry-After', async (code, status) => {
    const written: LogLine[] = [];
    const logger: FastifyBaseLogger = capturingLogger(written);
    const app = Fastify({ loggerInstance: logger });
    registerErrorHandling(app);
    app.get('/limited', async () => {
      throw new AppError(code, 'Too many requests').retryAfter(120_000);
    });
    try {
      const response = await app.inject({ url: '/limited', headers: { apikey: 'k'.repeat(64) } });
      expect(response.statusCode).toBe(status);
      expect(response.headers['retry-after']).toBe('120');
    } finally {
      await app.close();
    }
    const refusals = written.filter((line) => line.msg === 'request refused');
    expect(refusals).toEqual([
      expect.objectContaining({
        level: WARN,
        status,
        code,
        retryAfter: 120,
        route: '/limited',
        keyPrefix: 'kkkkkkkk',
      }),
    ]);
  });
});
