import { html, type Html } from './html.ts';

/**
 * Figures formatted for people. Every figure keeps the API's exact string in `value` (and in
 * `data-exact`, which the page's "Exact figures" toggle swaps in): the page rounds for reading,
 * never for meaning. Formatting goes through Intl with the exact decimal string (Intl formats
 * strings without passing through a binary double), so nothing is added or rounded in floats.
 */
const LOCALE = 'en-US';

/**
 * Made on first use, never at import: Intl's locale data costs an API process about 7 MB of
 * resident memory, which only a process that renders a page should pay.
 */
function lazily<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

// ISO 4217 currencies Intl knows: a fiat gets its symbol and its own decimals; a coin (BTC, ETH)
// is not one and is written as a number with its code.
const fiats = lazily(() => new Set(Intl.supportedValuesOf('currency')));
const isFiat = (currency: string) => fiats().has(currency);

const moneyFormats = new Map<string, Intl.NumberFormat>();
function moneyFormat(currency: string): Intl.NumberFormat {
  let format = moneyFormats.get(currency);
  if (!format) {
    format = isFiat(currency)
      ? new Intl.NumberFormat(LOCALE, { style: 'currency', currency })
      : new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 8, minimumFractionDigits: 2 });
    moneyFormats.set(currency, format);
  }
  return format;
}

/** `$1,234.57`, `¥1,235`, `0.0123 BTC`. `amount` is a decimal string (or a JSON number). */
export function money(amount: string | number, currency: string): string {
  const text = moneyFormat(currency).format(String(amount) as unknown as number);
  return isFiat(currency) ? text : `${text} ${currency}`;
}

const quantity = lazily(() => new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 8 }));
/** An asset amount: grouped, at most 8 decimals. */
export const amountText = (amount: string | number): string =>
  quantity().format(String(amount) as unknown as number);

const percentFormat = lazily(
  () =>
    new Intl.NumberFormat(LOCALE, {
      maximumFractionDigits: 2,
      minimumFractionDigits: 2,
      signDisplay: 'exceptZero',
    }),
);
/** `+6.31 %` from the API's `"6.31"`. */
export const percentText = (percent: string | number): string =>
  `${percentFormat().format(String(percent) as unknown as number)} %`;

const signedMoneyFormats = new Map<string, Intl.NumberFormat>();
/** A change: `+$12.30`, `−$4.00`. */
export function signedMoney(amount: string | number, currency: string): string {
  if (!isFiat(currency)) {
    const text = money(amount, currency);
    return /^[-−]/.test(text) || isZero(amount) ? text : `+${text}`;
  }
  let format = signedMoneyFormats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat(LOCALE, {
      style: 'currency',
      currency,
      signDisplay: 'exceptZero',
    });
    signedMoneyFormats.set(currency, format);
  }
  return format.format(String(amount) as unknown as number);
}

const isZero = (amount: string | number) => !/[1-9]/.test(String(amount));

/** `up`, `down` or `flat`: the colour class of a change (with a sign in the text too). */
export function trend(amount: string | number): 'up' | 'down' | 'flat' {
  if (isZero(amount)) return 'flat';
  return String(amount).startsWith('-') ? 'down' : 'up';
}

/**
 * A figure: the human text, with the exact API string kept for the toggle, the tooltip and
 * tests (`value` is what a test compares with the API's answer).
 */
export function figure(human: string, exact: string, unit = ''): Html {
  const exactText = unit ? `${exact} ${unit}` : exact;
  return html`<data
    class="figure"
    value="${exact}"
    data-human="${human}"
    data-exact="${exactText}"
    title="${exactText}"
    >${human}</data
  >`;
}

const dateTime = lazily(
  () =>
    new Intl.DateTimeFormat(LOCALE, {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'UTC',
    }),
);
/** `Nov 29, 2026, 3:30 PM UTC`, in a `<time>` element carrying the ISO instant. */
export function when(at: Date | string | null | undefined, empty = 'never'): Html {
  if (!at) return html`<span class="muted">${empty}</span>`;
  const date = new Date(at);
  return html`<time datetime="${date.toISOString()}" title="${date.toISOString()}"
    >${dateTime().format(date)} UTC</time
  >`;
}

/** `3 min ago`, `2 h ago`, `in 4 min`: for sync times, where the distance matters more. */
export function ago(at: Date | string | null | undefined, now: Date, empty = 'never'): Html {
  if (!at) return html`<span class="muted">${empty}</span>`;
  const date = new Date(at);
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  const [count, unit] =
    abs < 60
      ? [abs, 's']
      : abs < 3600
        ? [Math.round(abs / 60), 'min']
        : abs < 86_400
          ? [Math.round(abs / 3600), 'h']
          : [Math.round(abs / 86_400), 'd'];
  const text = abs < 5 ? 'just now' : seconds < 0 ? `${count} ${unit} ago` : `in ${count} ${unit}`;
  return html`<time datetime="${date.toISOString()}" title="${dateTime().format(date)} UTC"
    >${text}</time
  >`;
}
