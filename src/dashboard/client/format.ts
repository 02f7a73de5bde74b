// Display only: the browser formats what the server computed; no arithmetic on money here.

/** The page's language (its <html lang>), else the browser's. */
export const pageLocale = (): string | undefined => document.documentElement.lang || undefined;

/** Money in `currency`; a code Intl does not know is shown after the number instead. */
export function moneyFormatter(currency: string, compact = false): (value: number) => string {
  try {
    const format = new Intl.NumberFormat(pageLocale(), {
      style: 'currency',
      currency,
      ...(compact ? { notation: 'compact', maximumFractionDigits: 1 } : {}),
    });
    return (value) => format.format(value);
  } catch {
    const format = new Intl.NumberFormat(pageLocale(), { maximumFractionDigits: 8 });
    return (value) => `${format.format(value)} ${currency}`;
  }
}

/** A day as the tooltip and the canvas's description name it ("Nov 29, 2026"). */
export function formatDay(milliseconds: number): string {
  return new Intl.DateTimeFormat(pageLocale(), { dateStyle: 'medium' }).format(milliseconds);
}

/** A moment, with its time when the chart spans less than a couple of days. */
export function formatMoment(milliseconds: number, withTime: boolean): string {
  return new Intl.DateTimeFormat(pageLocale(), {
    dateStyle: 'medium',
    ...(withTime ? { timeStyle: 'short' } : {}),
  }).format(milliseconds);
}

/** "1 deposit", "2 deposits". */
export function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
