// The dashboard as a user meets it, in Debian's Chromium: sign in by the printed link and by
// password, the demo portfolio with the totals the API gives, an account, connecting an exchange
// (its stand-in), an API key created, used and revoked, the display currency, logging out, a
// phone-sized screen, the keyboard and labels — with no console error and no request leaving
// this server. Screenshots of each page land in test-artifacts/dashboard/.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHmac } from '../../src/auth/signature.ts';
import { seedDemo, type DemoCredentials } from '../../src/demo/demo.ts';
import { openBrowser, type BrowserSession } from '../support/browser.ts';
import {
  BINANCE_WALLETS,
  startFakeBinance,
  type FakeBinance,
} from '../support/exchanges/binance-server.ts';
import { LIST, signedGet, startTestServer, type TestServer } from '../support/server.ts';

let binance: FakeBinance;
let server: TestServer;
let demo: DemoCredentials;
let session: BrowserSession;
let page: Page;

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '60000');
  binance.setPrice('ETH/USDT', '3000');
  binance.setPrice('ETH/BTC', '0.05');
  binance.addAccount('browser-key', {
    secret: 'browser-secret',
    balances: { BTC: { free: '0.25' } },
  });
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
  });
  demo = await seedDemo(server.services);
  session = await openBrowser(server.url);
  page = session.page;
  // A step that cannot happen fails with its own message, well before the test's timeout.
  page.setDefaultTimeout(10_000);
});

afterAll(async () => {
  await session?.close();
  await server?.close();
  await binance?.close();
});

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const caller = () => ({ apiKey: demo.api_key, secret: demo.secret });
const apiJson = async <T>(path: string): Promise<T> =>
  (await (await signedGet(server, path, caller())).json()) as T;
async function apiPost<T>(path: string): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { Apikey: demo.api_key, Signature: signHmac(demo.secret, path) },
  });
  return (await response.json()) as T;
}

async function signInByLink(target: Page = page): Promise<void> {
  const link = await server.services.sessions.createLoginLink(demo.user_id);
  await target.goto(`${server.url}/login?token=${link.token}`);
  await target.waitForURL(`${server.url}/`);
}

/** The exact value (`<data value>`) of the first figure inside `selector`. */
const exactIn = (selector: string, target: Page = page) =>
  target.locator(`${selector} data.figure`).first().getAttribute('value');

type Money = { currency: string; amount: string | number };
type Entity = { id: number; name: string; primary_display_currency_amount: Money } & Record<
  string,
  unknown
>;

