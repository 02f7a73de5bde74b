import { html, type Html, type Renderable } from './html.ts';

export interface Viewer {
  email: string;
  csrfToken: string;
}

export type Section = 'overview' | 'connect' | 'keys' | 'settings' | 'none';

export interface PageOptions {
  title: string;
  /** The signed-in user; absent on the sign-in page. */
  viewer?: Viewer | undefined;
  section?: Section;
  body: Renderable;
}

const NAV: Array<[Section, string, string]> = [
  ['overview', '/', 'Overview'],
  ['connect', '/connect', 'Connect'],
  ['keys', '/keys', 'API keys'],
  ['settings', '/settings', 'Settings'],
];

/** The shell of every page: a skip link, the navigation, one `<main>`, the script. */
export function page({ title, viewer, section = 'none', body }: PageOptions): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${title} · opencommas</title>
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/assets/dashboard.css" />
        <script type="module" src="/assets/dashboard.js"></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/"
            ><img src="/assets/favicon.svg" alt="" width="24" height="24" /> opencommas</a
          >
          ${viewer && navigation(viewer, section)}
        </header>
        <main id="main" tabindex="-1">${body}</main>
      </body>
    </html>`;
}

function navigation(viewer: Viewer, section: Section): Html {
  return html`<nav aria-label="Main">
      <ul>
        ${NAV.map(
          ([id, href, label]) =>
            html`<li>
              <a href="${href}" ${id === section ? html`aria-current="page"` : ''}>${label}</a>
            </li>`,
        )}
      </ul>
    </nav>
    <div class="who">
      <button type="button" class="link" data-exact-toggle aria-pressed="false">
        Exact figures
      </button>
      <span class="email" title="Signed in">${viewer.email}</span>
      <form method="post" action="/logout">
        ${csrfField(viewer.csrfToken)}<button type="submit" class="link">Log out</button>
      </form>
    </div>`;
}

/** The hidden field every state-changing form carries (checked by the session guard). */
export const csrfField = (token: string): Html =>
  html`<input type="hidden" name="_csrf" value="${token}" />`;

/** A message above a form or a page: `role=alert` for errors so screen readers announce it. */
export function notice(kind: 'error' | 'success' | 'info', text: Renderable): Html {
  return kind === 'error'
    ? html`<div class="notice error" role="alert">${text}</div>`
    : html`<div class="notice ${kind}" role="status">${text}</div>`;
}
