import type { TableRow } from '../../accounts/charts/schemas.ts';
import type { AccountEntity } from '../../accounts/entity-schema.ts';
import type { FormField } from '../../markets/market-data-schema.ts';
import type { WalletShare } from '../../storage/schema.ts';
import { ago, amountText, figure, money, when } from '../format.ts';
import { html, type Html } from '../html.ts';
import { csrfField, notice, page, type Viewer } from '../layout.ts';
import type { SyncState } from '../portfolio.ts';
import { credentialInputs } from './credential-fields.ts';
import { input } from './input.ts';
import { headline, percentFigure } from './figures.ts';
import { historyChart } from './history-chart.ts';
import { credentialState, headlineOf, marketLabel, syncedWhen } from './overview.ts';

export interface AccountPageData {
  entity: AccountEntity;
  table: TableRow[];
  /** The wallets that held each asset, when more than the main one did. */
  wallets: ReadonlyMap<string, readonly WalletShare[]>;
  sync: SyncState;
  /** The market's credential fields (market_list), for replacing keys; empty for wallets. */
  keyFields: readonly FormField[];
}

/** What the page says after an action, and which form an error belongs to. */
export interface AccountPageState {
  done?: string | undefined;
  error?: { form: 'sync' | 'rename' | 'keys'; message: string } | undefined;
}

const DONE: Record<string, string> = {
  synced: 'Synced: the figures below are from the exchange just now.',
  renamed: 'Renamed.',
  keys: 'New keys saved: the exchange accepted them, and the account syncs with them.',
  connected: 'Connected: this is the first reading of the account.',
};

export function accountPage(
  viewer: Viewer,
  data: AccountPageData,
  state: AccountPageState,
  now: Date,
): Html {
  const { entity, sync } = data;
  const errorFor = (form: string) =>
    state.error?.form === form ? notice('error', state.error.message) : '';
  const body = html` <p><a href="/">← Overview</a></p>
    <h1>
      <span class="market"
        ><img
          src="/assets/markets/${entity.market_code}.svg"
          alt=""
          width="28"
          height="28"
        />${entity.name}</span
      >
    </h1>
    ${state.done && DONE[state.done] && notice('success', DONE[state.done])}
    ${!sync.last_sync_at && sync.next_sync_at && notice('info', html`Not synced yet: the first reading is on its way. <b>Sync now</b> below reads it at once.`)}
    ${headline(headlineOf(entity), `Figures of ${entity.name}`)}
    <section class="panel" aria-labelledby="holdings-title">
      <h2 id="holdings-title">Holdings</h2>
      ${holdingsTable(data.table, data.wallets)}
    </section>
    <section class="panel" aria-labelledby="history-title">
      <h2 id="history-title">Balance history</h2>
      ${historyChart(entity.id)}
    </section>
    <div class="grid">
      <section class="panel" aria-labelledby="details-title">
        <h2 id="details-title">Details</h2>
        <dl class="facts">
          <dt>Market</dt>
          <dd>${marketLabel(entity.market_code, entity.exchange_name)}</dd>
          <dt>${data.keyFields.some((f) => f.field === 'address') ? 'Address' : 'API key'}</dt>
          <dd class="mono">${entity.api_key || '—'}</dd>
          <dt>Keys</dt>
          <dd>${credentialState(entity)}</dd>
          <dt>Last sync</dt>
          <dd>${syncedWhen(sync, now)}</dd>
          ${
            sync.live &&
            html`<dt>Next sync</dt>
              <dd>${ago(sync.next_sync_at, now, '—')}</dd>`
          }
          ${
            sync.last_sync_error &&
            html`<dt>Last error</dt>
              <dd class="down">${sync.last_sync_error} (${when(sync.last_error_at)})</dd>`
          }
          <dt>Connected</dt>
          <dd>${when(entity.created_at)}</dd>
        </dl>
      </section>
      <section class="panel" aria-labelledby="manage-title">
        <h2 id="manage-title">Manage</h2>
        ${errorFor('sync')}
        ${
          sync.live &&
          html`<form
            method="post"
            action="/accounts/${entity.id}/sync"
            data-busy="Syncing…"
            class="stack"
          >
            ${csrfField(viewer.csrfToken)}
            <div>
              <button type="submit" class="primary">Sync now</button>
              <p class="hint">Reads balances, prices and transfers from the exchange now.</p>
            </div>
          </form>`
        }
        ${errorFor('rename')}
        <form method="post" action="/accounts/${entity.id}/rename" class="stack">
          ${csrfField(viewer.csrfToken)}
          ${input({
            id: 'rename-name',
            name: 'name',
            label: 'Name',
            maxLength: 100,
            value: entity.name,
          })}
          <div><button type="submit">Rename</button></div>
        </form>
        ${
          data.keyFields.length > 0 &&
          !data.keyFields.some((f) => f.field === 'address') &&
          html` ${errorFor('keys')}
            <details ${state.error?.form === 'keys' ? html`open` : ''}>
              <summary>Replace API keys</summary>
              <form
                method="post"
                action="/accounts/${entity.id}/keys"
                data-busy="Checking the keys…"
                class="stack"
              >
                ${csrfField(viewer.csrfToken)} ${credentialInputs(data.keyFields, 'keys')}
                <div><button type="submit">Check and save the new keys</button></div>
              </form>
            </details>`
        }
        <p><a href="/accounts/${entity.id}/remove" class="down">Remove this account…</a></p>
      </section>
    </div>`;
  return page({ title: entity.name, viewer, section: 'overview', body });
}

