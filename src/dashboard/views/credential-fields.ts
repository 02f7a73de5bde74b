import type { FormField } from '../../markets/market-data-schema.ts';
import { html, type Html } from '../html.ts';
import { input } from './input.ts';

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
    const secret = isSecretField(field.field);
    return input({
      id: `${idPrefix}-${field.field}`,
      name: field.field,
      label: field.localized_name.replace(/:$/, ''),
      type: secret ? 'password' : 'text',
      autocomplete: 'off',
      value: secret ? '' : (values[field.field] ?? ''),
      hint: HINTS[field.field],
    });
  })}`;
}
