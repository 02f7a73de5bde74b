// The dashboard over plain HTTP, as a browser without JavaScript uses it: the session cookie,
// sign-in by link and by password, CSRF, bad input refused with nothing changed, and every
// figure on the pages equal to what the signed API answers. The browser test
// (dashboard-browser.test.ts) drives the same pages in Chromium.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoCredentials } from '../../src/demo/demo.ts';
import {
  csrfOf,
  getPage,
  sessionCookieOf,
  signInByLink,
  submitForm,
  type SignedInBrowser,
} from '../support/dashboard.ts';
import {
  LIST,
  signedGet,
  startTestServer,
  userWithKey,
  type TestServer,
} from '../support/server.ts';

let server: TestServer;
let demo: DemoCredentials;
let browser: SignedInBrowser;

beforeAll(async () => {
  // No chain to reach: a wallet connected here is stored and waits for its first sync.
  server = await startTestServer({ OPENCOMMAS_ETH_RPC_URL: 'http://127.0.0.1:9' });
  demo = await seedDemo(server.services);
  browser = await signInByLink(server, demo.user_id);
});
afterAll(async () => {
  await server?.close();
});

/** The docs' RSA key pair (test/fixtures), as PEM. */
const docsRsaKey = (half: 'public' | 'private') =>
  readFileSync(new URL(`../fixtures/docs-rsa-${half}.pem`, import.meta.url), 'utf8');
const demoCaller = () => ({ apiKey: demo.api_key, secret: demo.secret });

/** Every `<data value>` inside the element marked `marker`, in order. */
function figuresIn(html: string, marker: string): string[] {
  const start = html.indexOf(marker);
  expect(start, `${marker} is on the page`).toBeGreaterThanOrEqual(0);
  // The box ends at its </div> (a totals box) — or the page does.
  const close = html.indexOf('</div>', start);
  const end = close > 0 ? close : html.length;
  return [...html.slice(start, end).matchAll(/<data\s+class="figure"\s+value="([^"]*)"/g)].map(
    (m) => m[1] ?? '',
  );
}

/** The exact figures of one row or one box of a page: `<data value>`s after `marker`. */
function firstFigureAfter(html: string, marker: string): string {
  const start = html.indexOf(marker);
  expect(start, `${marker} is on the page`).toBeGreaterThanOrEqual(0);
  const match = /<data\s+class="figure"\s+value="([^"]*)"/.exec(html.slice(start));
  return match?.[1] ?? '';
}

describe('without a session', () => {
  it('sends pages to the sign-in page and back, and answers the JSON routes 401', async () => {
    const overview = await getPage(server, undefined, '/');
    expect(overview.status).toBe(303);
    expect(overview.headers.get('location')).toBe('/login?next=%2F');
    const account = await getPage(server, undefined, `/accounts/${demo.account_ids[0]}`);
    expect(account.headers.get('location')).toBe(
      `/login?next=${encodeURIComponent(`/accounts/${demo.account_ids[0]}`)}`,
    );
    const json = await getPage(server, undefined, '/app/api/summary');
    expect(json.status).toBe(401);
    expect(await json.json()).toMatchObject({ error: 'unauthorized' });
  });

  it('changes nothing on a POST', async () => {
    const response = await fetch(`${server.url}/settings`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'display_currency=EUR',
    });
    expect(response.status).toBe(303);
    expect((await server.services.users.get(demo.user_id)).display_currency).toBe('USD');
  });
});

describe('signing in by link', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie and goes where it was asked', async () => {
    const link = await server.services.sessions.createLoginLink(demo.user_id);
    const response = await fetch(
      `${server.url}/login?token=${link.token}&next=${encodeURIComponent('/keys')}`,
      { redirect: 'manual' },
    );
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/keys');
    const line = response.headers.getSetCookie().find((l) => l.startsWith('opencommas_session='));
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Strict/);
    expect(line).toMatch(/; Path=\//);
    expect(line).not.toMatch(/; Secure/);
  });

  it('refuses a link used twice, with no session', async () => {
    const link = await server.services.sessions.createLoginLink(demo.user_id);
    expect(
      (await fetch(`${server.url}/login?token=${link.token}`, { redirect: 'manual' })).status,
    ).toBe(303);
    const again = await fetch(`${server.url}/login?token=${link.token}`, { redirect: 'manual' });
    expect(again.status).toBe(401);
    expect(await again.text()).toContain('This sign-in link is invalid, used or expired');
    expect(again.headers.getSetCookie().some((l) => l.startsWith('opencommas_session='))).toBe(
      false,
    );
  });

  it('never redirects to another site after signing in', async () => {
    for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
      const link = await server.services.sessions.createLoginLink(demo.user_id);
      const response = await fetch(
        `${server.url}/login?token=${link.token}&next=${encodeURIComponent(next)}`,
        { redirect: 'manual' },
      );
      expect(response.headers.get('location')).toBe('/');
    }
  });
});

