// Chart.js, tree-shaken: only what the two charts draw is registered (and so bundled).
import {
  ArcElement,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';

Chart.register(
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  DoughnutController,
  ArcElement,
  Tooltip,
  Legend,
);

export { Chart };

/**
 * Options that give the chart the aspect ratio `ratioFor` picks for its container's width, at
 * first and after every resize (Chart.js's responsive mode follows the container's width).
 */
export function fitTo(
  canvas: HTMLCanvasElement,
  ratioFor: (width: number) => number,
  adapt?: (chart: Chart, width: number) => void,
): { aspectRatio: number; onResize: (chart: Chart, size: { width: number }) => void } {
  return {
    aspectRatio: ratioFor(canvas.parentElement?.clientWidth ?? 0),
    onResize: (chart, { width }) => {
      const ratio = ratioFor(width);
      adapt?.(chart, width);
      if (chart.options.aspectRatio === ratio) return;
      chart.options.aspectRatio = ratio;
      chart.resize();
    },
  };
}

/** The figure's message (empty or failed), made on first use; cleared with `undefined`. */
export function showMessage(figure: HTMLElement, text: string | undefined): void {
  let message = figure.querySelector<HTMLElement>(':scope > .chart-message');
  if (!message && text === undefined) return;
  if (!message) {
    message = document.createElement('p');
    message.className = 'chart-message';
    // Announced when it changes; not role="status", which the page keeps for its own notices.
    message.setAttribute('aria-live', 'polite');
    figure.insertBefore(message, figure.querySelector(':scope > figcaption'));
  }
  message.textContent = text ?? '';
  message.hidden = text === undefined;
}
