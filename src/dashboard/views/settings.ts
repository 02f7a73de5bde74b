import { html, type Html } from '../html.ts';
import { csrfField, notice, page, type Viewer } from '../layout.ts';

export interface SettingsState {
  done?: boolean;
  error?: string;
}

export function settingsPage(
  viewer: Viewer,
  current: string,
  currencies: readonly string[],
  state: SettingsState,
): Html {
  return page({
    title: 'Settings',
    viewer,
    section: 'settings',
    body: html`<h1>Settings</h1>
      ${state.done && notice('success', `Display currency set to ${current}.`)}
      ${state.error && notice('error', state.error)}
      <form method="post" action="/settings" class="stack panel">
        ${csrfField(viewer.csrfToken)}
        <div>
          <label for="display-currency">Display currency</label>
          <select
            id="display-currency"
            name="display_currency"
            aria-describedby="display-currency-hint"
          >
            ${currencies.map((c) => html`<option value="${c}" ${c === current ? html`selected` : ''}>${c}</option>`)}
          </select>
          <p class="hint" id="display-currency-hint">
            Totals and profits are shown in it here and in the API's
            <code>primary_display_currency</code> fields. A window the exchange cannot price in it
            is shown in USD, labelled so.
          </p>
        </div>
        <div><button type="submit" class="primary">Save</button></div>
      </form>`,
  });
}
