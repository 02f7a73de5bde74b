import type { FormField } from '../../markets/market-data-schema.ts';
import { html, type Html } from '../html.ts';

/** What each credential field is, in words a user can act on. */
const HINTS: Record<string, string> = {
  api_key: 'Create a read-only key on the exchange: opencommas only reads balances and transfers.',
  secret: 'Stored encrypted; never shown again, never logged.',
  passphrase: 'The passphrase you chose when creating the key (OKX, KuCoin).',
  address: 'The public address: nothing secret is needed to read a wallet.',
};

/** The fields whose value may be written back into a page: never a secret or passphrase. */
export const isSecretField = (name: string) => name === 'secret' || name === 'passphrase';

/**
 * Inputs for a market's `form_fields` (market_list), as 3Commas' own connect form builds them;
 * `values` refills the public ones (an API key, an address) after a refusal.
 */
export function credentialInputs(
  fields: readonly FormField[],
  idPrefix: string,
  values: Readonly<Record<string, string>> = {},
): Html {
  return html`${fields.map((field) => {
    const id = `${idPrefix}-${field.field}`;
    const secret = isSecretField(field.field);
    const value = secret ? '' : (values[field.field] ?? '');
    const hint = HINTS[field.field];
    return html`<div>
      <label for="${id}">${field.localized_name.replace(/:$/, '')}</label>
      <input
        id="${id}"
        name="${field.field}"
        type="${secret ? 'password' : 'text'}"
        required
        autocomplete="off"
        spellcheck="false"
        value="${value}"
        ${hint ? html`aria-describedby="${id}-hint"` : ''}
      />
      ${hint && html`<p class="hint" id="${id}-hint">${hint}</p>`}
    </div>`;
  })}`;
}
