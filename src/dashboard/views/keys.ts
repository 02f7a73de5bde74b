import type { CreatedKey, KeyListing } from '../../auth/keys.ts';
import { PERMISSIONS } from '../../auth/permissions.ts';
import { signedCurl } from '../../cli/welcome.ts';
import { ago, when } from '../format.ts';
import { html, type Html } from '../html.ts';
import { csrfField, notice, page, type Viewer } from '../layout.ts';

export interface KeysState {
  error?: string | undefined;
  done?: string | undefined;
  /** What the user typed, kept when the form is refused. */
  form?: {
    permissions: string[];
    ip_whitelist: string;
    expires_at: string;
    rsa_public_key: string;
    signing: string;
  };
}

const DEFAULT_FORM = {
  permissions: ['ACCOUNTS_READ'],
  ip_whitelist: '',
  expires_at: '',
  rsa_public_key: '',
  signing: 'HMAC',
};

// NONE is what a key without other permissions has; the others are offered.
const OFFERED = PERMISSIONS.filter((p) => p !== 'NONE');

export function keysPage(viewer: Viewer, keys: KeyListing[], state: KeysState, now: Date): Html {
  const form = state.form ?? DEFAULT_FORM;
  return page({
    title: 'API keys',
    viewer,
    section: 'keys',
    body: html`<h1>API keys</h1>
      <p class="muted">
        Keys for the 3Commas API at <code>/public/api</code>: any 3Commas client works with them.
      </p>
      ${state.done && notice('success', state.done)}
      <section class="panel" aria-labelledby="keys-title">
        <h2 id="keys-title">Your keys</h2>
        ${keys.length === 0 ? html`<p class="muted">No keys yet: create one below.</p>` : keysTable(viewer, keys, now)}
      </section>
      <section class="panel" aria-labelledby="create-title">
        <h2 id="create-title">Create a key</h2>
        ${state.error && notice('error', state.error)}
        <form method="post" action="/keys" class="stack">
          ${csrfField(viewer.csrfToken)}
          <fieldset>
            <legend>Permissions</legend>
            <div class="checks">
              ${OFFERED.map(
                (p) =>
                  html`<label
                    ><input
                      type="checkbox"
                      name="permissions"
                      value="${p}"
                      ${form.permissions.includes(p) ? html`checked` : ''}
                    />
                    ${p}</label
                  >`,
              )}
            </div>
            <p class="hint">
              This service serves the accounts family: ACCOUNTS_READ reads, ACCOUNTS_WRITE connects
              and changes accounts.
            </p>
          </fieldset>
          <div>
            <label for="ip-whitelist">IP whitelist <span class="hint">(optional)</span></label>
            <textarea id="ip-whitelist" name="ip_whitelist" aria-describedby="ip-hint" rows="2">
${form.ip_whitelist}</textarea>
            <p class="hint" id="ip-hint">
              Addresses or CIDR ranges, one per line or comma-separated. Empty: any address.
            </p>
          </div>
          <div>
            <label for="expires-at">Expires <span class="hint">(optional, UTC)</span></label>
            <input
              id="expires-at"
              name="expires_at"
              type="datetime-local"
              value="${form.expires_at}"
            />
          </div>
          <fieldset>
            <legend>Signing</legend>
            <div class="checks">
              <label
                ><input
                  type="radio"
                  name="signing"
                  value="HMAC"
                  ${form.signing !== 'RSA' ? html`checked` : ''}
                />
                HMAC-SHA256 with a secret made here (shown once)</label
              >
              <label
                ><input
                  type="radio"
                  name="signing"
                  value="RSA"
                  ${form.signing === 'RSA' ? html`checked` : ''}
                />
                RSA: your own key pair; paste or upload the public key</label
              >
            </div>
            <div>
              <label for="rsa-public-key">RSA public key (PEM)</label>
              <textarea
                id="rsa-public-key"
                name="rsa_public_key"
                spellcheck="false"
                placeholder="-----BEGIN PUBLIC KEY-----"
              >
${form.rsa_public_key}</textarea>
              <label for="rsa-file" class="hint">…or upload it</label>
              <input
                id="rsa-file"
                type="file"
                accept=".pem,.pub,.txt"
                data-file-into="#rsa-public-key"
              />
            </div>
          </fieldset>
          <div><button type="submit" class="primary">Create key</button></div>
        </form>
      </section>`,
  });
}

