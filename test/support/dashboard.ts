import { expect } from 'vitest';
import type { TestServer } from './server.ts';

// The dashboard from outside, over HTTP: a browser's cookie, forms and redirects, by hand.

export interface SignedInBrowser {
  cookie: string;
  userId: number;
}

/** Signs `userId` in with a fresh one-time link, as a browser following it does. */
export async function signInByLink(server: TestServer, userId: number): Promise<SignedInBrowser> {
  const link = await server.services.sessions.createLoginLink(userId);
  const response = await fetch(`${server.url}/login?token=${link.token}`, { redirect: 'manual' });
  expect(response.status).toBe(303);
  return { cookie: sessionCookieOf(response), userId };
}

/** The `opencommas_session=…` pair a response sets. */
export function sessionCookieOf(response: Response): string {
  const pair = response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0] ?? '')
    .find((p) => p.startsWith('opencommas_session='));
  if (!pair) throw new Error('no session cookie was set');
  return pair;
}

export function getPage(server: TestServer, browser: { cookie: string } | undefined, path: string) {
  return fetch(`${server.url}${path}`, {
    redirect: 'manual',
    headers: browser ? { cookie: browser.cookie } : {},
  });
}

/** The CSRF token the page's forms carry. */
export function csrfOf(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('the page has no CSRF field');
  return token;
}

/** Submits a form as the browser does (urlencoded), with the page's CSRF token unless given. */
export async function submitForm(
  server: TestServer,
  browser: { cookie: string },
  path: string,
  fields: Record<string, string | string[]>,
  csrf?: string,
): Promise<Response> {
  const token = csrf ?? csrfOf(await (await getPage(server, browser, '/settings')).text());
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries({ _csrf: token, ...fields })) {
    for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
  }
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: browser.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
}
