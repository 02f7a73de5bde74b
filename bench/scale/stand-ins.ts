// Every market of the scale template on a local stand-in speaking its real wire format (the test
// suite's servers, unchanged): the nine exchanges, an Ethereum node (Hardhat) behind a counting
// proxy, and an Esplora server for Bitcoin. Sampled accounts are registered on them with the keys
// their rows hold, so `opencommas worker` reads them as it would the real services.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bech32 } from '@scure/base';
import { createHash } from 'node:crypto';
import { startEvmNode, type EvmNode } from '../../test/support/chains/evm-node.ts';
import { startFakeEsplora } from '../../test/support/chains/esplora-server.ts';
import { startFakeBinance } from '../../test/support/exchanges/binance-server.ts';
import { startFakeBitfinex } from '../../test/support/exchanges/bitfinex-server.ts';
import { startFakeBybit } from '../../test/support/exchanges/bybit-server.ts';
import { startFakeCoinbase } from '../../test/support/exchanges/coinbase-server.ts';
import { startFakeGate } from '../../test/support/exchanges/gate-server.ts';
import { startFakeKraken } from '../../test/support/exchanges/kraken-server.ts';
import { startFakeKucoin } from '../../test/support/exchanges/kucoin-server.ts';
import { startFakeOkx } from '../../test/support/exchanges/okx-server.ts';

/** What every stand-in handle shares: its origin, its request counters, and a way to stop. */
interface ExchangeStandIn {
  url: string;
  stats: { total: number };
  resetStats(): void;
  setPrice(symbol: string, last: string): void;
  addAccount(
    apiKey: string,
    account: {
      secret: string;
      passphrase?: string;
      balances?: Record<string, { free: string; locked?: string }>;
    },
  ): void;
  close(): Promise<void>;
}

const STARTERS: Record<string, () => Promise<ExchangeStandIn>> = {
  binance: () => startFakeBinance(),
  // ccxt's binanceus asks for exactly Binance's paths (test/exchanges/binance-us-server.test.ts).
  binance_us: () => startFakeBinance(),
  okex: () => startFakeOkx(),
  bybit_spot: () => startFakeBybit(),
  kucoin: () => startFakeKucoin(),
  kraken: () => startFakeKraken(),
  coinbase: () => startFakeCoinbase(),
  gate_io: () => startFakeGate(),
  bitfinex: () => startFakeBitfinex(),
};

/** Listed on every exchange, USDT- and USD-quoted, so every balance below has a price. */
const PRICES: Record<string, string> = {
  'BTC/USDT': '60000',
  'ETH/USDT': '3000',
  'ETH/BTC': '0.05',
  'BTC/USD': '60000',
  'ETH/USD': '3000',
  'USDT/USD': '1',
};

/** A sampled account, as the worker will read it. */
export interface SampledAccount {
  id: number;
  market: string;
  apiKey: string | null;
  /** The secret and passphrase in clear (the row holds them sealed). */
  secret: string | null;
  passphrase: string | null;
  address: string | null;
}

export interface StandIns {
  markets: string[];
  /** OPENCOMMAS_* settings pointing a worker at the stand-ins. */
  env: Record<string, string>;
  register(account: SampledAccount): Promise<void>;
  /** HTTP requests answered since the last reset, every stand-in together. */
  requests(): number;
  resetStats(): void;
  close(): Promise<void>;
}

/** The stand-ins of `markets` (exchange codes, `ethereumwallet`, `bitcoinwallet`). */
export async function startStandIns(markets: string[]): Promise<StandIns> {
  const exchanges = new Map<string, ExchangeStandIn>();
  await Promise.all(
    markets
      .filter((market) => STARTERS[market])
      .map(async (market) => {
        const standIn = await STARTERS[market]!();
        for (const [symbol, last] of Object.entries(PRICES)) standIn.setPrice(symbol, last);
        exchanges.set(market, standIn);
      }),
  );
  const esplora = markets.includes('bitcoinwallet') ? await startFakeEsplora() : undefined;
  const evm = markets.includes('ethereumwallet') ? await startCountedEvmNode() : undefined;
  const urls = Object.fromEntries([...exchanges].map(([market, s]) => [market, s.url]));
  const env: Record<string, string> = {
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify(urls),
    // The stand-ins set no limits: no per-IP budget to honour here.
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify(
      Object.fromEntries([...exchanges.keys()].map((market) => [market, 0])),
    ),
    ...(esplora ? { OPENCOMMAS_BTC_ESPLORA_URL: esplora.url } : {}),
    ...(evm ? { OPENCOMMAS_ETH_RPC_URL: evm.url } : {}),
  };
  return {
    markets: [
      ...exchanges.keys(),
      ...(esplora ? ['bitcoinwallet'] : []),
      ...(evm ? ['ethereumwallet'] : []),
    ],
    env,
    async register(account) {
      if (account.market === 'bitcoinwallet') {
        esplora?.setBalance(account.address ?? '', BigInt(1_000_000 + account.id));
      } else if (account.market === 'ethereumwallet') {
        await evm?.node.setEthBalance(account.address ?? '', 10n ** 17n + BigInt(account.id));
      } else {
        exchanges.get(account.market)?.addAccount(account.apiKey ?? '', {
          secret: account.secret ?? '',
          ...(account.passphrase ? { passphrase: account.passphrase } : {}),
          balances: {
            BTC: { free: `0.0${(account.id % 89) + 10}` },
            ETH: { free: '0.5', locked: '0.1' },
            USDT: { free: String(100 + (account.id % 900)) },
          },
        });
      }
    },
    requests: () =>
      [...exchanges.values()].reduce((sum, s) => sum + s.stats.total, 0) +
      (esplora?.stats.total ?? 0) +
      (evm?.requests() ?? 0),
    resetStats() {
      for (const standIn of exchanges.values()) standIn.resetStats();
      esplora?.resetStats();
      evm?.resetStats();
    },
    async close() {
      await Promise.all([
        ...[...exchanges.values()].map((s) => s.close()),
        esplora?.close(),
        evm?.close(),
      ]);
    },
  };
}

/** A valid mainnet P2WPKH address (bech32, checksum included) derived from `seed`. */
export function bitcoinAddress(seed: string): string {
  const program = createHash('sha256').update(seed).digest().subarray(0, 20);
  return bech32.encode('bc', [0, ...bech32.toWords(program)]);
}

/**
 * The Hardhat node behind a proxy that counts the JSON-RPC requests it forwards: the node has no
 * counters of its own, and the figure is the worker's requests, whatever viem batches.
 */
async function startCountedEvmNode() {
  const node: EvmNode = await startEvmNode();
  await node.installMulticall3();
  const target = new URL(node.url);
  let count = 0;
  const proxy = http.createServer((request, response) => {
    count += 1;
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: request.url,
        method: request.method,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  proxy.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    node,
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    resetStats: () => void (count = 0),
    close: async () => {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await node.close();
    },
  };
}
