import { createHash } from 'node:crypto';
import { bech32, bech32m, createBase58check } from '@scure/base';
import {
  ExchangeState,
  faultReply,
  serve,
  type FaultKind,
  type Reply,
} from '../exchanges/common.ts';

// A local stand-in for an Esplora REST API (Blockstream's electrs): GET /address/:address answers
// the address's chain and mempool statistics, its confirmed balance being
// chain_stats.funded_txo_sum − chain_stats.spent_txo_sum; GET /blocks/tip/height answers the tip.
// Balances are kept as a history of outputs received and spent, so the sums stay consistent
// as a real address's would (spent ≤ funded, counts only grow).

/** Bitcoin's supply cap in sats: no address holds more. */
const MAX_SATS = 2_100_000_000_000_000n;

interface TxoStats {
  funded_txo_count: number;
  funded_txo_sum: bigint;
  spent_txo_count: number;
  spent_txo_sum: bigint;
  tx_count: number;
}

interface Ledger {
  chain: TxoStats;
  /** Confirmed outputs not spent yet. */
  unspent: number;
  mempool: TxoStats;
}

export interface EsploraOptions {
  /** Delay before every answer. */
  latencyMs?: number;
}

export type FakeEsplora = Awaited<ReturnType<typeof startFakeEsplora>>;

export async function startFakeEsplora(options: EsploraOptions = {}) {
  const ledgers = new Map<string, Ledger>();
  let tipHeight = 870_000;
  // Request counting and fault injection, shared with the exchange stand-ins.
  const state = new ExchangeState({});

  const running = await serve((request, url) => {
    const fault = state.admit(url.pathname, undefined);
    if (fault && fault.kind !== 'malformedJson') {
      return faultReply(fault, 'Too Many Requests', 'Forbidden');
    }
    const reply = route(request.method, url.pathname);
    if (fault && reply.status === 200) {
      // The real answer cut short, as from a connection dropped mid-body.
      const text = reply.raw ?? JSON.stringify(reply.body);
      return { ...reply, raw: text.slice(0, Math.ceil(text.length / 2)) };
    }
    return reply;
  }, options.latencyMs);

  function route(method: string | undefined, path: string): Reply {
    if (method !== 'GET') return text(404, 'Not Found');
    if (path === '/blocks/tip/height') return text(200, String(tipHeight));
    const match = /^\/address\/([^/]+)$/.exec(path);
    if (!match?.[1]) return text(404, 'Not Found');
    const address = decodeURIComponent(match[1]);
    const network = addressNetwork(address);
    // electrs answers 400 with the address parser's message; this one stands for all of them.
    if (!network) return text(400, 'Invalid Bitcoin address');
    if (network !== 'mainnet') return text(400, 'Address on invalid network');
    // An unused address is no error: all its statistics are zero.
    const ledger = ledgers.get(key(address)) ?? emptyLedger();
    return {
      status: 200,
      body: null,
      raw: json({ address, chain_stats: ledger.chain, mempool_stats: ledger.mempool }),
    };
  }

  const ledgerOf = (address: string): Ledger => {
    if (addressNetwork(address) !== 'mainnet') {
      throw new Error(`not a mainnet Bitcoin address: ${address}`);
    }
    let ledger = ledgers.get(key(address));
    if (!ledger) ledgers.set(key(address), (ledger = emptyLedger()));
    return ledger;
  };

  return {
    url: running.url,
    close: running.close,
    /** Requests seen: total and by path (faulted ones included). */
    get stats() {
      return state.stats;
    },
    resetStats: () => state.resetStats(),
    /**
     * Sets the confirmed balance. More than before is one transaction paying the difference to
     * the address; less is one spending all its outputs with the new balance as change.
     */
    setBalance(address: string, sats: bigint): void {
      checkSats(sats);
      const ledger = ledgerOf(address);
      const current = ledger.chain.funded_txo_sum - ledger.chain.spent_txo_sum;
      if (sats === current) return;
      const chain = ledger.chain;
      chain.tx_count += 1;
      if (sats > current) {
        chain.funded_txo_count += 1;
        chain.funded_txo_sum += sats - current;
        ledger.unspent += 1;
        return;
      }
      chain.spent_txo_count += ledger.unspent;
      chain.spent_txo_sum += current;
      ledger.unspent = 0;
      if (sats > 0n) {
        chain.funded_txo_count += 1;
        chain.funded_txo_sum += sats;
        ledger.unspent = 1;
      }
    },
    /**
     * One unconfirmed transaction (replacing any earlier one): a positive amount pays the address,
     * a negative one spends all its confirmed outputs, returning the rest as change; 0 clears it.
     * The confirmed balance does not change.
     */
    setUnconfirmed(address: string, deltaSats: bigint): void {
      const ledger = ledgerOf(address);
      const mempool = emptyStats();
      if (deltaSats > 0n) {
        checkSats(deltaSats);
        Object.assign(mempool, { funded_txo_count: 1, funded_txo_sum: deltaSats, tx_count: 1 });
      } else if (deltaSats < 0n) {
        const confirmed = ledger.chain.funded_txo_sum - ledger.chain.spent_txo_sum;
        if (-deltaSats > confirmed) throw new Error(`${address} holds only ${confirmed} sats`);
        const change = confirmed + deltaSats;
        Object.assign(mempool, {
          spent_txo_count: ledger.unspent,
          spent_txo_sum: confirmed,
          funded_txo_count: change > 0n ? 1 : 0,
          funded_txo_sum: change,
          tx_count: 1,
        });
      }
      ledger.mempool = mempool;
    },
    setTipHeight(height: number): void {
      tipHeight = height;
    },
    /**
     * The next `times` requests (default 1; Infinity: until replaced; 0 removes the rule), or
     * those under `path`, fail: 'timeout' never answers, 'status500' / 'status502' are server
     * errors, 'rateLimit429' is Too Many Requests, 'malformedJson' cuts the real answer in half.
     */
    fail(rule: { kind: FaultKind; times?: number; path?: string }): void {
      state.fail(rule);
    },
  };
}

