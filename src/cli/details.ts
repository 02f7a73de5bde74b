import type { AccountDetails } from '../accounts/details.ts';
import type { SyncOutcome } from '../sync/account-sync.ts';

export interface SyncResult {
  outcome: SyncOutcome;
  details: AccountDetails;
}

const when = (value: Date | string | null) =>
  value === null ? 'never' : new Date(value).toISOString();

export function syncLine(outcome: SyncOutcome): string {
  switch (outcome.status) {
    case 'synced':
      return `synced at ${when(outcome.at)}`;
    case 'failed':
      return `sync failed (${outcome.kind}): ${outcome.error}`;
    case 'lost':
      return 'another worker is syncing this account; try again shortly';
    case 'aborted':
      return 'sync stopped (shutting down); nothing was changed';
  }
}

/** `account show`: health first, then the latest snapshot, one asset per line. */
export function detailLines(d: AccountDetails): string[] {
  const state = d.api_key_invalid
    ? `API key refused by the exchange (locked: ${d.lock_reason ?? 'yes'}); update it with \`account keys\``
    : d.live
      ? 'live'
      : 'manual (not synced)';
  const lines = [
    `account ${d.account_id} "${d.name}" on ${d.market_code}: ${state}`,
    `  last sync:  ${when(d.last_sync_at)}`,
    `  next sync:  ${d.next_sync_at ? when(d.next_sync_at) : 'not scheduled'}`,
    `  last error: ${d.last_sync_error ? `${d.last_sync_error} (${when(d.last_error_at)})` : 'none'}`,
  ];
  if (d.api_keys_expire_at) lines.push(`  key expires: ${when(d.api_keys_expire_at)}`);
  if (!d.snapshot) return [...lines, '  no balances yet'];
  lines.push(
    `  balances at ${when(d.snapshot.taken_at)}: ${d.snapshot.usd_value} USD (BTC/USD ${d.snapshot.btc_usd_price})`,
  );
  for (const h of d.holdings) {
    const value =
      h.usd_price === null
        ? 'no price (left out of the value)'
        : `${h.usd_value} USD @ ${h.usd_price}`;
    lines.push(`    ${h.asset.padEnd(8)} ${h.amount.padStart(24)}  ${value}${walletsNote(h)}`);
  }
  return lines;
}

/** Where an exchange account held the asset: "  (spot 0.5, funding 0.25)"; nothing for an address. */
function walletsNote(h: AccountDetails['holdings'][number]): string {
  if (h.wallets.length === 0) return '';
  return `  (${h.wallets.map((share) => `${share.wallet} ${share.amount}`).join(', ')})`;
}
