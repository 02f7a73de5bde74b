import type { Exchange } from 'ccxt';
import type { ImplicitWalletRead } from '../markets/index.ts';
import type { Holdings } from '../sources/types.ts';
import { Dec } from '../valuation/index.ts';
import { SourceError } from './failures.ts';

/** A bound on pages, so an answer whose `total` never stops growing cannot loop forever. */
const MAX_PAGES = 100;

/**
 * A wallet ccxt's `fetchBalance` does not name, read with one of ccxt's implicit-API methods as
 * the catalog describes it (the method, where its rows are, their asset and amount fields, how
 * it is paged). Several rows of one asset (locked positions of one coin) are summed in decimal.
 */
export async function readImplicitWallet(
  client: Exchange,
  read: ImplicitWalletRead,
  params: Readonly<Record<string, unknown>>,
): Promise<Holdings> {
  const call = (client as unknown as Record<string, unknown>)[read.method];
  if (typeof call !== 'function') {
    throw new SourceError('error', `${client.id}: no implicit API method ${read.method}`);
  }
  const sums = new Map<string, Dec>();
  const pages = read.pages;
  let seen = 0;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const paging = pages
      ? { [pages.param]: pages.first + page, [pages.sizeParam]: pages.size }
      : {};
    const answer: unknown = await call.call(client, { ...params, ...paging });
    const rows = rowsOf(client, answer, read.rows);
    for (const row of rows) addRow(client, sums, row, read);
    seen += rows.length;
    if (!pages) break;
    const total = Number((answer as Record<string, unknown>)[pages.total]);
    // Stop at the stated total, or at a short page when the answer states none.
    if (Number.isFinite(total) ? seen >= total : rows.length < pages.size) break;
    if (rows.length === 0) break; // an empty page: nothing more is coming, whatever total says
  }
  const holdings: Holdings = new Map();
  for (const [asset, sum] of sums) if (!sum.isZero()) holdings.set(asset, sum.toFixed());
  return holdings;
}

/** The answer's rows; an answer without them is unreadable, not an empty wallet. */
function rowsOf(client: Exchange, answer: unknown, field: string): Record<string, unknown>[] {
  const rows =
    answer !== null && typeof answer === 'object'
      ? (answer as Record<string, unknown>)[field]
      : undefined;
  if (!Array.isArray(rows)) {
    throw new SourceError('unavailable', `${client.id}: unreadable wallet answer (no ${field})`);
  }
  return rows.filter(
    (row): row is Record<string, unknown> => row !== null && typeof row === 'object',
  );
}

function addRow(
  client: Exchange,
  sums: Map<string, Dec>,
  row: Record<string, unknown>,
  read: ImplicitWalletRead,
): void {
  const id = row[read.asset];
  const amount = row[read.amount];
  if (typeof id !== 'string' || (typeof amount !== 'string' && typeof amount !== 'number')) return;
  let value: Dec;
  try {
    value = new Dec(amount);
  } catch {
    return; // not a number: skipped like ccxt skips what it cannot parse
  }
  if (!value.isFinite() || value.isNegative()) return;
  // The exchange's currency id as ccxt's unified code, as `fetchBalance` reports assets.
  const asset = client.safeCurrencyCode(id) ?? id;
  sums.set(asset, (sums.get(asset) ?? new Dec(0)).plus(value));
}
