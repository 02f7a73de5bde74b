import { html, type Html } from '../html.ts';

export interface InputOptions {
  id: string;
  name: string;
  label: string;
  type?: 'text' | 'email' | 'password';
  value?: string;
  autocomplete?: string;
  /** Said under the field and tied to it (`aria-describedby`), for screen readers too. */
  hint?: string | Html | undefined;
  minLength?: number;
  maxLength?: number;
  /** Every field is required unless said otherwise. */
  optional?: boolean;
}

/** One labelled input with its hint: the one way every form of the dashboard asks for text. */
export function input(o: InputOptions): Html {
  const hintId = `${o.id}-hint`;
  return html`<div>
    <label for="${o.id}">${o.label}</label>
    <input
      id="${o.id}"
      name="${o.name}"
      type="${o.type ?? 'text'}"
      ${o.optional ? '' : html`required`}
      ${o.autocomplete !== undefined && html`autocomplete="${o.autocomplete}"`}
      ${o.type === 'password' || o.autocomplete === 'off' ? html`spellcheck="false"` : ''}
      ${o.minLength !== undefined && html`minlength="${o.minLength}"`}
      ${o.maxLength !== undefined && html`maxlength="${o.maxLength}"`}
      ${o.value !== undefined && html`value="${o.value}"`}
      ${o.hint ? html`aria-describedby="${hintId}"` : ''}
    />
    ${o.hint && html`<p class="hint" id="${hintId}">${o.hint}</p>`}
  </div>`;
}
