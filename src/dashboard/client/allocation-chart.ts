// The allocation doughnut: the shares the page embeds as JSON beside the canvas (the page also
// lists them in text, so the chart is a picture of what is already there).
import type { ChartConfiguration, TooltipItem } from 'chart.js';
import { Chart, fitTo, showMessage } from './charts.ts';
import { onColourSchemeChange, readTheme, reducedMotion, type Theme } from './theme.ts';

interface Slice {
  label: string;
  /** A percentage, as text ("61.25"). */
  share: string;
  /** The slice's value, formatted by the server for the tooltip. */
  value: string;
}

function readSlices(text: string): Slice[] | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(body)) return undefined;
  const slices: Slice[] = [];
  for (const item of body as unknown[]) {
    if (typeof item !== 'object' || item === null) return undefined;
    const { label, share, value } = item as Record<string, unknown>;
    if (typeof label !== 'string' || typeof share !== 'string') return undefined;
    if (!Number.isFinite(Number(share))) return undefined;
    slices.push({ label, share, value: typeof value === 'string' ? value : '' });
  }
  return slices;
}

function configure(
  canvas: HTMLCanvasElement,
  slices: Slice[],
  theme: Theme,
  animate: boolean,
): ChartConfiguration<'doughnut', number[], string> {
  return {
    type: 'doughnut',
    data: {
      labels: slices.map((slice) => slice.label),
      datasets: [
        {
          // Only the angles: the shares are drawn, never added up here.
          data: slices.map((slice) => Number(slice.share)),
          backgroundColor: slices.map(
            (_, index) => theme.series[index % theme.series.length] ?? theme.line,
          ),
          borderColor: theme.surface,
          borderWidth: 2,
        },
      ],
    },
    options: {
      animation: animate && !reducedMotion() ? undefined : false,
      // Narrow (a phone): a taller picture, the legend below; wide: the legend beside it.
      ...fitTo(
        canvas,
        (width) => (width < 420 ? 1.1 : 2),
        (chart, width) => {
          const legend = chart.options.plugins?.legend;
          if (legend) legend.position = width < 420 ? 'bottom' : 'right';
        },
      ),
      cutout: '60%',
      font: { family: theme.font },
      color: theme.text,
      plugins: {
        legend: {
          position: (canvas.parentElement?.clientWidth ?? 0) < 420 ? 'bottom' : 'right',
          labels: {
            color: theme.text,
            usePointStyle: true,
            pointStyle: 'circle',
            boxWidth: 8,
            boxHeight: 8,
            font: { family: theme.font },
          },
        },
        tooltip: {
          callbacks: {
            label: (item: TooltipItem<'doughnut'>) => {
              const slice = slices[item.dataIndex];
              if (!slice) return '';
              return slice.value
                ? `${slice.label}: ${slice.value} (${slice.share}%)`
                : `${slice.label}: ${slice.share}%`;
            },
          },
        },
      },
    },
  };
}

export function enhanceAllocationChart(figure: HTMLElement): void {
  const canvas = figure.querySelector('canvas');
  const data = figure.querySelector('script[type="application/json"]');
  if (!canvas || !data) return;
  canvas.setAttribute('role', 'img');
  const slices = readSlices(data.textContent ?? '');
  if (!slices || slices.length === 0) {
    figure.dataset.state = slices ? 'empty' : 'error';
    const message = slices ? 'Nothing held yet.' : 'The allocation could not be read.';
    showMessage(figure, message);
    canvas.setAttribute('aria-label', message);
    canvas.hidden = true;
    return;
  }
  let chart: Chart<'doughnut', number[], string> | undefined;
  const draw = (animate: boolean) => {
    chart?.destroy();
    chart = new Chart(canvas, configure(canvas, slices, readTheme(figure), animate));
  };
  draw(true);
  canvas.setAttribute(
    'aria-label',
    'Allocation: ' + slices.map((slice) => `${slice.label} ${slice.share}%`).join(', ') + '.',
  );
  figure.dataset.state = 'ready';
  onColourSchemeChange(() => draw(false));
}