const emptyStats = (): TxoStats => ({
  funded_txo_count: 0,
  funded_txo_sum: 0n,
  spent_txo_count: 0,
  spent_txo_sum: 0n,
  tx_count: 0,
});

const emptyLedger = (): Ledger => ({ chain: emptyStats(), unspent: 0, mempool: emptyStats() });

function checkSats(sats: bigint): void {
  if (sats < 0n || sats > MAX_SATS) throw new Error(`not an amount of sats: ${sats}`);
}

/** Bech32 addresses are case-insensitive; base58 ones are not. */
const key = (address: string) => (/^(bc|tb)1/i.test(address) ? address.toLowerCase() : address);

const text = (status: number, body: string): Reply => ({
  status,
  body: null,
  raw: body,
  headers: { 'content-type': 'text/plain' },
});

/** JSON with bigints written as plain numbers, exactly (electrs writes u64). */
function json(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'bigint' ? `\u0000${v}\u0000` : v,
  ).replace(/"\\u0000(\d+)\\u0000"/g, '$1');
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();
const base58check = createBase58check(sha256);
const BASE58_VERSIONS: Record<number, 'mainnet' | 'testnet'> = {
  0x00: 'mainnet', // P2PKH, 1…
  0x05: 'mainnet', // P2SH, 3…
  0x6f: 'testnet', // P2PKH, m… / n…
  0xc4: 'testnet', // P2SH, 2…
};

/** The network of a valid Bitcoin address (checksum included), or undefined. */
function addressNetwork(address: string): 'mainnet' | 'testnet' | undefined {
  if (/^(bc|tb)1/i.test(address)) {
    if (address !== address.toLowerCase() && address !== address.toUpperCase()) return undefined;
    const lower = address.toLowerCase();
    for (const coder of [bech32, bech32m]) {
      const decoded = coder.decodeUnsafe(lower, 90);
      if (!decoded) continue;
      const [version, ...words] = decoded.words;
      // BIP 350: witness version 0 is bech32, versions 1 to 16 are bech32m.
      if (version === undefined || version > 16 || (version === 0) !== (coder === bech32)) {
        return undefined;
      }
      const program = coder.fromWordsUnsafe(words);
      if (!program || program.length < 2 || program.length > 40) return undefined;
      if (version === 0 && program.length !== 20 && program.length !== 32) return undefined;
      return decoded.prefix === 'bc' ? 'mainnet' : 'testnet';
    }
    return undefined;
  }
  let payload: Uint8Array;
  try {
    payload = base58check.decode(address);
  } catch {
    return undefined;
  }
  return payload.length === 21 ? BASE58_VERSIONS[payload[0] ?? -1] : undefined;
}
