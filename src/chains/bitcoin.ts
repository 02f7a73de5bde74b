import { SourceError } from '../exchanges/failures.ts';
import type { Holdings } from '../sources/types.ts';
import { Dec } from '../valuation/index.ts';

const SATS_PER_BTC = 100_000_000;

interface EsploraStats {
  funded_txo_sum: number;
  spent_txo_sum: number;
}

/** Reads a Bitcoin address's confirmed balance from an Esplora REST API (Blockstream's API). */
export class BitcoinReader {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async fetchHoldings(address: string): Promise<Holdings> {
    const url = `${this.baseUrl}/address/${encodeURIComponent(address)}`;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new SourceError('unavailable', `esplora: ${(error as Error).message}`);
    }
    if (response.status === 429) throw new SourceError('rate_limited', 'esplora: 429');
    if (!response.ok) throw new SourceError('unavailable', `esplora: HTTP ${response.status}`);
    let stats: EsploraStats;
    try {
      const body = (await response.json()) as { chain_stats?: EsploraStats };
      if (!body.chain_stats) throw new Error('no chain_stats');
      stats = body.chain_stats;
    } catch (error) {
      throw new SourceError(
        'unavailable',
        `esplora: unreadable answer (${(error as Error).message})`,
      );
    }
    // Satoshi sums are integers well inside 2^53 (21e14 sats in all).
    const sats = BigInt(stats.funded_txo_sum) - BigInt(stats.spent_txo_sum);
    const holdings: Holdings = new Map();
    if (sats > 0n) holdings.set('BTC', new Dec(sats.toString()).div(SATS_PER_BTC).toFixed());
    return holdings;
  }
}
