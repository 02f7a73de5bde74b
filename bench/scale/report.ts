// The side-by-side table of `npm run bench:scale`: each figure at the small and the large size,
// their ratio, and the verdict against its target.

export interface Row {
  what: string;
  small: string;
  large: string;
  ratio: string;
  target: string;
  verdict: '' | 'PASS' | 'FAIL';
}

export const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : '–');
export const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');
/** `median (lowest–highest)` of several runs, each formatted by `unit` (the median's in full). */
export function spread(values: number[], format: (value: number) => string, digits = 1): string {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return '–';
  const mid = finite.length / 2;
  const median =
    finite.length % 2 === 1
      ? (finite[Math.floor(mid)] ?? NaN)
      : ((finite[mid - 1] ?? NaN) + (finite[mid] ?? NaN)) / 2;
  if (finite.length === 1) return format(median);
  const low = finite[0]?.toFixed(digits);
  const high = finite.at(-1)?.toFixed(digits);
  return `${format(median)} (${low}–${high})`;
}

export const judge = (ok: boolean): Row['verdict'] => (ok ? 'PASS' : 'FAIL');

export function formatRows(header: Omit<Row, 'verdict'>, rows: Row[]): string {
  const cells = [
    [header.what, header.small, header.large, header.ratio, header.target, ''],
    ...rows.map((row) => [row.what, row.small, row.large, row.ratio, row.target, row.verdict]),
  ];
  const widths = cells[0]?.map((_, i) =>
    Math.max(...cells.map((row) => [...(row[i] ?? '')].length)),
  );
  const line = (row: string[]) =>
    `| ${row.map((cell, i) => cell + ' '.repeat((widths?.[i] ?? 0) - [...cell].length)).join(' | ')} |`;
  const [head, ...body] = cells;
  return [
    line(head ?? []),
    `|${(widths ?? []).map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}
