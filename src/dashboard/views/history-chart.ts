import { html, type Html } from '../html.ts';

export const RANGES = ['1W', '1M', '3M', '1Y', 'ALL'] as const;
export type Range = (typeof RANGES)[number];

/**
 * The balance history of the summary or of one account: the page's script draws it from
 * `/app/api/balance-chart`, which answers what `balance_chart_data` answers.
 */
export function historyChart(target: 'summary' | number, initial: Range = '1M'): Html {
  return html`<figure
    class="chart"
    data-chart="history"
    data-src="/app/api/balance-chart?target=${target}"
    data-currency="USD"
  >
    <div role="group" aria-label="Range">
      ${RANGES.map((r) => html`<button type="button" data-range="${r}" aria-pressed="${r === initial ? 'true' : 'false'}">${r === 'ALL' ? 'All' : r}</button>`)}
    </div>
    <canvas role="img" aria-label="Balance history in USD"></canvas>
    <figcaption>
      Value in USD at each day's 00:00 UTC and now; ▲ deposits, ▼ withdrawals.
    </figcaption>
    <noscript><p class="muted">The chart needs JavaScript; the figures above do not.</p></noscript>
  </figure>`;
}
