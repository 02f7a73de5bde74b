import type { MarketListItem } from '../../markets/market-data-schema.ts';
import { html, type Html } from '../html.ts';
import { csrfField, notice, page, type Viewer } from '../layout.ts';
import { credentialInputs } from './credential-fields.ts';
import { input } from './input.ts';

export function marketsPage(viewer: Viewer, markets: MarketListItem[]): Html {
  return page({
    title: 'Connect',
    viewer,
    section: 'connect',
    body: html`<h1>Connect an account</h1>
      <p class="muted">
        Pick the exchange or the chain. Exchange keys are checked with the exchange before anything
        is stored.
      </p>
      <ul class="markets">
        ${markets.map(
          (m) =>
            html`<li>
              <a href="/connect/${m.market_code}"
                ><img
                  src="/assets/markets/${m.market_code}.svg"
                  alt=""
                  width="28"
                  height="28"
                />${m.market_name}</a
              >
            </li>`,
        )}
      </ul>`,
  });
}

export interface ConnectForm {
  name?: string;
  /** The public credential fields as typed (API key, address), refilled after a refusal. */
  values?: Record<string, string>;
  error?: string;
}

export function connectPage(viewer: Viewer, market: MarketListItem, form: ConnectForm = {}): Html {
  const fields = market.form_fields.required;
  const isWallet = fields.some((f) => f.field === 'address');
  return page({
    title: `Connect ${market.market_name}`,
    viewer,
    section: 'connect',
    body: html`<p><a href="/connect">← All markets</a></p>
      <h1>
        <span class="market"
          ><img
            src="/assets/markets/${market.market_code}.svg"
            alt=""
            width="28"
            height="28"
          />Connect ${market.market_name}</span
        >
      </h1>
      ${form.error && notice('error', form.error)}
      <form
        method="post"
        action="/connect/${market.market_code}"
        class="stack panel"
        data-busy="${isWallet ? 'Connecting…' : 'Checking the keys…'}"
      >
        ${csrfField(viewer.csrfToken)}
        ${input({
          id: 'connect-name',
          name: 'name',
          label: 'Name',
          maxLength: 100,
          value: form.name ?? market.market_name,
          hint: html`How the account is listed (it is the API's <code>name</code>).`,
        })}
        ${credentialInputs(fields, 'connect', form.values)}
        <div><button type="submit" class="primary">Connect</button></div>
      </form>`,
  });
}
