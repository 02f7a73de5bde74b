import { html, type Html } from '../html.ts';
import { figure, money, percentText, signedMoney, trend } from '../format.ts';

/** An amount of money as the API gives it (`{currency, amount}`), formatted with its currency. */
export const moneyFigure = (m: { currency: string; amount: string | number }): Html =>
  figure(money(m.amount, m.currency), String(m.amount), m.currency);

/** A change of value with its percentage, coloured and signed (the sign is in the text too). */
export function changeFigure(
  m: { currency: string; amount: string | number },
  percent: string | null,
): Html {
  return html`<span class="${trend(m.amount)}"
    >${figure(signedMoney(m.amount, m.currency), String(m.amount), m.currency)}${
      percent !== null && html` <small>(${figure(percentText(percent), percent, '%')})</small>`
    }</span
  >`;
}

/** A percentage alone (`+6.31 %`), coloured by its sign. */
export const percentFigure = (percent: string | number | null): Html =>
  percent === null
    ? html`<span class="muted">—</span>`
    : html`<span class="${trend(percent)}"
        >${figure(percentText(percent), String(percent), '%')}</span
      >`;

/** The four headline figures of the summary or of one account. */
export interface Headline {
  value: { currency: string; amount: string | number };
  day: { currency: string; amount: string | number };
  dayPercent: string;
  period: { currency: string; amount: string | number };
  periodPercent: string;
  total: { currency: string; amount: string | number };
  totalPercent: string | null;
}

export function headline(h: Headline, label: string): Html {
  return html`<dl class="totals" aria-label="${label}">
    <div data-figure="value">
      <dt>Value</dt>
      <dd>${moneyFigure(h.value)}</dd>
    </div>
    <div data-figure="day">
      <dt>Today (24 h)</dt>
      <dd>${changeFigure(h.day, h.dayPercent)}</dd>
    </div>
    <div data-figure="period">
      <dt>30 days</dt>
      <dd>${changeFigure(h.period, h.periodPercent)}</dd>
    </div>
    <div data-figure="total">
      <dt>Since connected</dt>
      <dd>${changeFigure(h.total, h.totalPercent)}</dd>
    </div>
  </dl>`;
}