function keyState(key: KeyListing, now: Date): Html {
  if (key.revoked_at)
    return html`<span class="state bad">Revoked</span> <small>${when(key.revoked_at)}</small>`;
  if (key.expires_at && key.expires_at <= now) return html`<span class="state bad">Expired</span>`;
  return html`<span class="state ok">Active</span>`;
}

function keysTable(viewer: Viewer, keys: KeyListing[], now: Date): Html {
  return html`<div class="table-wrap">
    <table>
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Permissions</th>
          <th scope="col" class="hide-narrow">Signing</th>
          <th scope="col" class="hide-narrow">IP whitelist</th>
          <th scope="col" class="hide-narrow">Expires</th>
          <th scope="col">Last used</th>
          <th scope="col">State</th>
          <th scope="col"><span class="visually-hidden">Actions</span></th>
        </tr>
      </thead>
      <tbody>
        ${keys.map(
          (key) =>
            html`<tr data-key="${key.api_key}">
              <th scope="row" class="mono" title="${key.api_key}">${key.api_key.slice(0, 12)}…</th>
              <td class="permissions">
                ${key.permissions.map((p, i) => html`${i > 0 && html`<br />`}${p}`)}
              </td>
              <td class="hide-narrow">${key.signing}</td>
              <td class="hide-narrow">
                ${key.ip_whitelist?.join(', ') ?? html`<span class="muted">any</span>`}
              </td>
              <td class="hide-narrow">${when(key.expires_at, 'never')}</td>
              <td>${ago(key.last_used_at, now, 'never')}</td>
              <td>${keyState(key, now)}</td>
              <td>
                ${!key.revoked_at && html`<form method="post" action="/keys/${key.id}/revoke">${csrfField(viewer.csrfToken)}<button type="submit" aria-label="Revoke key ${key.api_key.slice(0, 12)}">Revoke</button></form>`}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** The one time a secret is shown: with a signed curl ready to paste. */
export function keyCreatedPage(viewer: Viewer, key: CreatedKey, baseUrl: string): Html {
  const curl = key.secret ? signedCurl(baseUrl, key.api_key, key.secret) : undefined;
  return page({
    title: 'Key created',
    viewer,
    section: 'keys',
    body: html`<h1>Key created</h1>
      ${notice('info', key.secret ? 'Copy the secret now: it is shown this once, and stored only encrypted.' : 'Sign requests with your RSA private key; this service holds only the public key.')}
      <section class="panel">
        <dl class="facts">
          <dt>API key</dt>
          <dd>
            <code id="new-api-key">${key.api_key}</code>
            <button type="button" data-copy="#new-api-key">Copy</button>
          </dd>
          ${
            key.secret &&
            html`<dt>Secret</dt>
              <dd>
                <code id="new-secret">${key.secret}</code>
                <button type="button" data-copy="#new-secret">Copy</button>
              </dd>`
          }
          <dt>Permissions</dt>
          <dd>${key.permissions.join(', ')}</dd>
          <dt>IP whitelist</dt>
          <dd>${key.ip_whitelist?.join(', ') ?? 'any address'}</dd>
          <dt>Expires</dt>
          <dd>${when(key.expires_at, 'never')}</dd>
        </dl>
      </section>
      <section class="panel" aria-labelledby="try-title">
        <h2 id="try-title">Try it</h2>
        ${
          curl
            ? html`<p>
                  A signed request for your accounts (HMAC-SHA256 of the path with the secret):
                </p>
                <pre id="new-curl">${curl}</pre>
                <button type="button" data-copy="#new-curl">Copy</button>`
            : html`<p>Sign the path with your private key (RSA-SHA256, base64):</p>
                <pre id="new-curl">
SIG=$(printf '%s' '/public/api/ver1/accounts' | openssl dgst -sha256 -sign private.pem | base64 -w0)
curl -s '${baseUrl}/public/api/ver1/accounts' -H 'Apikey: ${key.api_key}' -H "Signature: $SIG"</pre>`
        }
      </section>
      <p><a href="/keys">← All keys</a></p>`,
  });
}
