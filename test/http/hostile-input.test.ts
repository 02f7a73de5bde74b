import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHmac } from '../../src/auth/signature.ts';
import { buildApp } from '../../src/http/app.ts';
import { DEFAULT_HTTP_LIMITS } from '../../src/http/limits.ts';
import {
  LIST,
  signedGet,
  signedPost,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

// Input PostgreSQL cannot store, bodies that try to poison prototypes, and requests too big:
// each a 4xx in the 3Commas error shape, never a 500, and nothing reaches storage.

let server: TestServer;
let reader: Credentials;
let writer: Credentials;
let writerUserId: number;

beforeAll(async () => {
  server = await startTestServer();
  reader = (await userWithKey(server.services)).credentials;
  const owner = await userWithKey(server.services, {
    permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
  });
  writer = owner.credentials;
  writerUserId = owner.user.id;
});
afterAll(() => server.close());

interface ErrorShape {
  error: string;
  error_description: string;
  error_attributes?: Record<string, string[]>;
}

async function expectInvalid(response: Response, field: string): Promise<void> {
  const body = (await response.json()) as ErrorShape;
  expect({ status: response.status, error: body.error }).toEqual({
    status: 400,
    error: 'record_invalid',
  });
  expect(Object.keys(body.error_attributes ?? {})).toEqual([field]);
  expect(body.error_attributes?.[field]?.[0]).toMatch(/NUL byte or text that is not valid UTF-8/);
}

const accountNames = async () =>
  (
    await server.services.storage.db
      .selectFrom('accounts')
      .select('name')
      .where('user_id', '=', writerUserId)
      .execute()
  ).map((row) => row.name);

/** POST with a body sent exactly as given, signed over target + body as 3Commas clients do. */
function rawPost(target: string, body: string, contentType: string, credentials = writer) {
  return fetch(`${server.url}${target}`, {
    method: 'POST',
    headers: {
      Apikey: credentials.apiKey,
      Signature: signHmac(credentials.secret ?? '', `${target}?${body}`),
      'content-type': contentType,
    },
    body,
  });
}

describe('text PostgreSQL cannot store', () => {
  it('a NUL byte in a query parameter is a 400 naming it (GET /ver1/accounts?api_key=%00)', async () => {
    await expectInvalid(await signedGet(server, `${LIST}?api_key=%00`, reader), 'api_key');
  });

  it('a NUL byte or a lone surrogate in a JSON body field is a 400 naming it; nothing is stored', async () => {
    const before = await accountNames();
    await expectInvalid(
      await signedPost(server, '/public/api/ver1/accounts/new', writer, {
        type: 'binance',
        name: 'bad\u0000name',
      }),
      'name',
    );
    // JSON.stringify writes a lone surrogate as the escape "\ud800".
    await expectInvalid(
      await signedPost(server, '/public/api/ver1/accounts/new', writer, {
        type: 'binance',
        name: 'half \ud800 a pair',
      }),
      'name',
    );
    expect(await accountNames()).toEqual(before);
  });

  it('a NUL byte in a form body or in a parameter name is a 400; a paired surrogate is fine', async () => {
    await expectInvalid(
      await rawPost(
        '/public/api/ver1/accounts/new',
        'type=binance&name=a%00b',
        'application/x-www-form-urlencoded',
      ),
      'name',
    );
    await expectInvalid(
      await signedGet(server, `${LIST}?x%00y=1`, reader),
      'x\\u0000y', // the bad name, escaped so the answer is itself storable
    );
    const emoji = await signedPost(server, '/public/api/ver1/accounts/new', writer, {
      type: 'binance',
      name: 'Rocket \u{1F680}',
    });
    expect(emoji.status).toBe(201);
    expect(await accountNames()).toContain('Rocket \u{1F680}');
  });

  it('invalid UTF-8 percent-encoding (%ED%A0%80, %FF) is kept as the literal text, never a 500', async () => {
    const surrogate = await signedGet(server, `${LIST}?api_key=%ED%A0%80`, reader);
    expect(surrogate.status).toBe(200);
    expect(await surrogate.json()).toEqual([]);
    const lone = await signedGet(server, `${LIST}?api_key=%FF`, reader);
    expect(lone.status).toBe(200);
  });

  it('a few hundred fuzzed signed queries (random bytes, percent-encodings) never answer 5xx', async () => {
    const random = mulberry32(20_261_129);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    // Only characters fetch sends as they are, so the signature covers the bytes on the wire.
    const pieces = [
      '%00',
      '%ED%A0%80',
      '%ED%B0%80',
      '%F0%9F%9A%80',
      '%C3%A9',
      '%C3',
      '%FF',
      '%E2%82',
      '%25',
      '%',
      '%zz',
      '%2F',
      '%26',
      '%3D',
      '+',
      '[',
      ']',
      '.',
      '-',
      '_',
      '~',
      '!',
      '$',
      '(',
      ')',
      '*',
      ',',
      ';',
      ':',
      '@',
      'a',
      'Z',
      '0',
      '9',
      '1',
      '-1',
      '1e9',
      '99999999999999999999',
      '0x10',
    ];
    const names = ['api_key', 'page', 'per_page', 'api_key[]', 'page[a]', '', '__proto__'];
    const word = (length: number) => Array.from({ length }, () => pick(pieces)).join('');
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    for (let i = 0; i < 300; i++) {
      const pairs = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
        const name = random() < 0.6 ? pick(names) : word(1 + Math.floor(random() * 4));
        return random() < 0.1 ? name : `${name}=${word(Math.floor(random() * 6))}`;
      });
      const target = `${LIST}?${pairs.join('&')}`;
      const response = await signedGet(server, target, reader);
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status >= 500 || response.status === 401)
        failures.push(`${response.status} ${target}`);
    }
    // 401 would mean the signature did not cover the bytes sent: the fuzz would test nothing.
    expect(failures).toEqual([]);
    // Both outcomes were reached: some queries were served, some refused as invalid.
    expect(statuses.get(200)).toBeGreaterThan(10);
    expect(statuses.get(400)).toBeGreaterThan(10);
  });
});

