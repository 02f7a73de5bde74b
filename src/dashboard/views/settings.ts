import { html, type Html } from '../html.ts';
import { csrfField, notice, page, type Viewer } from '../layout.ts';
import { input } from './input.ts';

export interface SettingsData {
  displayCurrency: string;
  currencies: readonly string[];
  hasPassword: boolean;
}

export interface SettingsState {
  done?: 'currency' | 'password' | undefined;
  /** A refusal, and the form it belongs to. */
  error?: { form: 'currency' | 'password'; message: string } | undefined;
}

export function settingsPage(viewer: Viewer, data: SettingsData, state: SettingsState): Html {
  const errorFor = (form: string) =>
    state.error?.form === form ? notice('error', state.error.message) : '';
  return page({
    title: 'Settings',
    viewer,
    section: 'settings',
    body: html`<h1>Settings</h1>
      ${
        state.done === 'currency' &&
        notice('success', `Display currency set to ${data.displayCurrency}.`)
      }
      ${
        state.done === 'password' &&
        notice('success', 'Password set. Your other sessions have ended; this one goes on.')
      }
      <section class="panel" aria-labelledby="currency-title">
        <h2 id="currency-title">Display currency</h2>
        ${errorFor('currency')}
        <form method="post" action="/settings" class="stack">
          ${csrfField(viewer.csrfToken)}
          <div>
            <label for="display-currency">Show figures in</label>
            <select
              id="display-currency"
              name="display_currency"
              aria-describedby="display-currency-hint"
            >
              ${data.currencies.map(
                (c) =>
                  html`<option value="${c}" ${c === data.displayCurrency ? html`selected` : ''}>
                    ${c}
                  </option>`,
              )}
            </select>
            <p class="hint" id="display-currency-hint">
              Totals and profits are shown in it here and in the API's
              <code>primary_display_currency</code> fields. A window the exchange cannot price in it
              is shown in USD, labelled so.
            </p>
          </div>
          <div><button type="submit" class="primary">Save</button></div>
        </form>
      </section>
      <section class="panel" aria-labelledby="password-title">
        <h2 id="password-title">Password</h2>
        ${errorFor('password')}
        <p class="muted">
          ${
            data.hasPassword
              ? 'Change the password you sign in with.'
              : 'No password yet: you sign in by one-time link. Set one to sign in with your email.'
          }
        </p>
        <form method="post" action="/settings/password" class="stack">
          ${csrfField(viewer.csrfToken)}
          <input type="hidden" name="username" value="${viewer.email}" autocomplete="username" />
          ${
            data.hasPassword &&
            input({
              id: 'current-password',
              name: 'current',
              label: 'Current password',
              type: 'password',
              autocomplete: 'current-password',
            })
          }
          ${input({
            id: 'new-password',
            name: 'password',
            label: 'New password',
            type: 'password',
            autocomplete: 'new-password',
            minLength: 10,
            hint: 'At least 10 characters.',
          })}
          ${input({
            id: 'confirm-password',
            name: 'confirm',
            label: 'New password again',
            type: 'password',
            autocomplete: 'new-password',
          })}
          <div><button type="submit">Set password</button></div>
        </form>
      </section>`,
  });
}
