// The balance history: `usd` over time from 3Commas-shaped balance_chart_data, with deposits
// and withdrawals marked. Without this script the figure keeps whatever the page put in it.
import type { ChartConfiguration, Scale, TooltipItem } from 'chart.js';
import { Chart, fitTo, showMessage } from './charts.ts';
import { count, formatDay, formatMoment, moneyFormatter } from './format.ts';
import { onColourSchemeChange, readTheme, reducedMotion, type Theme } from './theme.ts';
import { timeTicks } from './time-ticks.ts';

/** One point as the endpoint sends it (dates in unix seconds); only these fields are drawn. */
interface BalancePoint {
  date: number;
  usd: number;
  usd_deposit_amount: number;
}

/** A drawn point: x in milliseconds; markers carry the transfer's amount for the tooltip. */
interface Drawn {
  x: number;
  y: number;
  amount?: number;
}

interface History {
  range: string;
  balance: Drawn[];
  deposits: Drawn[];
  withdrawals: Drawn[];
}

const RANGE_NAMES: Record<string, string> = {
  '1W': 'past week',
  '1M': 'past month',
  '3M': 'past 3 months',
  '1Y': 'past year',
  ALL: 'all time',
};

const EMPTY_MESSAGE = 'No history yet: the first sync makes the first point.';
const DAY = 86_400_000;

const isNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

/** The answer's points, oldest first; undefined when it is not balance_chart_data. */
function readPoints(body: unknown): BalancePoint[] | undefined {
  if (!Array.isArray(body)) return undefined;
  const points: BalancePoint[] = [];
  for (const item of body as unknown[]) {
    if (typeof item !== 'object' || item === null) return undefined;
    const { date, usd, usd_deposit_amount: deposit = 0 } = item as Record<string, unknown>;
    if (!isNumber(date) || !isNumber(usd) || !isNumber(deposit)) return undefined;
    points.push({ date, usd, usd_deposit_amount: deposit });
  }
  return points.sort((a, b) => a.date - b.date);
}

function toHistory(range: string, points: BalancePoint[]): History {
  const drawn = points.map((point) => ({
    x: point.date * 1000,
    y: point.usd,
    amount: point.usd_deposit_amount,
  }));
  return {
    range,
    balance: drawn.map(({ x, y }) => ({ x, y })),
    deposits: drawn.filter((point) => point.amount > 0),
    withdrawals: drawn.filter((point) => point.amount < 0),
  };
}

function describe(history: History, currency: string): string {
  const money = moneyFormatter(currency);
  const first = history.balance[0];
  const last = history.balance[history.balance.length - 1];
  const span = first && last ? `${money(first.y)} on ${formatDay(first.x)} to ` : '';
  const end = last ? `${money(last.y)} on ${formatDay(last.x)}` : '';
  const name = RANGE_NAMES[history.range] ?? history.range;
  return (
    `Balance history, ${name}: ${span}${end}; ` +
    `${count(history.deposits.length, 'deposit', 'deposits')}, ` +
    `${count(history.withdrawals.length, 'withdrawal', 'withdrawals')}.`
  );
}

function configure(
  canvas: HTMLCanvasElement,
  history: History,
  currency: string,
  theme: Theme,
  animate: boolean,
): ChartConfiguration<'line', Drawn[]> {
  const money = moneyFormatter(currency);
  const axisMoney = moneyFormatter(currency, true);
  const first = history.balance[0]?.x ?? 0;
  const last = history.balance[history.balance.length - 1]?.x ?? first;
  // One point still needs an axis of some width: a day around it.
  const [min, max] = first === last ? [first - DAY / 2, last + DAY / 2] : [first, last];
  const withTime = max - min < 2 * DAY;
  let tickLabel = (value: number) => formatDay(value);
  const marker = (colour: string, rotation: number) => ({
    showLine: false,
    pointStyle: 'triangle' as const,
    pointRotation: rotation,
    pointRadius: 7,
    pointHoverRadius: 9,
    backgroundColor: colour,
    borderColor: colour,
  });
  return {
    type: 'line',
    data: {
      datasets: [
        {
          label: 'Balance',
          data: history.balance,
          borderColor: theme.line,
          backgroundColor: theme.line,
          borderWidth: 2,
          pointRadius: history.balance.length === 1 ? 3 : 0,
          pointHoverRadius: 4,
          pointStyle: 'line',
        },
        { label: 'Deposit', data: history.deposits, ...marker(theme.deposit, 0) },
        { label: 'Withdrawal', data: history.withdrawals, ...marker(theme.withdrawal, 180) },
      ],
    },
    options: {
      parsing: false,
      normalized: true,
      animation: animate && !reducedMotion() ? undefined : false,
      maintainAspectRatio: true,
      ...fitTo(canvas, (width) => (width < 480 ? 1.4 : 2.4)),
      // The nearest moment: the balance then, and the transfer made then if any.
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      font: { family: theme.font },
      color: theme.text,
      scales: {
        x: {
          type: 'linear',
          min,
          max,
          grid: { color: theme.grid },
          border: { color: theme.grid },
          ticks: {
            color: theme.muted,
            maxRotation: 0,
            callback: (value) => tickLabel(Number(value)),
          },
          afterBuildTicks: (scale: Scale) => {
            const ticks = timeTicks(min, max, Math.floor(scale.width / 90));
            tickLabel = ticks.label;
            scale.ticks = ticks.values.map((value) => ({ value }));
          },
        },
        y: {
          type: 'linear',
          grace: '5%',
          grid: { color: theme.grid },
          border: { color: theme.grid },
          ticks: { color: theme.muted, callback: (value) => axisMoney(Number(value)) },
        },
      },
      plugins: {
        legend: {
          position: 'bottom',
          labels: {
            color: theme.text,
            usePointStyle: true,
            boxWidth: 8,
            boxHeight: 8,
            font: { family: theme.font },
            // A marker nobody can see would only clutter the legend.
            filter: (item, data) => (data.datasets[item.datasetIndex ?? 0]?.data.length ?? 0) > 0,
          },
        },
        tooltip: {
          usePointStyle: true,
          callbacks: {
            title: (items) => {
              const x = items[0]?.parsed.x;
              return x === undefined || x === null ? '' : formatMoment(x, withTime);
            },
            label: (item: TooltipItem<'line'>) => {
              const point = item.raw as Drawn;
              if (item.datasetIndex === 0) return `Balance: ${money(point.y)}`;
              const amount = point.amount ?? 0;
              return amount > 0
                ? `Deposit: ${money(amount)}`
                : `Withdrawal: ${money(Math.abs(amount))}`;
            },
          },
        },
      },
    },
  };
}

