// Chart colours come from the page's CSS (custom properties on :root), so the stylesheet alone
// decides light and dark; these fallbacks only matter when a property is unset.

export interface Theme {
  /** --chart-1 … --chart-8: the doughnut's slices, in order. */
  series: string[];
  line: string;
  deposit: string;
  withdrawal: string;
  text: string;
  muted: string;
  grid: string;
  /** The colour behind the charts, to separate the doughnut's slices. */
  surface: string;
  font: string;
}

const SERIES_FALLBACK = [
  '#2563eb',
  '#f59e0b',
  '#10b981',
  '#ef4444',
  '#8b5cf6',
  '#06b6d4',
  '#ec4899',
  '#84cc16',
];

function property(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

/** The first opaque background from `element` up, or white. */
function surfaceBehind(element: Element | null): string {
  for (let node = element; node; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour && colour !== 'transparent' && colour !== 'rgba(0, 0, 0, 0)') return colour;
  }
  return '#ffffff';
}

/** The colours as the page's CSS has them now (read again after a colour-scheme change). */
export function readTheme(element: Element): Theme {
  const style = getComputedStyle(document.documentElement);
  return {
    series: SERIES_FALLBACK.map((fallback, index) =>
      property(style, `--chart-${index + 1}`, fallback),
    ),
    line: property(style, '--chart-line', '#2563eb'),
    deposit: property(style, '--chart-deposit', '#16a34a'),
    withdrawal: property(style, '--chart-withdrawal', '#dc2626'),
    text: property(style, '--text', '#1f2937'),
    muted: property(style, '--muted', '#6b7280'),
    grid: property(style, '--grid', 'rgba(127, 127, 127, 0.2)'),
    surface: surfaceBehind(element),
    font: getComputedStyle(element).fontFamily || 'system-ui, sans-serif',
  };
}

/** Calls `redraw` whenever the user's light/dark preference changes. */
export function onColourSchemeChange(redraw: () => void): void {
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', redraw);
}

/** Users who asked for less motion get charts without animation. */
export const reducedMotion = (): boolean => matchMedia('(prefers-reduced-motion: reduce)').matches;