describe('signing in with a password', () => {
  let email: string;
  let userId: number;

  beforeAll(async () => {
    const { user } = await userWithKey(server.services);
    email = user.email;
    userId = user.id;
    await server.services.sessions.setPassword(userId, 'correct horse battery');
  });

  async function loginForm() {
    const response = await fetch(`${server.url}/login`);
    const html = await response.text();
    const cookie = response.headers
      .getSetCookie()
      .map((l) => l.split(';')[0])
      .join('; ');
    const token = /name="_login" value="([^"]+)"/.exec(html)?.[1] ?? '';
    return { cookie, token };
  }

  const postLogin = (cookie: string, fields: Record<string, string>) =>
    fetch(`${server.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });

  it('opens a session with the right password and refuses a wrong one in one message', async () => {
    const form = await loginForm();
    const wrong = await postLogin(form.cookie, {
      _login: form.token,
      email,
      password: 'not it at all',
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('Email or password is wrong.');
    const unknown = await postLogin(form.cookie, {
      _login: form.token,
      email: 'nobody@example.com',
      password: 'correct horse battery',
    });
    expect(await unknown.text()).toContain('Email or password is wrong.');

    const right = await postLogin(form.cookie, {
      _login: form.token,
      email,
      password: 'correct horse battery',
    });
    expect(right.status).toBe(303);
    const overview = await getPage(server, { cookie: sessionCookieOf(right) }, '/');
    expect(overview.status).toBe(200);
    expect(await overview.text()).toContain(email);
  });

  it('refuses a sign-in form posted without its own token (from another site)', async () => {
    const response = await postLogin('', { email, password: 'correct horse battery' });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie().some((l) => l.startsWith('opencommas_session='))).toBe(
      false,
    );
  });
});

describe('the overview', () => {
  it('shows the totals and every account with the figures the API serves', async () => {
    const html = await (await getPage(server, browser, '/')).text();
    const summary = (await (
      await signedGet(server, `${LIST}/summary`, demoCaller())
    ).json()) as Record<string, { amount: string | number }>;
    expect(firstFigureAfter(html, 'data-figure="value"')).toBe(
      summary.primary_display_currency_amount!.amount,
    );
    const day = figuresIn(html, 'data-figure="day"');
    expect(day[0]).toBe(summary.day_profit_primary_display_currency!.amount);
    expect(day[1]).toBe(summary.day_profit_primary_display_currency_percentage!.amount);
    const period = figuresIn(html, 'data-figure="period"');
    expect(period[0]).toBe(summary.primary_display_currency_profit!.amount);
    expect(period[1]).toBe(summary.primary_display_currency_profit_percentage!.amount);
    expect(firstFigureAfter(html, 'data-figure="total"')).toBe(
      String(summary.total_primary_display_currency_profit!.amount),
    );

    const accounts = (await (await signedGet(server, LIST, demoCaller())).json()) as Array<
      Record<string, unknown> & {
        id: number;
        name: string;
        primary_display_currency_amount: { amount: string };
      }
    >;
    expect(accounts).toHaveLength(demo.account_ids.length);
    for (const account of accounts) {
      const row = `data-account-id="${account.id}"`;
      expect(html).toContain(`>${account.name}</a>`);
      expect(firstFigureAfter(html, row)).toBe(account.primary_display_currency_amount.amount);
    }
  });

  it('serves its JSON from the same bytes as the API', async () => {
    const ours = await (await getPage(server, browser, '/app/api/summary')).text();
    const api = await (await signedGet(server, `${LIST}/summary`, demoCaller())).text();
    expect(ours).toBe(api);
    const id = demo.account_ids[0]!;
    const table = await (await getPage(server, browser, `/app/api/table?target=${id}`)).text();
    const apiTable = await (
      await fetch(`${server.url}${LIST}/${id}/account_table_data`, {
        method: 'POST',
        headers: {
          Apikey: demo.api_key,
          Signature: (await import('../../src/auth/signature.ts')).signHmac(
            demo.secret,
            `${LIST}/${id}/account_table_data`,
          ),
        },
      })
    ).text();
    expect(table).toBe(apiTable);
  });

  it('draws the balance history from balance_chart_data, for each range', async () => {
    for (const range of ['1W', '1M', '3M', '1Y', 'ALL']) {
      const response = await getPage(
        server,
        browser,
        `/app/api/balance-chart?target=summary&range=${range}`,
      );
      expect(response.status).toBe(200);
      const points = (await response.json()) as Array<{ date: number; usd: number }>;
      expect(points.length).toBeGreaterThan(range === '1W' ? 7 : 28);
    }
    const bad = await getPage(server, browser, '/app/api/balance-chart?target=summary&range=2W');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'record_invalid' });
  });

  it('shows a locked account as locked, with the reason', async () => {
    const { user } = await userWithKey(server.services);
    const account = await server.services.accounts.add({
      user_id: user.id,
      market_code: 'binance',
      name: 'Revoked key',
      api_key: 'revoked',
      secret: 'revoked',
      sync: false,
    });
    await server.services.storage.db
      .updateTable('accounts')
      .set({ is_locked: true, lock_reason: 'Binance refused the API key', api_key_invalid: true })
      .where('id', '=', account.id)
      .execute();
    server.services.lister.cache.invalidate(user.id);
    const html = await (await getPage(server, await signInByLink(server, user.id), '/')).text();
    const row = html.slice(html.indexOf(`data-account-id="${account.id}"`));
    expect(row).toContain('Locked');
    expect(row).toContain('Binance refused the API key');
  });

  it('says what to do when there are no accounts yet', async () => {
    const { user } = await userWithKey(server.services);
    const html = await (await getPage(server, await signInByLink(server, user.id), '/')).text();
    expect(html).toContain('No accounts yet');
    expect(html).toContain('href="/connect"');
  });

  it('sets headers that keep the pages from being framed, sniffed or cached', async () => {
    const response = await getPage(server, browser, '/');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('an account', () => {
  it('shows its holdings as account_table_data gives them', async () => {
    const id = demo.account_ids[0]!;
    const html = await (await getPage(server, browser, `/accounts/${id}`)).text();
    const { signHmac } = await import('../../src/auth/signature.ts');
    const path = `${LIST}/${id}/account_table_data`;
    const rows = (await (
      await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { Apikey: demo.api_key, Signature: signHmac(demo.secret, path) },
      })
    ).json()) as Array<{ currency_code: string; position: number; usd_value: number | null }>;
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const at = `data-asset="${row.currency_code}"`;
      expect(firstFigureAfter(html, at)).toBe(String(row.position));
      const values = figuresIn(html.slice(html.indexOf(at)), `data-field="value"`);
      expect(values[0]).toBe(String(row.usd_value));
    }
  });

  it('says an account not synced yet is on its way, with nothing to show yet', async () => {
    const { user } = await userWithKey(server.services);
    const owner = await signInByLink(server, user.id);
    const connected = await submitForm(server, owner, '/connect/ethereumwallet', {
      name: 'Cold wallet',
      address: '0x000000000000000000000000000000000000dead',
    });
    expect(connected.status).toBe(303);
    const html = await (
      await getPage(server, owner, connected.headers.get('location') ?? '')
    ).text();
    expect(html).toContain('Not synced yet');
    expect(html).toContain('No holdings yet');
    const overview = await (await getPage(server, owner, '/')).text();
    expect(overview).toContain('not yet (due');
  });

  it('is not found for another user, on the page and in JSON', async () => {
    const other = await userWithKey(server.services);
    const stranger = await signInByLink(server, other.user.id);
    const id = demo.account_ids[0]!;
    expect((await getPage(server, stranger, `/accounts/${id}`)).status).toBe(404);
    expect((await getPage(server, stranger, `/app/api/table?target=${id}`)).status).toBe(404);
    expect((await getPage(server, browser, '/accounts/not-a-number')).status).toBe(404);
    const rename = await submitForm(server, stranger, `/accounts/${id}/rename`, {
      name: 'Mine now',
    });
    expect(rename.status).toBe(404);
    expect((await server.services.accounts.findAny(id)).name).not.toBe('Mine now');
  });

  it('renames, and refuses a blank or too long name changing nothing', async () => {
    const id = demo.account_ids[1]!;
    const before = (await server.services.accounts.findAny(id)).name;
    const blank = await submitForm(server, browser, `/accounts/${id}/rename`, { name: '   ' });
    expect(blank.status).toBe(400);
    expect(await blank.text()).toContain('role="alert"');
    const long = await submitForm(server, browser, `/accounts/${id}/rename`, {
      name: 'x'.repeat(101),
    });
    expect(long.status).toBe(400);
    expect((await server.services.accounts.findAny(id)).name).toBe(before);

    const renamed = await submitForm(server, browser, `/accounts/${id}/rename`, {
      name: 'Bybit (renamed)',
    });
    expect(renamed.status).toBe(303);
    expect(renamed.headers.get('location')).toBe(`/accounts/${id}?done=renamed`);
    const list = (await (await signedGet(server, LIST, demoCaller())).json()) as Array<{
      id: number;
      name: string;
    }>;
    expect(list.find((a) => a.id === id)?.name).toBe('Bybit (renamed)');
  });

  it('refuses a form without the session’s CSRF token, changing nothing', async () => {
    const id = demo.account_ids[1]!;
    const before = (await server.services.accounts.findAny(id)).name;
    const forged = await submitForm(
      server,
      browser,
      `/accounts/${id}/rename`,
      { name: 'Forged' },
      'not-the-token',
    );
    expect(forged.status).toBe(403);
    expect((await server.services.accounts.findAny(id)).name).toBe(before);
  });
});

describe('settings', () => {
  it('changes the display currency, which the API then shows too', async () => {
    const refused = await submitForm(server, browser, '/settings', { display_currency: 'XYZ' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('is not supported');
    expect((await server.services.users.get(demo.user_id)).display_currency).toBe('USD');

    const saved = await submitForm(server, browser, '/settings', { display_currency: 'BTC' });
    expect(saved.status).toBe(303);
    const summary = (await (await signedGet(server, `${LIST}/summary`, demoCaller())).json()) as {
      primary_display_currency_amount: { currency: string; amount: string };
    };
    expect(summary.primary_display_currency_amount.currency).toBe('BTC');
    const html = await (await getPage(server, browser, '/')).text();
    expect(firstFigureAfter(html, 'data-figure="value"')).toBe(
      summary.primary_display_currency_amount.amount,
    );
    expect(html).toMatch(/data-exact="[0-9.]+ BTC"/);
    await submitForm(server, browser, '/settings', { display_currency: 'USD' });
  });
});

describe('the password, from settings', () => {
  it('sets a first password, then changes it only with the current one', async () => {
    const { user } = await userWithKey(server.services);
    const first = await signInByLink(server, user.id);
    const other = await signInByLink(server, user.id);
    expect(await (await getPage(server, first, '/settings')).text()).toContain('No password yet');

    const mismatch = await submitForm(server, first, '/settings/password', {
      password: 'a good long password',
      confirm: 'another long password',
    });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.text()).toContain('Confirm does not match the new password');
    const short = await submitForm(server, first, '/settings/password', {
      password: 'short',
      confirm: 'short',
    });
    expect(short.status).toBe(400);
    expect(await server.services.sessions.hasPassword(user.id)).toBe(false);

    const set = await submitForm(server, first, '/settings/password', {
      password: 'a good long password',
      confirm: 'a good long password',
    });
    expect(set.status).toBe(303);
    // This browser goes on with a new session; every other session of the user has ended.
    const renewed = { cookie: sessionCookieOf(set) };
    expect((await getPage(server, renewed, '/settings')).status).toBe(200);
    expect((await getPage(server, first, '/settings')).status).toBe(303);
    expect((await getPage(server, other, '/settings')).status).toBe(303);
    await server.services.sessions.signIn(user.email, 'a good long password');

    const wrong = await submitForm(server, renewed, '/settings/password', {
      current: 'not the password',
      password: 'a newer long password',
      confirm: 'a newer long password',
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('The current password is wrong.');
    await server.services.sessions.signIn(user.email, 'a good long password');
  });
});

describe('API keys', () => {
  it('creates a key whose secret is shown once and signs requests, then revokes it', async () => {
    const created = await submitForm(server, browser, '/keys', {
      permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
      ip_whitelist: '127.0.0.1, 10.0.0.0/8',
    });
    expect(created.status).toBe(201);
    const page = await created.text();
    const apiKey = /id="new-api-key">([0-9a-f]{64})</.exec(page)?.[1] ?? '';
    const secret = /id="new-secret">([0-9a-f]{64})</.exec(page)?.[1] ?? '';
    expect(apiKey).toHaveLength(64);
    expect(page).toContain(`Apikey: ${apiKey}`);
    const row = await server.services.storage.db
      .selectFrom('api_keys')
      .select(['permissions', 'ip_whitelist'])
      .where('api_key', '=', apiKey)
      .executeTakeFirstOrThrow();
    expect(row.permissions).toEqual(['ACCOUNTS_READ', 'ACCOUNTS_WRITE']);
    expect(row.ip_whitelist).toEqual(['127.0.0.1', '10.0.0.0/8']);
    expect((await signedGet(server, LIST, { apiKey, secret })).status).toBe(200);

    const list = await (await getPage(server, browser, '/keys')).text();
    expect(list).toContain(apiKey.slice(0, 12));
    expect(list).not.toContain(secret);

    const keyId = /action="\/keys\/(\d+)\/revoke"/.exec(list)?.[1];
    const revoked = await submitForm(server, browser, `/keys/${keyId}/revoke`, {});
    expect(revoked.status).toBe(303);
    expect((await signedGet(server, LIST, { apiKey, secret })).status).toBe(401);
  });

  it('refuses bad keys in words and creates nothing', async () => {
    const count = async () =>
      (await server.services.storage.db.selectFrom('api_keys').select('id').execute()).length;
    const before = await count();
    const rsa = await submitForm(server, browser, '/keys', {
      permissions: 'ACCOUNTS_READ',
      signing: 'RSA',
    });
    expect(rsa.status).toBe(400);
    expect(await rsa.text()).toContain('is needed to sign with RSA');
    const ip = await submitForm(server, browser, '/keys', {
      permissions: 'ACCOUNTS_READ',
      ip_whitelist: 'not-an-ip',
    });
    expect(ip.status).toBe(400);
    const pem = docsRsaKey('public');
    const both = await submitForm(server, browser, '/keys', {
      permissions: 'ACCOUNTS_READ',
      signing: 'HMAC',
      rsa_public_key: pem,
    });
    expect(both.status).toBe(400);
    expect(await both.text()).toContain('was given with HMAC signing');
    const notPem = await submitForm(server, browser, '/keys', {
      permissions: 'ACCOUNTS_READ',
      signing: 'RSA',
      rsa_public_key: 'not a key',
    });
    expect(notPem.status).toBe(400);
    const past = await submitForm(server, browser, '/keys', {
      permissions: 'ACCOUNTS_READ',
      expires_at: '2001-01-01T00:00',
    });
    expect(past.status).toBe(400);
    expect(await count()).toBe(before);
  });

  it('creates an RSA key from a pasted public key: no secret, signed with the private key', async () => {
    const pem = docsRsaKey('public');
    const created = await submitForm(server, browser, '/keys', {
      permissions: 'ACCOUNTS_READ',
      signing: 'RSA',
      rsa_public_key: pem,
    });
    expect(created.status).toBe(201);
    const page = await created.text();
    expect(page).not.toContain('id="new-secret"');
    const apiKey = /id="new-api-key">([0-9a-f]{64})</.exec(page)?.[1] ?? '';
    const rsaPrivateKey = docsRsaKey('private');
    expect((await signedGet(server, LIST, { apiKey, rsaPrivateKey })).status).toBe(200);
  });

  it('does not revoke another user’s key', async () => {
    const other = await userWithKey(server.services);
    const key = await server.services.storage.db
      .selectFrom('api_keys')
      .select('id')
      .where('api_key', '=', other.credentials.apiKey)
      .executeTakeFirstOrThrow();
    const response = await submitForm(server, browser, `/keys/${key.id}/revoke`, {});
    expect(response.status).toBe(404);
    expect((await signedGet(server, LIST, other.credentials)).status).toBe(200);
  });
});

describe('removing an account', () => {
  it('asks first, then removes it from the API too', async () => {
    const id = demo.account_ids[2]!;
    const confirm = await (await getPage(server, browser, `/accounts/${id}/remove`)).text();
    expect(confirm).toContain('deleted for good');
    const removed = await submitForm(
      server,
      browser,
      `/accounts/${id}/remove`,
      {},
      csrfOf(confirm),
    );
    expect(removed.status).toBe(303);
    const list = (await (await signedGet(server, LIST, demoCaller())).json()) as Array<{
      id: number;
    }>;
    expect(list.map((a) => a.id)).not.toContain(id);
    expect((await getPage(server, browser, `/accounts/${id}`)).status).toBe(404);
  });
});

describe('logging out', () => {
  it('ends the session: the cookie no longer opens a page', async () => {
    const session = await signInByLink(server, demo.user_id);
    const response = await submitForm(server, session, '/logout', {});
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login');
    expect((await getPage(server, session, '/')).status).toBe(303);
  });
});

describe('assets', () => {
  it('serves the script, stylesheet and icons from this server, revalidated by ETag', async () => {
    for (const path of [
      '/assets/dashboard.js',
      '/assets/dashboard.css',
      '/assets/markets/binance.svg',
    ]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(200);
      const etag = response.headers.get('etag') ?? '';
      const again = await fetch(`${server.url}${path}`, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
    }
    expect((await fetch(`${server.url}/assets/../package.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/assets/nothing.js`)).status).toBe(404);
  });
});