/** The range button pressed now (the page marks one), or the first; none without buttons. */
function pressedRange(buttons: HTMLButtonElement[]): string | undefined {
  const pressed = buttons.find((button) => button.getAttribute('aria-pressed') === 'true');
  return (pressed ?? buttons[0])?.dataset.range;
}

export function enhanceHistoryChart(figure: HTMLElement): void {
  const canvas = figure.querySelector('canvas');
  const source = figure.dataset.src;
  if (!canvas || !source) return;
  const currency = figure.dataset.currency || 'USD';
  const buttons = [...figure.querySelectorAll<HTMLButtonElement>('button[data-range]')];
  canvas.setAttribute('role', 'img');
  let chart: Chart<'line', Drawn[]> | undefined;
  let shown: History | undefined;
  let inFlight: AbortController | undefined;

  const draw = (history: History, animate: boolean) => {
    chart?.destroy();
    canvas.hidden = false;
    chart = new Chart(canvas, configure(canvas, history, currency, readTheme(figure), animate));
  };

  const settle = (state: 'ready' | 'empty' | 'error', history?: History, message?: string) => {
    figure.dataset.state = state;
    figure.removeAttribute('aria-busy');
    for (const [name, value] of [
      ['points', history?.balance.length],
      ['deposits', history?.deposits.length],
      ['withdrawals', history?.withdrawals.length],
    ] as const) {
      if (value === undefined) delete figure.dataset[name];
      else figure.dataset[name] = String(value);
    }
    showMessage(figure, message);
    if (state === 'ready' && history) {
      shown = history;
      draw(history, true);
      canvas.setAttribute('aria-label', describe(history, currency));
    } else {
      shown = undefined;
      chart?.destroy();
      chart = undefined;
      canvas.hidden = true;
      canvas.setAttribute('aria-label', message ?? '');
    }
  };

  const load = async (range: string | undefined) => {
    // A newer choice of range wins over an answer still on its way.
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    figure.dataset.state = 'loading';
    figure.setAttribute('aria-busy', 'true');
    if (range) figure.dataset.range = range;
    const url = new URL(source, location.href);
    if (range) url.searchParams.set('range', range);
    let points: BalancePoint[] | undefined;
    let failure: string | undefined;
    try {
      const response = await fetch(url, {
        mode: 'same-origin',
        credentials: 'include',
        headers: { Accept: 'application/json' },
        signal: controller.signal,
      });
      if (response.ok) points = readPoints(await response.json());
      else failure = `Could not load the balance history (HTTP ${response.status}).`;
    } catch {
      if (controller.signal.aborted) return;
    }
    if (controller !== inFlight) return;
    inFlight = undefined;
    if (!points) settle('error', undefined, failure ?? 'Could not load the balance history.');
    else if (points.length === 0) settle('empty', toHistory(range ?? '', []), EMPTY_MESSAGE);
    else settle('ready', toHistory(range ?? '', points));
  };

  figure.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-range]');
    if (!button || !buttons.includes(button)) return;
    for (const other of buttons) other.setAttribute('aria-pressed', String(other === button));
    void load(button.dataset.range);
  });
  onColourSchemeChange(() => {
    if (shown) draw(shown, false);
  });
  void load(pressedRange(buttons));
}
