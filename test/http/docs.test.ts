// The reference page at /docs: Swagger UI served by the service itself from node_modules,
// rendering /openapi.json's document. Nothing it loads may come from anywhere but this server:
// the page, every asset it references and every URL inside those assets that a browser would
// fetch (stylesheets' url(...), the initializer's document URL, the validator badge).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

/** The URLs an HTML page makes a browser fetch: scripts, stylesheets, icons, images. */
const referencedUrls = (html: string) =>
  [...html.matchAll(/<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);

/** Every url(...) of a stylesheet that is not inline data. */
const stylesheetUrls = (css: string) =>
  [...css.matchAll(/url\(\s*['"]?([^'")]+)['"]?\s*\)/g)]
    .map((m) => m[1]!)
    .filter((url) => !url.startsWith('data:'));

const sameServer = (url: string, base: string) => new URL(url, base).origin === server.url;

describe('GET /docs', () => {
  it('serves a page whose every asset comes from this server', async () => {
    const page = await fetch(`${server.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const assets = referencedUrls(html);
    // swagger-ui's stylesheet and bundle, its preset, our initializer, and two icons.
    expect(assets.length).toBeGreaterThanOrEqual(6);
    for (const asset of assets) {
      const url = new URL(asset, `${server.url}/docs`);
      expect(url.origin, asset).toBe(server.url);
      const answer = await fetch(url);
      expect(answer.status, asset).toBe(200);
      if (url.pathname.endsWith('.css')) {
        const css = await answer.text();
        for (const inner of stylesheetUrls(css)) {
          expect(sameServer(inner, url.href), `${asset}: ${inner}`).toBe(true);
        }
      } else {
        await answer.arrayBuffer();
      }
    }
  });

  it('renders this server’s document, with no validator badge and no CDN', async () => {
    const initializer = await (
      await fetch(`${server.url}/docs/static/swagger-initializer.js`)
    ).text();
    // The document is fetched relative to the page; the validator (validator.swagger.io by
    // default) is off, so the document is never sent away.
    expect(initializer).toContain("url: resolveUrl('./json')");
    expect(initializer).toMatch(/validatorUrl: null/);
    // No address elsewhere outside comments (one comment cites a Stack Overflow answer).
    const code = initializer
      .split('\n')
      .filter((line) => !line.trim().startsWith('//'))
      .join('\n');
    expect(code).not.toMatch(/https?:\/\//);
    const served = await (await fetch(`${server.url}/docs/json`)).json();
    const published = await (await fetch(`${server.url}/openapi.json`)).json();
    expect(served).toEqual(published);
  });

  it('tells the browser to load nothing from elsewhere', async () => {
    const page = await fetch(`${server.url}/docs/static/index.html`, { redirect: 'manual' });
    const csp = (await fetch(`${server.url}/docs`)).headers.get('content-security-policy') ?? '';
    await page.arrayBuffer();
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);
  });
});
