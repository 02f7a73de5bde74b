import { html, type Html } from '../html.ts';
import { page, type Viewer } from '../layout.ts';

/** A page for a request the dashboard cannot answer: what happened and where to go. */
export function errorPage(status: number, message: string, viewer?: Viewer): Html {
  const title =
    status === 404 ? 'Not found' : status >= 500 ? 'Something went wrong' : 'Not possible';
  return page({
    title,
    viewer,
    body: html`<section class="panel empty">
      <h1>${title}</h1>
      <p>${message}</p>
      <a class="button" href="/">Back to the overview</a>
    </section>`,
  });
}
