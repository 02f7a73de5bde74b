// Debian's Chromium, driven by playwright-core, for the dashboard's browser tests: every request
// that leaves `origin` is blocked and recorded, and every console error or warning and uncaught
// error of every page is collected, so a test can say "nothing left the machine, nothing broke".
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { onPostgres } from './database.ts';

export const CHROMIUM = '/usr/bin/chromium';

// Git-ignored: look at them after a run to see what a user got.
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));

/** Throws a clear error (tests must fail, not skip) when Chromium is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` ` +
        '(.ci/run does it) to run the dashboard’s browser tests.',
    );
  }
}

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and warnings, and uncaught errors, of every page of the context. */
  consoleErrors: string[];
  /** requests to any other origin than `origin` (aborted) */
  offOrigin: string[];
  /** A full-page PNG of `page` in test-artifacts/dashboard/<backend>-<name>.png; its path. */
  screenshot(name: string): Promise<string>;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface BrowserOptions {
  viewport?: { width: number; height: number };
  isMobile?: boolean;
}

export async function openBrowser(
  origin: string,
  options: BrowserOptions = {},
): Promise<BrowserSession> {
  requireChromium();
  const home = new URL(origin).origin;
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const context = await browser.newContext({
      viewport: options.viewport ?? { width: 1280, height: 900 },
      isMobile: options.isMobile ?? false,
      hasTouch: options.isMobile ?? false,
      // Stable text to assert on (dates, money) whatever the machine's settings.
      locale: 'en-US',
      timezoneId: 'UTC',
      colorScheme: 'light',
      // Charts drawn at once, not mid-animation, when a screenshot is taken.
      reducedMotion: 'reduce',
    });
    const consoleErrors: string[] = [];
    const offOrigin: string[] = [];
    // Every request of every page of the context passes here, before it leaves the browser.
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (new URL(url).origin === home) return route.continue();
      offOrigin.push(url);
      return route.abort('blockedbyclient');
    });
    context.on('console', (message) => {
      const type = message.type();
      if (type !== 'error' && type !== 'warning') return;
      const { url, lineNumber } = message.location();
      consoleErrors.push(`${type}: ${message.text()}${url ? ` (${url}:${lineNumber})` : ''}`);
    });
    context.on('weberror', (error) => consoleErrors.push(`pageerror: ${error.error().message}`));
    const page = await context.newPage();
    return {
      browser,
      context,
      page,
      consoleErrors,
      offOrigin,
      async screenshot(name) {
        const file = path.join(ARTIFACTS, `${onPostgres ? 'postgres' : 'pglite'}-${name}.png`);
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: file, fullPage: true });
        return file;
      },
      newPage: () => context.newPage(),
      close: () => browser.close(),
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
