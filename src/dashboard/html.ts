/**
 * HTML built from tagged templates: every interpolated value is escaped unless it is already
 * `Html` (the result of another `html` template, or `unsafe` for markup we wrote ourselves).
 * Arrays are joined; null, undefined and false render nothing, so `cond && html\`…\`` reads well.
 * Twenty lines instead of a template engine: the pages are TypeScript functions of typed data,
 * so the compiler checks every field a page uses.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Renderable = Html | string | number | null | undefined | false | readonly Renderable[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

function render(value: Renderable): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((item: Renderable) => render(item)).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Renderable[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Markup we wrote ourselves (an inline SVG), never text from a user or an exchange. */
export const unsafe = (markup: string): Html => new Html(markup);

/** JSON for a `<script type="application/json">` block: `<` escaped so it cannot close it. */
export const jsonScript = (value: unknown): Html =>
  new Html(JSON.stringify(value).replace(/</g, '\\u003c'));
