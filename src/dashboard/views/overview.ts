import type { PieChartItem } from '../../accounts/charts/schemas.ts';
import type { AccountEntity } from '../../accounts/entity-schema.ts';
import { Dec } from '../../valuation/index.ts';
import { ago, money } from '../format.ts';
import { html, jsonScript, type Html } from '../html.ts';
import { notice, page, type Viewer } from '../layout.ts';
import {
  totalProfitPercentage,
  type AccountLine,
  type Portfolio,
  type SyncState,
} from '../portfolio.ts';
import { changeFigure, headline, moneyFigure, type Headline } from './figures.ts';
import { historyChart } from './history-chart.ts';

type Figures = Pick<
  AccountEntity,
  | 'primary_display_currency_amount'
  | 'day_profit_primary_display_currency'
  | 'day_profit_primary_display_currency_percentage'
  | 'primary_display_currency_profit'
  | 'primary_display_currency_profit_percentage'
  | 'total_primary_display_currency_profit'
>;

/** The headline figures of an entity (an account, or the summary) in the display currency. */
export function headlineOf(entity: Figures): Headline {
  const total = entity.total_primary_display_currency_profit;
  const value = entity.primary_display_currency_amount;
  return {
    value,
    day: entity.day_profit_primary_display_currency,
    dayPercent: entity.day_profit_primary_display_currency_percentage.amount,
    period: entity.primary_display_currency_profit,
    periodPercent: entity.primary_display_currency_profit_percentage.amount,
    total,
    // Only when both are in one currency (a window without a display price falls back to USD).
    totalPercent:
      total.currency === value.currency ? totalProfitPercentage(value.amount, total.amount) : null,
  };
}

export function overviewPage(viewer: Viewer, portfolio: Portfolio, now: Date, done?: string): Html {
  const { accounts } = portfolio;
  const body =
    accounts.length === 0
      ? html`${done && notice('success', done)}${emptyPortfolio()}`
      : html` <h1>Overview</h1>
          ${done && notice('success', done)}
          <section aria-labelledby="totals-title">
            <h2 id="totals-title" class="visually-hidden">Totals</h2>
            ${headline(headlineOf(portfolio.summary), 'Totals of every account in the summary')}
          </section>
          <section class="panel" aria-labelledby="history-title">
            <h2 id="history-title">Balance history</h2>
            ${historyChart('summary')}
          </section>
          <section class="panel" aria-labelledby="accounts-title">
            <h2 id="accounts-title">Accounts</h2>
            ${accountsTable(accounts, now)}
          </section>
          <div class="grid">
            <section class="panel" aria-labelledby="by-asset-title">
              <h2 id="by-asset-title">Allocation by asset</h2>
              ${allocation('By asset', byAsset(portfolio.byAsset))}
            </section>
            <section class="panel" aria-labelledby="by-account-title">
              <h2 id="by-account-title">Allocation by account</h2>
              ${allocation('By account', byAccount(accounts))}
            </section>
          </div>`;
  return page({ title: 'Overview', viewer, section: 'overview', body });
}

function emptyPortfolio(): Html {
  return html`<h1>Overview</h1>
    <section class="panel empty">
      <h2>No accounts yet</h2>
      <p>
        Connect an exchange with read-only API keys, or a wallet by its address, to see its value
        here.
      </p>
      <a class="button primary" href="/connect">Connect an account</a>
    </section>`;
}

function accountsTable(accounts: AccountLine[], now: Date): Html {
  return html`<div class="table-wrap">
    <table>
      <thead>
        <tr>
          <th scope="col">Account</th>
          <th scope="col" class="hide-narrow">Market</th>
          <th scope="col" class="num">Value</th>
          <th scope="col" class="num">Today</th>
          <th scope="col" class="num hide-narrow">30 days</th>
          <th scope="col">Keys</th>
          <th scope="col" class="hide-narrow">Last sync</th>
        </tr>
      </thead>
      <tbody>
        ${accounts.map((line) => accountRow(line, now))}
      </tbody>
    </table>
  </div>`;
}

function accountRow({ entity, sync }: AccountLine, now: Date): Html {
  return html`<tr data-account-id="${entity.id}">
    <th scope="row"><a href="/accounts/${entity.id}">${entity.name}</a></th>
    <td class="hide-narrow">${marketLabel(entity.market_code, entity.exchange_name)}</td>
    <td class="num" data-field="value">${moneyFigure(entity.primary_display_currency_amount)}</td>
    <td class="num" data-field="day">
      ${changeFigure(entity.day_profit_primary_display_currency, entity.day_profit_primary_display_currency_percentage.amount)}
    </td>
    <td class="num hide-narrow" data-field="period">
      ${changeFigure(entity.primary_display_currency_profit, entity.primary_display_currency_profit_percentage.amount)}
    </td>
    <td>${credentialState(entity)}</td>
    <td class="hide-narrow">
      ${syncedWhen(sync, now)}${
        sync.last_sync_error &&
        html`<br /><small class="down" title="${sync.last_sync_error}"
            >Last error: ${sync.last_sync_error}</small
          >`
      }
    </td>
  </tr>`;
}

