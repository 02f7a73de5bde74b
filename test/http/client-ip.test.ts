import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedGetFrom } from '../support/from-ip.ts';
import { LIST, startTestServer, userWithKey, type TestServer } from '../support/server.ts';

// Behind a proxy the caller's IP comes from X-Forwarded-For, but only when the peer is a proxy
// we trust (OPENCOMMAS_TRUST_PROXY); from anyone else the header is ignored. Here 127.0.0.1 is
// the trusted proxy and 127.0.0.2/.3 are callers reaching the server directly.

const PROXY = '127.0.0.1';
const LIMIT = 3;
let server: TestServer;
let userId: number;

beforeAll(async () => {
  server = await startTestServer({
    OPENCOMMAS_TRUST_PROXY: `${PROXY}/32`,
    OPENCOMMAS_RATE_LIMIT: `${LIMIT}/1m`,
  });
  userId = (await userWithKey(server.services)).user.id;
});
afterAll(() => server.close());

async function whitelistedKey(ip: string) {
  const key = await server.services.keys.create({
    user_id: userId,
    permissions: ['ACCOUNTS_READ'],
    ip_whitelist: [ip],
  });
  return { apiKey: key.api_key, secret: key.secret ?? '' };
}

const forwarded = (chain: string) => ({ 'X-Forwarded-For': chain });

describe('the IP whitelist', () => {
  it('follows X-Forwarded-For from the trusted proxy', async () => {
    const key = await whitelistedKey('203.0.113.7');
    const answer = await signedGetFrom(PROXY, server.url, LIST, key, forwarded('203.0.113.7'));
    expect(answer.status).toBe(200);
  });

  it('takes the hop next to the proxy, not what the caller wrote further left', async () => {
    const key = await whitelistedKey('203.0.113.7');
    // The caller (198.51.100.9) claims to be 203.0.113.7; our proxy appends who it really is.
    const answer = await signedGetFrom(
      PROXY,
      server.url,
      LIST,
      key,
      forwarded('203.0.113.7, 198.51.100.9'),
    );
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('ip_not_allowed');
    expect(answer.body.error_description).toContain('198.51.100.9');
  });

  it('ignores the header from an untrusted peer', async () => {
    const key = await whitelistedKey('203.0.113.7');
    const answer = await signedGetFrom(
      '127.0.0.2',
      server.url,
      LIST,
      key,
      forwarded('203.0.113.7'),
    );
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('ip_not_allowed');
    expect(answer.body.error_description).toContain('127.0.0.2');
    const own = await whitelistedKey('127.0.0.2');
    expect(
      (await signedGetFrom('127.0.0.2', server.url, LIST, own, forwarded('1.1.1.1'))).status,
    ).toBe(200);
  });
});

describe('rate limits and bans', () => {
  const badSignature = { apiKey: 'f'.repeat(64), secret: 'wrong' };

  it('count against the forwarded IP behind the trusted proxy, and against the peer otherwise', async () => {
    const via = (chain: string) =>
      signedGetFrom(PROXY, server.url, LIST, badSignature, forwarded(chain));
    for (let i = 0; i < LIMIT; i++) expect((await via('203.0.113.50')).status).toBe(401);
    const refused = await via('203.0.113.50');
    expect(refused.status).toBe(429);
    expect(refused.body.error_description).toContain('203.0.113.50');
    // Another client behind the same proxy is not refused; neither is the proxy itself.
    expect((await via('203.0.113.51')).status).toBe(401);
    expect((await signedGetFrom(PROXY, server.url, LIST, badSignature)).status).toBe(401);
    // A direct caller naming the refused IP is counted as itself: the header buys nothing.
    const direct = await signedGetFrom(
      '127.0.0.3',
      server.url,
      LIST,
      badSignature,
      forwarded('203.0.113.50'),
    );
    expect(direct.status).toBe(401);
  });
});