describe('the dashboard in Chromium', () => {
  it('signs in by link and shows the demo portfolio with the API’s figures and charts', async () => {
    await signInByLink();
    await expect.poll(() => page.locator('h1').innerText()).toBe('Overview');
    const summary = await apiJson<Record<string, Money>>(`${LIST}/summary`);
    expect(await exactIn('[data-figure="value"]')).toBe(
      summary.primary_display_currency_amount!.amount,
    );
    expect(await exactIn('[data-figure="day"]')).toBe(
      summary.day_profit_primary_display_currency!.amount,
    );
    expect(await exactIn('[data-figure="period"]')).toBe(
      summary.primary_display_currency_profit!.amount,
    );
    expect(await exactIn('[data-figure="total"]')).toBe(
      String(summary.total_primary_display_currency_profit!.amount),
    );

    const accounts = await apiJson<Entity[]>(LIST);
    await expect
      .poll(() => page.locator('tbody tr[data-account-id]').count())
      .toBe(accounts.length);
    for (const account of accounts) {
      const row = `tr[data-account-id="${account.id}"]`;
      await expect.poll(() => page.locator(`${row} th a`).innerText()).toBe(account.name);
      expect(await exactIn(`${row} [data-field="value"]`)).toBe(
        account.primary_display_currency_amount.amount,
      );
    }
    await page.locator('[data-chart="history"][data-state="ready"]').waitFor();
    await expect
      .poll(() => page.locator('[data-chart="allocation"][data-state="ready"]').count())
      .toBe(2);
    await session.screenshot('overview');
  });

  it('draws each range of the history from balance_chart_data, deposits marked', async () => {
    const chart = page.locator('[data-chart="history"]');
    await page.getByRole('button', { name: '1W' }).click();
    await page.locator('[data-chart="history"][data-range="1W"][data-state="ready"]').waitFor();
    await expect
      .poll(() => page.getByRole('button', { name: '1W' }).getAttribute('aria-pressed'))
      .toBe('true');
    const points = (await (
      await page.request.get(`${server.url}/app/api/balance-chart?target=summary&range=1W`)
    ).json()) as Array<{ usd_deposit_amount: number }>;
    expect(Number(await chart.getAttribute('data-points'))).toBe(points.length);
    const deposits = points.filter((p) => p.usd_deposit_amount > 0).length;
    const withdrawals = points.filter((p) => p.usd_deposit_amount < 0).length;
    expect(Number(await chart.getAttribute('data-deposits'))).toBe(deposits);
    expect(Number(await chart.getAttribute('data-withdrawals'))).toBe(withdrawals);
    await page.getByRole('button', { name: 'All' }).click();
    await page.locator('[data-chart="history"][data-range="ALL"][data-state="ready"]').waitFor();
  });

  it('shows the exact figures one click away', async () => {
    const value = page.locator('[data-figure="value"] data.figure');
    const human = await value.textContent();
    const exact = await value.getAttribute('data-exact');
    await page.locator('[data-exact-toggle]').click();
    await expect.poll(() => value.innerText()).toBe(exact ?? '');
    await page.locator('[data-exact-toggle]').click();
    await expect.poll(() => value.innerText()).toBe(human ?? '');
  });

  it('opens an account with its holdings as account_table_data gives them', async () => {
    const id = demo.account_ids[0]!;
    await page.locator(`tr[data-account-id="${id}"] th a`).click();
    await page.waitForURL(`${server.url}/accounts/${id}`);
    const rows = await apiPost<
      Array<{ currency_code: string; position: number; usd_value: number | null }>
    >(`${LIST}/${id}/account_table_data`);
    await expect.poll(() => page.locator('tbody tr[data-asset]').count()).toBe(rows.length);
    for (const row of rows) {
      const line = `tr[data-asset="${row.currency_code}"]`;
      expect(await exactIn(`${line} [data-field="amount"]`)).toBe(String(row.position));
      expect(await exactIn(`${line} [data-field="value"]`)).toBe(String(row.usd_value));
    }
    const entity = await apiJson<Entity>(`${LIST}/${id}`);
    expect(await exactIn('[data-figure="value"]')).toBe(
      entity.primary_display_currency_amount.amount,
    );
    await page.locator('[data-chart="history"][data-state="ready"]').waitFor();
    await session.screenshot('account');
  });

  it('connects an exchange, showing its refusal of wrong keys in words', async () => {
    await page.getByRole('link', { name: 'Connect', exact: true }).click();
    await page.getByRole('link', { name: 'Binance Spot' }).click();
    await page.getByLabel('Name').fill('From the browser');
    await page.getByLabel('API Key').fill('browser-key');
    await page.getByLabel('Secret').fill('not-the-secret');
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => page.getByRole('alert').innerText()).toContain('refused the API key');
    await expect.poll(() => page.getByLabel('Name').inputValue()).toBe('From the browser');
    await expect.poll(() => page.getByLabel('API Key').inputValue()).toBe('browser-key');
    await expect.poll(() => page.getByLabel('Secret').inputValue()).toBe('');

    await page.getByLabel('Secret').fill('browser-secret');
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Connected');
    await expect.poll(() => page.locator('h1').innerText()).toBe('From the browser');
    expect(await exactIn('tr[data-asset="BTC"] [data-field="amount"]')).toBe('0.25');
    // 0.25 BTC × 60,000 USDT
    expect(await exactIn('tr[data-asset="BTC"] [data-field="value"]')).toBe('15000');
    const listed = await apiJson<Entity[]>(LIST);
    expect(listed.some((a) => a.name === 'From the browser')).toBe(true);
    await session.screenshot('connected');
  });

  it('syncs an account now', async () => {
    binance.setBalance('browser-key', 'BTC', '0.5');
    binance.setBalance('browser-key', 'BTC', '0.1', '0', BINANCE_WALLETS.funding);
    await page.getByRole('button', { name: 'Sync now' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Synced');
    // 0.5 in spot + 0.1 in funding, and which wallet held what.
    expect(await exactIn('tr[data-asset="BTC"] [data-field="amount"]')).toBe('0.6');
    await expect
      .poll(() => page.locator('tr[data-asset="BTC"] .wallets').innerText())
      .toBe('spot 0.5 · funding 0.1');
  });

  it('creates an API key that signs requests, shows its secret once, and revokes it', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('ACCOUNTS_READ').check();
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect.poll(() => page.locator('h1').innerText()).toBe('Key created');
    const apiKey = (await page.locator('#new-api-key').textContent()) ?? '';
    const secret = (await page.locator('#new-secret').textContent()) ?? '';
    await expect.poll(() => page.locator('#new-curl').innerText()).toContain(apiKey);
    await session.screenshot('key-created');
    expect((await signedGet(server, LIST, { apiKey, secret })).status).toBe(200);

    await page.getByRole('link', { name: '← All keys' }).click();
    await expect.poll(() => page.locator('main').innerText()).not.toContain(secret);
    const row = page.locator(`tr[data-key="${apiKey}"]`);
    await expect.poll(() => row.innerText()).toContain('Active');
    await row.getByRole('button', { name: /Revoke/ }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('revoked');
    await expect
      .poll(() => page.locator(`tr[data-key="${apiKey}"]`).innerText())
      .toContain('Revoked');
    expect((await signedGet(server, LIST, { apiKey, secret })).status).toBe(401);
    await session.screenshot('keys');
  });

  it('creates an RSA key from an uploaded public key', async () => {
    await page.locator('#rsa-file').setInputFiles(fixture('docs-rsa-public.pem'));
    await expect
      .poll(() => page.getByLabel('RSA public key (PEM)').inputValue())
      .toContain('BEGIN PUBLIC KEY');
    await expect.poll(() => page.getByRole('radio', { name: /^RSA/ }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect.poll(() => page.locator('h1').innerText()).toBe('Key created');
    await expect.poll(() => page.locator('#new-secret').count()).toBe(0);
    const apiKey = (await page.locator('#new-api-key').textContent()) ?? '';
    const rsaPrivateKey = readFileSync(fixture('docs-rsa-private.pem'), 'utf8');
    expect((await signedGet(server, LIST, { apiKey, rsaPrivateKey })).status).toBe(200);
  });

  it('changes the display currency, and the totals follow the API', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Show figures in').selectOption('EUR');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('EUR');
    await session.screenshot('settings');
    await page.getByRole('link', { name: 'Overview' }).click();
    const summary = await apiJson<Record<string, Money>>(`${LIST}/summary`);
    const value = page.locator('[data-figure="value"] data.figure');
    expect(await value.getAttribute('value')).toBe(summary.primary_display_currency_amount!.amount);
    expect(await value.getAttribute('data-exact')).toContain(
      summary.primary_display_currency_amount!.currency,
    );
  });

  it('logs out, and signs in again with a password', async () => {
    await server.services.sessions.setPassword(demo.user_id, 'a password for the browser');
    // Setting a password ends the user's sessions: the next page asks to sign in.
    await page.goto(`${server.url}/`);
    await page.waitForURL(/\/login/);
    await signInByLink();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${server.url}/login`);
    await page.goto(`${server.url}/settings`);
    await page.waitForURL(/\/login\?next=/);

    await page.getByLabel('Email').fill(demo.email);
    await page.getByLabel('Password').fill('wrong password here');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').innerText())
      .toBe('Email or password is wrong.');
    await session.screenshot('login');
    await page.getByLabel('Password').fill('a password for the browser');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.url}/settings`);
  });

  it('is usable with a keyboard and a screen reader', async () => {
    for (const path of [
      '/',
      `/accounts/${demo.account_ids[0]}`,
      '/connect/okex',
      '/keys',
      '/settings',
    ]) {
      await page.goto(`${server.url}${path}`);
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
      await expect.poll(() => page.locator('h1').count()).toBe(1);
      const unlabelled = await page.evaluate(`[...document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')]
        .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label'))
        .map((el) => el.outerHTML)`);
      expect(unlabelled, path).toEqual([]);
      expect(await page.locator('img:not([alt])').count(), path).toBe(0);
      const unnamedCanvas = await page.locator('canvas:not([role="img"][aria-label])').count();
      expect(unnamedCanvas, path).toBe(0);
      const lowContrast = await page.evaluate(CONTRAST_FAILURES);
      expect(lowContrast, path).toEqual([]);
    }
  });

  it('keeps its contrast in the dark colour scheme', async () => {
    const dark = await session.browser.newContext({
      colorScheme: 'dark',
      storageState: await session.context.storageState(),
    });
    try {
      const darkPage = await dark.newPage();
      for (const path of ['/', `/accounts/${demo.account_ids[0]}`, '/keys', '/settings']) {
        await darkPage.goto(`${server.url}${path}`);
        expect(await darkPage.evaluate(CONTRAST_FAILURES), path).toEqual([]);
      }
    } finally {
      await dark.close();
    }
  });

  it('fits a phone-sized screen', async () => {
    const phone = await openBrowser(server.url, {
      viewport: { width: 375, height: 812 },
      isMobile: true,
    });
    try {
      await signInByLink(phone.page);
      await phone.page.locator('[data-chart="history"][data-state="ready"]').waitFor();
      for (const path of ['/', `/accounts/${demo.account_ids[0]}`, '/keys']) {
        await phone.page.goto(`${server.url}${path}`);
        const overflow = await phone.page.evaluate<number>(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        );
        expect(overflow, path).toBeLessThanOrEqual(0);
        await expect
          .poll(() => phone.page.getByRole('link', { name: 'Overview', exact: true }).isVisible())
          .toBe(true);
      }
      await phone.page.goto(`${server.url}/`);
      await phone.page.locator('[data-chart="history"][data-state="ready"]').waitFor();
      await phone.screenshot('phone-overview');
      expect(phone.consoleErrors).toEqual([]);
      expect(phone.offOrigin).toEqual([]);
    } finally {
      await phone.close();
    }
  });

  it('wrote nothing to the console and asked nothing of another host', () => {
    // Chromium logs a page answered with an error status: the two refusals this file asked for.
    const expected = [
      /status of 400 \(Bad Request\) \(http:\/\/127\.0\.0\.1:\d+\/connect\/binance:0\)$/,
      /status of 401 \(Unauthorized\) \(http:\/\/127\.0\.0\.1:\d+\/login:0\)$/,
    ];
    const unexpected = session.consoleErrors.filter(
      (line) => !expected.some((re) => re.test(line)),
    );
    expect(unexpected).toEqual([]);
    expect(session.consoleErrors.length).toBe(expected.length);
    expect(session.offOrigin).toEqual([]);
  });
});

/**
 * Text whose colour is below WCAG AA contrast (4.5:1; 3:1 for large text) on its background,
 * for the visible text of the page: evaluated in the page (so written as the page's JavaScript).
 */
const CONTRAST_FAILURES = `(() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const channel = (v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const rgba = parse(getComputedStyle(node).backgroundColor);
      if (rgba.length === 3 || rgba[3] > 0.5) return rgba.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const failures = [];
  const selector = 'h1, h2, p, a, button, label, th, td, dt, dd, small, span, data, li, summary, legend';
  for (const el of document.querySelectorAll(selector)) {
    if (!el.offsetParent || !el.textContent.trim()) continue;
    const style = getComputedStyle(el);
    const fg = luminance(parse(style.color));
    const bg = luminance(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) failures.push(el.tagName + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
  }
  return failures;
})()`;
