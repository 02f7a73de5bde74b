// The reference page at /docs as a user sees it: Debian's Chromium, driven by playwright-core,
// opens the page the service serves and must show the operations of /openapi.json, with the
// list's parameters and example answer, while every request the page makes stays on this
// server and nothing is written to the console as an error. .ci/run installs Chromium; without
// it this file fails (a reference page nobody checked is not a passing test).
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import listAccountsExample from '../../src/http/openapi-examples/list-accounts.json' with { type: 'json' };
import { startTestServer, type TestServer } from '../support/server.ts';

const CHROMIUM = '/usr/bin/chromium';
// Git-ignored: look at it after a run to see what a user got.
const SCREENSHOT = fileURLToPath(new URL('../../test-artifacts/docs.png', import.meta.url));

interface DocumentOperation {
  method: string;
  path: string;
  summary: string | undefined;
}

type OpenApiPaths = { paths: Record<string, Record<string, { summary?: string }>> };

let server: TestServer;
let browser: Browser | undefined;
let page: Page;
let operations: DocumentOperation[];
/** Every URL the page asked for, in order; and those not on this server (aborted). */
const requested: string[] = [];
const elsewhere: string[] = [];
const consoleErrors: string[] = [];

/** Each test fails (rather than the file being skipped) with this when Chromium is absent. */
const MISSING_CHROMIUM =
  `Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` ` +
  '(.ci/run does it) to check the reference page in a browser.';
const chromiumInstalled = existsSync(CHROMIUM);
const needChromium = () => {
  if (!chromiumInstalled) throw new Error(MISSING_CHROMIUM);
};

beforeAll(async () => {
  if (!chromiumInstalled) return;
  server = await startTestServer();
  const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiPaths;
  operations = documentOperations(document);
  browser = await chromium.launch({ executablePath: CHROMIUM });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Every request of every page of the context passes here, before it leaves the browser.
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    requested.push(url);
    if (new URL(url).origin === server.url) return route.continue();
    elsewhere.push(url);
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
  await page.goto(`${server.url}/docs`);
  await page.locator('.opblock').first().waitFor();
});

afterAll(async () => {
  // Whatever state the page reached, so a failure can be looked at.
  if (browser && page) {
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  }
  await browser?.close();
  await server?.close();
});

/** The operations the document describes: what the page must show. */
function documentOperations(document: OpenApiPaths): DocumentOperation[] {
  return Object.entries(document.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      summary: operation.summary,
    })),
  );
}

/** Swagger UI's block for one operation (its id is `operations-<tag>-<method>_<path>`). */
const operationBlock = (method: string, path: string) =>
  page
    .locator('.opblock')
    .filter({
      has: page.locator(`.opblock-summary-method:text-is("${method}")`),
    })
    .filter({ has: page.locator(`[data-path="${path}"]`) });

describe('the reference page in Chromium', () => {
  it('shows the document’s title and every operation with its summary', async () => {
    needChromium();
    await expect(page.locator('.info .title').textContent()).resolves.toContain('opencommas');
    // 30 operations in openapi.json today: the whole accounts family, market data, ping, time.
    expect(operations.length).toBeGreaterThanOrEqual(30);
    await expect(page.locator('.opblock').count()).resolves.toBe(operations.length);
    for (const { method, path, summary } of operations) {
      const block = operationBlock(method, path);
      await expect(block.isVisible(), `${method} ${path}`).resolves.toBe(true);
      if (summary) {
        await expect(
          block.locator('.opblock-summary-description').textContent(),
          `${method} ${path}`,
        ).resolves.toBe(summary);
      }
    }
    // Named here too, so an empty document could not pass.
    const list = operationBlock('GET', '/public/api/ver1/accounts');
    await expect(list.textContent()).resolves.toContain(
      'List of exchanges and wallets connected by the user',
    );
    for (const [path, summary] of [
      ['/public/api/ver1/accounts/market_list', 'Supported markets list'],
      ['/public/api/ver1/accounts/market_pairs', 'All market pairs'],
      ['/public/api/ver1/accounts/currency_rates', 'Currency rates and limits'],
    ] as const) {
      await expect(operationBlock('GET', path).textContent(), path).resolves.toContain(summary);
    }
  });

  it('expands the list: its parameters and the example answer', async () => {
    needChromium();
    const list = operationBlock('GET', '/public/api/ver1/accounts');
    await list.locator('.opblock-summary').click();
    const parameters = list.locator('.parameters tbody tr[data-param-name]');
    await parameters.first().waitFor();
    const names = await parameters.evaluateAll((rows) =>
      rows.map((row) => row.getAttribute('data-param-name')),
    );
    expect(names).toEqual(['api_key', 'page', 'per_page']);
    await expect(list.locator('.parameters').textContent()).resolves.toContain(
      'Only accounts with this exchange API key',
    );
    // The 200 answer's example is the seed's: its first account, as Swagger UI prints it.
    const example = list.locator('.response[data-code="200"] .example');
    const shown = await example.first().textContent();
    const [first] = listAccountsExample;
    expect(shown).toContain(`"id": ${first!.id}`);
    expect(shown).toContain(`"name": "${first!.name}"`);
  });

  it('asked this server for everything and wrote no error to the console', async () => {
    needChromium();
    await page.waitForLoadState('networkidle');
    expect(elsewhere).toEqual([]);
    // The page itself, Swagger UI's assets and the document it rendered: the route saw them.
    expect(requested).toContain(`${server.url}/docs`);
    expect(requested).toContain(`${server.url}/docs/json`);
    expect(requested.every((url) => new URL(url).origin === server.url)).toBe(true);
    expect(consoleErrors).toEqual([]);
  });
});