function holdingsTable(
  rows: TableRow[],
  wallets: ReadonlyMap<string, readonly WalletShare[]>,
): Html {
  if (rows.length === 0) {
    return html`<p class="muted">No holdings yet: they appear after the first sync.</p>`;
  }
  const usd = (n: number | null) =>
    n === null
      ? html`<span class="muted" title="No price on the price source">—</span>`
      : figure(money(String(n), 'USD'), String(n), 'USD');
  return html`<div class="table-wrap">
    <table>
      <thead>
        <tr>
          <th scope="col">Asset</th>
          <th scope="col" class="num">Amount</th>
          <th scope="col" class="num hide-narrow">Price (USD)</th>
          <th scope="col" class="num">Value (USD)</th>
          <th scope="col" class="num">Share</th>
          <th scope="col" class="num hide-narrow">24 h</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (row) =>
            html`<tr data-asset="${row.currency_code}">
              <th scope="row">${row.currency_code}</th>
              <td class="num" data-field="amount">
                ${figure(amountText(String(row.position)), String(row.position), row.currency_code)}
                ${walletsOf(wallets.get(row.currency_code))}
              </td>
              <td class="num hide-narrow" data-field="price">${usd(row.current_price_usd)}</td>
              <td class="num" data-field="value">${usd(row.usd_value)}</td>
              <td class="num" data-field="share">
                ${row.percentage === null ? html`<span class="muted">—</span>` : figure(`${row.percentage.toFixed(2)} %`, String(row.percentage), '%')}
              </td>
              <td class="num hide-narrow" data-field="day">
                ${percentFigure(row.day_change_percent_usd)}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function removePage(viewer: Viewer, entity: AccountEntity): Html {
  return page({
    title: `Remove ${entity.name}`,
    viewer,
    section: 'overview',
    body: html`<section class="panel">
      <h1>Remove ${entity.name}?</h1>
      <p>
        The account, its balance history and its transfers are deleted for good; the figures of
        every other account stay as they are. The exchange keys are forgotten (revoke them on the
        exchange too).
      </p>
      <form method="post" action="/accounts/${entity.id}/remove" class="actions">
        ${csrfField(viewer.csrfToken)}
        <button type="submit" class="danger">Remove ${entity.name}</button>
        <a class="button" href="/accounts/${entity.id}">Cancel</a>
      </form>
    </section>`,
  });
}

/** `spot 0.5 · funding 0.25` under an amount several of the exchange's wallets held. */
function walletsOf(shares: readonly WalletShare[] | undefined): Html | '' {
  if (!shares || shares.length === 0) return '';
  return html`<br /><small class="muted wallets"
      >${shares.map((s) => `${s.wallet} ${amountText(s.amount)}`).join(' · ')}</small
    >`;
}