describe('prototype poisoning', () => {
  it('a JSON body setting __proto__ or constructor.prototype is a 400', async () => {
    for (const body of [
      '{"type":"binance","name":"x","__proto__":{"isAdmin":true}}',
      '{"type":"binance","name":"x","constructor":{"prototype":{"isAdmin":true}}}',
    ]) {
      const response = await rawPost('/public/api/ver1/accounts/new', body, 'application/json');
      expect(response.status).toBe(400);
      const answer = (await response.json()) as ErrorShape;
      expect(answer.error).toBe('bad_request');
      expect(answer.error_description).toMatch(/__proto__/);
    }
  });

  it('a form body with a __proto__ or constructor field is a 400', async () => {
    for (const body of ['type=binance&name=x&__proto__=1', 'constructor=1&type=binance&name=x']) {
      const response = await rawPost(
        '/public/api/ver1/accounts/new',
        body,
        'application/x-www-form-urlencoded',
      );
      expect(response.status).toBe(400);
      const answer = (await response.json()) as ErrorShape;
      expect(answer.error).toBe('bad_request');
      expect(answer.error_description).toMatch(/(__proto__|constructor) is not allowed/);
    }
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});

describe('request size limits', () => {
  it('a body over the limit (1 MiB by default) is a 413 in the 3Commas error shape', async () => {
    const body = JSON.stringify({ type: 'binance', name: 'x'.repeat(2 * 1024 * 1024) });
    const response = await rawPost('/public/api/ver1/accounts/new', body, 'application/json');
    expect(response.status).toBe(413);
    const answer = (await response.json()) as ErrorShape;
    expect(answer.error).toBe('bad_request');
    expect(answer.error_description).toMatch(/too large/i);
  });

  it('request headers over the limit (16 KiB) are a 431 in the 3Commas error shape', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(`${server.url}${LIST}`, {
        headers: { 'x-padding': 'x'.repeat(20 * 1024) },
      });
      request.on('response', (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      request.end();
    });
    expect(answer.status).toBe(431);
    expect(JSON.parse(answer.body)).toEqual({
      error: 'bad_request',
      error_description: 'Request headers are too large',
    });
  });
});

describe('slow clients', () => {
  it('a request whose head never completes gets a 408 and its connection closed; an idle keep-alive connection is closed', async () => {
    // The same app with short deadlines: 1 s for a whole request, 300 ms idle keep-alive.
    const app = await buildApp(server.services, {
      limits: { ...DEFAULT_HTTP_LIMITS, requestTimeoutMs: 1000, keepAliveTimeoutMs: 300 },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    /** Writes `text`, then reads until the server closes the connection. */
    const exchange = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(text));
        let received = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (received += chunk));
        socket.on('error', reject);
        socket.on('close', () => resolve(received));
      });
    try {
      // Slowloris: the head starts and never ends.
      const stalled = await exchange(`GET ${LIST} HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1`);
      expect(stalled).toMatch(/^HTTP\/1\.1 408 /);
      expect(stalled).toContain('"error":"bad_request"');
      // A whole request is answered; the connection kept alive after it is closed when idle.
      const idle = await exchange(`GET /livez HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      expect(idle).toMatch(/^HTTP\/1\.1 \d{3} /);
      expect(idle).toMatch(/keep-alive/i);
    } finally {
      await app.close();
    }
  });
});

/** A small seeded PRNG: the same fuzz every run. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
