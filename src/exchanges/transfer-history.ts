import type { Transaction } from 'ccxt';
import type { TransferHistoryRead, TransferPages } from '../markets/index.ts';

/**
 * One call of a history (ccxt's `since`, `limit`, `params`), made by the caller on a keyed client
 * with its retries and limits: each page is one such call.
 */
export type HistoryCall = (
  since: number | undefined,
  limit: number | undefined,
  params: Record<string, unknown>,
) => Promise<Transaction[]>;

/**
 * ccxt parses some exchanges' times to the second (Binance's withdrawal `applyTime`) while the
 * exchange filters on its own finer time: the next page overlaps the previous by this much, and
 * rows seen twice are dropped.
 */
const PAGE_OVERLAP_MS = 1000;

/**
 * Every row of one history from `start` (ms; undefined: as far as the exchange goes without
 * one) to now, paged as the catalog says. A page ends the read only when it brings no row not
 * seen before — never because it is short, since an exchange may cap pages below its documented
 * size. (Caveat: more rows than a page within one overlap of time would end the read early.)
 */
export async function readHistory(
  call: HistoryCall,
  history: TransferHistoryRead,
  start: number | undefined,
  now: number,
): Promise<Transaction[]> {
  const params = { ...history.params };
  const pages = history.pages;
  if (!pages) return call(start, undefined, params);
  if (pages.style === 'ccxt') return call(start, undefined, { ...params, paginate: true });
  const seen = new Map<string, Transaction>();
  if (pages.style === 'since') {
    await pageForward(call, pages.size, params, start, seen);
  } else if (pages.style === 'cursor') {
    await pageByCursor(call, pages, params, start, seen);
  } else {
    for (const [from, to] of windows(pages, start, now)) {
      await pageBackward(call, pages, params, from, to, seen);
    }
  }
  return [...seen.values()];
}

/** Newest first within `[from, to]`: each next page ends at the previous page's oldest row. */
async function pageBackward(
  call: HistoryCall,
  pages: Extract<TransferPages, { style: 'until' }>,
  params: Record<string, unknown>,
  from: number | undefined,
  to: number | undefined,
  seen: Map<string, Transaction>,
): Promise<void> {
  const untilParam = pages.untilParam ?? 'until';
  let until = to;
  for (;;) {
    const rows = await call(
      from,
      pages.size,
      until === undefined ? params : { ...params, [untilParam]: until },
    );
    if (!keepNew(rows, seen)) return;
    const oldest = Math.min(...rows.map((row) => row.timestamp ?? Infinity));
    if (!Number.isFinite(oldest) || (from !== undefined && oldest < from)) return;
    // An exclusive end (OKX's `after`) must lie past the oldest row to include its twins.
    until = oldest + PAGE_OVERLAP_MS + (pages.untilInclusive ? 0 : 1);
  }
}

/** Oldest first from `start`: each next page starts at the previous page's newest row. */
async function pageForward(
  call: HistoryCall,
  size: number,
  params: Record<string, unknown>,
  start: number | undefined,
  seen: Map<string, Transaction>,
): Promise<void> {
  let since = start;
  for (;;) {
    const rows = await call(since, size, params);
    if (!keepNew(rows, seen)) return;
    const newest = Math.max(...rows.map((row) => row.timestamp ?? -Infinity));
    if (!Number.isFinite(newest)) return;
    since = Math.max(0, newest - PAGE_OVERLAP_MS);
  }
}

/**
 * Newest first with no time filter: each next page starts after the previous page's last row,
 * until a page reaches back past `start` or brings nothing new. `since` is not passed: ccxt would
 * drop the older rows that tell the read it has reached the cursor.
 */
async function pageByCursor(
  call: HistoryCall,
  pages: Extract<TransferPages, { style: 'cursor' }>,
  params: Record<string, unknown>,
  start: number | undefined,
  seen: Map<string, Transaction>,
): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const rows = await call(
      undefined,
      pages.size,
      after === undefined ? params : { ...params, [pages.param]: after },
    );
    if (!keepNew(rows, seen)) return;
    const last = rows.at(-1);
    const oldest = Math.min(...rows.map((row) => row.timestamp ?? Infinity));
    if (last?.id == null || (start !== undefined && oldest < start)) return;
    after = last.id;
  }
}

/** The spans one call may cover, from `start` to `now`; one open span when there is no limit. */
function windows(
  pages: Extract<TransferPages, { style: 'until' }>,
  start: number | undefined,
  now: number,
): Array<[number | undefined, number | undefined]> {
  const width = pages.windowMs;
  if (width === undefined) return [[start, undefined]];
  const spans: Array<[number, number]> = [];
  // Without a cursor, the exchange's own default: the latest window.
  for (let from = start ?? now - width + 1; from <= now; from += width) {
    spans.push([from, Math.min(from + width - 1, now)]);
  }
  return spans;
}

/** Adds the rows not seen yet; whether there was any. */
function keepNew(rows: readonly Transaction[], seen: Map<string, Transaction>): boolean {
  let added = false;
  for (const row of rows) {
    const key = rowKey(row);
    if (seen.has(key)) continue;
    seen.set(key, row);
    added = true;
  }
  return added;
}

function rowKey(row: Transaction): string {
  const id = row.id ?? row.txid ?? `${row.timestamp}:${row.amount}`;
  return `${row.type}:${row.currency}:${id}`;
}
