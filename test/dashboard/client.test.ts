// The dashboard's browser script (dist/assets/dashboard.js, as the build makes it) in Debian's
// Chromium, on fixture pages that follow the markup contract, served from loopback: the charts
// draw what the endpoint answers and say so to screen readers, the toggles and buttons do what
// they say, nothing is asked of another origin and nothing is written to the console.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, ROOT } from '../../bin/build.mjs';
import { openBrowser, requireChromium, type BrowserSession } from '../support/browser.ts';

const FIXTURES = path.join(ROOT, 'test/fixtures/dashboard');
const HISTORY: Record<string, unknown[]> = JSON.parse(
  readFileSync(path.join(FIXTURES, 'balance-chart.json'), 'utf8'),
);

interface ChartRequest {
  target: string;
  range: string | undefined;
  accept: string | undefined;
  cookie: string | undefined;
}

let app: FastifyInstance;
let origin: string;
let session: BrowserSession | undefined;
const chartRequests: ChartRequest[] = [];
const syncForms: string[] = [];

function serveFixtures(): FastifyInstance {
  const server = Fastify();
  const page = (file: string) => readFileSync(path.join(FIXTURES, file), 'utf8');
  server.get('/dashboard', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      // The session cookie the chart's request must carry.
      .header('set-cookie', 'session=fixture-session; Path=/; HttpOnly; SameSite=Strict')
      .send(page('page.html')),
  );
  server.get('/dashboard/states', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(page('states.html')),
  );
  // Read at each request: dist/ is swapped whole when a source changes.
  server.get<{ Params: { file: string } }>('/assets/:file', async (request, reply) => {
    const { file } = request.params;
    if (!/^dashboard\.js(\.map)?$/.test(file)) return reply.code(404).send();
    return reply
      .type(file.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8')
      .send(readFileSync(path.join(DIST, 'assets', file)));
  });
  server.get<{ Querystring: { target: string; range?: string } }>(
    '/app/api/balance-chart',
    async (request, reply) => {
      const { target, range } = request.query;
      chartRequests.push({
        target,
        range,
        accept: request.headers.accept,
        cookie: request.headers.cookie,
      });
      if (target === 'empty') return [];
      if (target === 'broken') {
        return reply.code(503).send({ error: 'unavailable', error_description: 'try later' });
      }
      return HISTORY[range ?? 'ALL'] ?? reply.code(400).send({ error: 'unknown range' });
    },
  );
  server.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, body),
  );
  server.post('/sync', async (request, reply) => {
    syncForms.push(String(request.body));
    return reply.code(204).send();
  });
  server.get('/favicon.ico', async (_request, reply) => reply.code(204).send());
  return server;
}

beforeAll(async () => {
  requireChromium();
  app = serveFixtures();
  origin = await app.listen({ host: '127.0.0.1', port: 0 });
  session = await openBrowser(origin);
});

afterAll(async () => {
  if (session) await session.screenshot('client-last').catch(() => undefined);
  await session?.close();
  await app?.close();
});

const open = () => {
  if (!session) throw new Error('no browser (see the first error)');
  return session;
};
const history = (page: Page) => page.locator('figure[data-chart="history"]');
const ready = (page: Page, range: string) =>
  page.locator(`figure[data-chart="history"][data-range="${range}"][data-state="ready"]`).waitFor();
const attributes = (locator: Locator, names: string[]) =>
  Promise.all(names.map((name) => locator.getAttribute(name)));