/** When the account was last read; a manual or unscheduled account says so instead. */
export function syncedWhen(sync: SyncState, now: Date): Html {
  if (sync.last_sync_at) return ago(sync.last_sync_at, now);
  if (!sync.live) return html`<span class="muted">manual account</span>`;
  return sync.next_sync_at
    ? html`<span class="muted">not yet (due ${ago(sync.next_sync_at, now)})</span>`
    : html`<span class="muted">not scheduled</span>`;
}

export function marketLabel(code: string, name: string): Html {
  return html`<span class="market"
    ><img src="/assets/markets/${code}.svg" alt="" width="20" height="20" />${name}</span
  >`;
}

/** The keys' state in words: a locked account says why. */
export function credentialState(entity: AccountEntity): Html {
  if (entity.is_locked) {
    return html`<span class="state bad">Locked</span
      >${entity.lock_reason && html` <small>${entity.lock_reason}</small>`}`;
  }
  if (entity.api_key_invalid) return html`<span class="state bad">Key refused</span>`;
  if (entity.api_keys_state === 'expired') return html`<span class="state bad">Key expired</span>`;
  if (entity.api_keys_state === 'expire_soon') {
    return html`<span class="state warn">Key expires soon</span>`;
  }
  return html`<span class="state ok">OK</span>`;
}

interface Slice {
  label: string;
  /** Percentage string, 2 decimals. */
  share: string;
  value: string;
}

/**
 * The summary's pie has one item per account and asset: added up per asset here, in decimal,
 * from the items' own values (USD for the share; the display currency for the text when every
 * item of the asset has it, else USD).
 */
function byAsset(items: PieChartItem[]): Slice[] {
  const assets = new Map<string, PieChartItem[]>();
  for (const item of items) assets.set(item.code, [...(assets.get(item.code) ?? []), item]);
  const total = items.reduce((sum, item) => sum.plus(item.usd_value), new Dec(0));
  if (total.isZero()) return [];
  return [...assets]
    .map(([code, held]) => {
      const usd = held.reduce((sum, item) => sum.plus(item.usd_value), new Dec(0));
      const currency = held[0]?.primary_display_currency.currency ?? 'USD';
      const sameCurrency = held.every((i) => i.primary_display_currency.currency === currency);
      const shown = sameCurrency
        ? money(
            held
              .reduce((sum, i) => sum.plus(i.primary_display_currency.amount), new Dec(0))
              .toFixed(),
            currency,
          )
        : money(usd.toFixed(), 'USD');
      return { label: code, share: usd.div(total).times(100).toFixed(2), value: shown, usd };
    })
    .sort((x, y) => y.usd.comparedTo(x.usd))
    .map(({ usd: _usd, ...slice }) => slice);
}

/** Each account's share of the USD value (the one currency every account has a value in). */
function byAccount(accounts: AccountLine[]): Slice[] {
  const held = accounts.filter((a) => new Dec(a.entity.usd_amount).gt(0));
  const total = held.reduce((sum, a) => sum.plus(a.entity.usd_amount), new Dec(0));
  if (total.isZero()) return [];
  return held
    .map((a) => ({
      label: a.entity.name,
      share: new Dec(a.entity.usd_amount).div(total).times(100).toFixed(2),
      value: money(
        a.entity.primary_display_currency_amount.amount,
        a.entity.primary_display_currency_amount.currency,
      ),
    }))
    .sort((x, y) => new Dec(y.share).comparedTo(x.share));
}

export function allocation(label: string, slices: Slice[]): Html {
  if (slices.length === 0) {
    return html`<p class="muted">Nothing priced yet: the first sync values the holdings.</p>`;
  }
  return html`<figure class="chart" data-chart="allocation">
      <script type="application/json">
        ${jsonScript(slices)}
      </script>
      <canvas
        role="img"
        aria-label="${label}: ${slices.map((s) => `${s.label} ${s.share} %`).join(', ')}"
      ></canvas>
      <figcaption>${label}, share of the value</figcaption>
    </figure>
    <ul class="legend">
      ${slices.slice(0, 12).map((s) => html`<li><span>${s.label}</span><span>${s.share} % · ${s.value}</span></li>`)}
    </ul>`;
}
