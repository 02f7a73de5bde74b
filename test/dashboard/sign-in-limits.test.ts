// Sign-in attempts are limited like the API's requests: failed attempts count against the
// caller's IP, and once over the limit even the right password is refused until it passes.
// Behind an HTTPS proxy the session cookie is Secure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

let server: TestServer;
let email: string;
const PASSWORD = 'a long enough password';

beforeAll(async () => {
  server = await startTestServer({
    OPENCOMMAS_RATE_LIMIT: '5/1m',
    OPENCOMMAS_TRUST_PROXY: '127.0.0.1/32',
  });
  const { user } = await userWithKey(server.services);
  email = user.email;
  await server.services.sessions.setPassword(user.id, PASSWORD);
});
afterAll(async () => {
  await server?.close();
});

async function attempt(password: string, headers: Record<string, string> = {}) {
  const form = await fetch(`${server.url}/login`, { headers });
  const cookie = form.headers
    .getSetCookie()
    .map((l) => l.split(';')[0])
    .join('; ');
  const token = /name="_login" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  return fetch(`${server.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...headers, cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _login: token, email, password }),
  });
}

describe('sign-in limits', () => {
  it('marks the cookie Secure when the request came over HTTPS through a trusted proxy', async () => {
    const response = await attempt(PASSWORD, {
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '203.0.113.9',
    });
    expect(response.status).toBe(303);
    const line = response.headers.getSetCookie().find((l) => l.startsWith('opencommas_session='));
    expect(line).toMatch(/; Secure/);
  });

  it('refuses an IP that keeps failing, even with the right password, and says when to retry', async () => {
    const from = { 'x-forwarded-for': '203.0.113.7' };
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await attempt('wrong password!', from)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
    const right = await attempt(PASSWORD, from);
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(right.headers.getSetCookie().some((l) => l.startsWith('opencommas_session='))).toBe(
      false,
    );
    // Another caller is not affected.
    expect((await attempt(PASSWORD, { 'x-forwarded-for': '203.0.113.8' })).status).toBe(303);
  });

  it('counts cookies that name no session against the IP, like bad signatures', async () => {
    const from = { 'x-forwarded-for': '203.0.113.10' };
    const guess = () =>
      fetch(`${server.url}/`, {
        redirect: 'manual',
        headers: { ...from, cookie: `opencommas_session=${'A'.repeat(43)}` },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await guess()).status);
    // Sent to the sign-in page (and the cookie cleared) until the IP is over its limit.
    expect(statuses.slice(0, 5)).toEqual([303, 303, 303, 303, 303]);
    expect(statuses.at(-1)).toBe(429);
    const first = await fetch(`${server.url}/`, {
      redirect: 'manual',
      headers: {
        'x-forwarded-for': '203.0.113.11',
        cookie: `opencommas_session=${'B'.repeat(43)}`,
      },
    });
    expect(first.headers.getSetCookie().some((l) => /^opencommas_session=;/.test(l))).toBe(true);
  });
});