describe('the dashboard script in Chromium', () => {
  it('draws the history of the pressed range and describes it', async () => {
    const { page } = open();
    await page.goto(`${origin}/dashboard`);
    await ready(page, '1M');
    const figure = history(page);
    await expect(
      attributes(figure, ['data-points', 'data-deposits', 'data-withdrawals']),
    ).resolves.toEqual(['31', '2', '1']);
    await expect(figure.locator('canvas').getAttribute('role')).resolves.toBe('img');
    await expect(figure.locator('canvas').getAttribute('aria-label')).resolves.toBe(
      'Balance history, past month: $1,004.25 on Oct 30, 2026 to $1,681.75 on Nov 29, 2026; ' +
        '2 deposits, 1 withdrawal.',
    );
    // Asked once, for the pressed range, as JSON, with the session cookie.
    expect(chartRequests).toEqual([
      {
        target: 'summary',
        range: '1M',
        accept: 'application/json',
        cookie: 'session=fixture-session',
      },
    ]);
    await open().screenshot('client-light');
  });

  it('fetches and draws another range when its button is pressed', async () => {
    const { page } = open();
    const figure = history(page);
    await figure.getByRole('button', { name: '1W' }).click();
    await ready(page, '1W');
    await expect(
      attributes(figure, ['data-points', 'data-deposits', 'data-withdrawals']),
    ).resolves.toEqual(['8', '1', '0']);
    const pressed = await figure
      .locator('button[data-range]')
      .evaluateAll((buttons) => buttons.map((button) => button.getAttribute('aria-pressed')));
    expect(pressed).toEqual(['true', 'false', 'false', 'false', 'false']);
    await expect(figure.locator('canvas').getAttribute('aria-label')).resolves.toBe(
      'Balance history, past week: $1,503.10 on Nov 22, 2026 to $1,774.80 on Nov 29, 2026; ' +
        '1 deposit, 0 withdrawals.',
    );

    await figure.getByRole('button', { name: 'ALL' }).click();
    await ready(page, 'ALL');
    await expect(
      attributes(figure, ['data-points', 'data-deposits', 'data-withdrawals']),
    ).resolves.toEqual(['24', '4', '2']);
    expect(chartRequests.map((request) => request.range)).toEqual(['1M', '1W', 'ALL']);
  });

  it('shows a tooltip for every point the pointer passes', async () => {
    const { page } = open();
    await page.goto(`${origin}/dashboard`);
    await ready(page, '1M');
    const canvas = history(page).locator('canvas');
    const box = await canvas.boundingBox();
    if (!box) throw new Error('the history chart has no box');
    // Closer steps than the points (31 over the width): each point's tooltip is drawn once,
    // the deposits' and the withdrawal's among them; a failing tooltip would be a page error.
    for (let step = 0; step <= 60; step++) {
      await page.mouse.move(box.x + (box.width * step) / 60, box.y + box.height / 2);
    }
    // Over the withdrawal (Nov 15), for the screenshot.
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height / 2);
    await open().screenshot('client-tooltip');
    await page.mouse.move(0, 0);
  });

  it('redraws in the dark colours when the colour scheme changes', async () => {
    const { page } = open();
    const picture = () =>
      page.evaluate(
        'document.querySelector(\'figure[data-chart="history"] canvas\').toDataURL()',
      ) as Promise<string>;
    const light = await picture();
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(picture).not.toBe(light);
    await open().screenshot('client-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(picture).toBe(light);
  });

  it('draws the allocation doughnut and names its shares', async () => {
    const { page } = open();
    const figure = page.locator('figure[data-chart="allocation"]');
    await expect(figure.getAttribute('data-state')).resolves.toBe('ready');
    await expect(figure.locator('canvas').getAttribute('role')).resolves.toBe('img');
    await expect(figure.locator('canvas').getAttribute('aria-label')).resolves.toBe(
      'Allocation: BTC 61.25%, ETH 25.50%, USDT 13.25%.',
    );
  });

  it('says so when there is no history yet, or it could not be loaded', async () => {
    const { page, consoleErrors } = open();
    await page.goto(`${origin}/dashboard/states`);
    const empty = page.locator('#empty[data-state="empty"]');
    const broken = page.locator('#broken[data-state="error"]');
    await empty.waitFor();
    await broken.waitFor();
    await expect(empty.locator('.chart-message').textContent()).resolves.toBe(
      'No history yet: the first sync makes the first point.',
    );
    await expect(empty.getAttribute('data-points')).resolves.toBe('0');
    await expect(broken.locator('.chart-message').textContent()).resolves.toBe(
      'Could not load the balance history (HTTP 503).',
    );
    await expect(empty.locator('canvas').isVisible()).resolves.toBe(false);
    await open().screenshot('client-states');
    // The only line is Chromium's own about the 503 answer, not the script's.
    const lines = consoleErrors.splice(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('status of 503');
  });

  it('swaps every figure to its exact value, and remembers it at the next page', async () => {
    const { page } = open();
    await page.goto(`${origin}/dashboard`);
    const toggle = page.locator('[data-exact-toggle]');
    const figures = () => page.locator('data.figure').allTextContents();
    await expect(figures()).resolves.toEqual(['$1,234.57', '0.0123 BTC']);
    await toggle.click();
    await expect(figures()).resolves.toEqual(['1234.5678 USD', '0.01234567 BTC']);
    await expect(toggle.getAttribute('aria-pressed')).resolves.toBe('true');

    await page.reload();
    await ready(page, '1M');
    await expect(figures()).resolves.toEqual(['1234.5678 USD', '0.01234567 BTC']);
    await expect(toggle.getAttribute('aria-pressed')).resolves.toBe('true');
    await toggle.click();
    await page.reload();
    await ready(page, '1M');
    await expect(figures()).resolves.toEqual(['$1,234.57', '0.0123 BTC']);
    await expect(toggle.getAttribute('aria-pressed')).resolves.toBe('false');
  });

  it('copies the target’s text to the clipboard and says “Copied”', async () => {
    const { page, context } = open();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    const button = page.locator('[data-copy]');
    await button.click();
    await expect.poll(() => button.textContent()).toBe('Copied');
    await expect(button.getAttribute('aria-live')).resolves.toBe('polite');
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe('ock_9f8e7d6c5b4a');
    // Back to its label afterwards.
    await expect.poll(() => button.textContent(), { timeout: 10_000 }).toBe('Copy');
  });

  it('disables a busy form’s button and sends the form once', async () => {
    const { page } = open();
    await page.goto(`${origin}/dashboard`);
    const button = page.locator('form[data-busy] button[type="submit"]');
    await button.click();
    // The fixture answers 204 No Content: the page stays, as it would while a sync runs.
    await expect.poll(() => syncForms.length).toBe(1);
    await expect(button.isDisabled()).resolves.toBe(true);
    await expect(button.textContent()).resolves.toBe('Syncing…');
    // A second submit (Enter in a field, a script) is cancelled, so the browser sends nothing.
    await expect(
      page.evaluate(`new Promise((resolve) => {
        addEventListener('submit', (event) => resolve(event.defaultPrevented), { once: true });
        document.querySelector('form[data-busy]').requestSubmit();
      })`),
    ).resolves.toBe(true);
    // The button's own name=value went with the form although it was disabled.
    expect(syncForms).toEqual(['csrf=fixture-token&action=sync']);
  });

  it('draws on a phone-sized screen too', async () => {
    const phone = await openBrowser(origin, {
      viewport: { width: 390, height: 844 },
      isMobile: true,
    });
    try {
      await phone.page.goto(`${origin}/dashboard`);
      await ready(phone.page, '1M');
      await expect(
        phone.page.locator('figure[data-chart="allocation"]').getAttribute('data-state'),
      ).resolves.toBe('ready');
      await phone.screenshot('client-phone');
      expect(phone.consoleErrors).toEqual([]);
      expect(phone.offOrigin).toEqual([]);
    } finally {
      await phone.close();
    }
  });

  it('asked nothing of another origin and wrote nothing to the console', async () => {
    const { consoleErrors, offOrigin } = open();
    expect(offOrigin).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
