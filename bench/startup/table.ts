// Each figure as a median with its spread (min–max) beside its target, PASS or FAIL, in a
// markdown table ready for the README.

export interface Figure {
  what: string;
  unit: 's' | 'MB';
  /** One value per run (seconds, or bytes for MB). */
  values: number[];
  /** The target: the median must be at most this (seconds, or bytes for MB). */
  limit: number;
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
};

/** MB as the targets say it: 10^6 bytes. */
const show = (unit: Figure['unit'], value: number) =>
  unit === 's' ? value.toFixed(2) : (value / 1e6).toFixed(0);

export function verdict(figure: Figure): 'PASS' | 'FAIL' {
  return figure.values.length > 0 && median(figure.values) <= figure.limit ? 'PASS' : 'FAIL';
}

export function formatTable(figures: Figure[]): string {
  const rows = [['what', 'median (min–max)', 'runs', 'target', '']];
  for (const figure of figures) {
    const { unit, values } = figure;
    rows.push([
      figure.what,
      values.length === 0
        ? 'not measured'
        : `${show(unit, median(values))} ${unit} (${show(unit, Math.min(...values))}–${show(unit, Math.max(...values))})`,
      String(values.length),
      `≤ ${unit === 's' ? figure.limit : figure.limit / 1e6} ${unit}`,
      verdict(figure),
    ]);
  }
  const widths =
    rows[0]?.map((_, i) => Math.max(...rows.map((row) => [...(row[i] ?? '')].length))) ?? [];
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell + ' '.repeat((widths[i] ?? 0) - [...cell].length)).join(' | ')} |`;
  const [head, ...body] = rows;
  return [
    line(head ?? []),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}
