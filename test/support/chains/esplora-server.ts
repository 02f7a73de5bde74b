import { ExchangeState, faultReply, serve, type FaultKind } from '../exchanges/common.ts';

// A local stand-in for an Esplora REST API (Blockstream's): GET /address/:address answers
// chain and mempool statistics, the confirmed balance being funded_txo_sum − spent_txo_sum.

export async function startFakeEsplora() {
  const balances = new Map<string, bigint>();
  // Request counting and fault injection shared with the exchange stand-ins.
  const state = new ExchangeState({});
  const running = await serve((_request, url) => {
    const fault = state.admit(url.pathname, undefined);
    if (fault) return faultReply(fault, 'Too Many Requests', 'Too Many Requests');
    if (url.pathname === '/blocks/tip/height') return { status: 200, body: 870_000 };
    const match = /^\/address\/([A-Za-z0-9]+)$/.exec(url.pathname);
    if (!match?.[1]) return { status: 404, body: null, raw: 'Not Found' };
    const sats = balances.get(match[1]) ?? 0n;
    // Modelled as one funding output, plus one spend when the balance went down before.
    const funded = sats;
    return {
      status: 200,
      body: {
        address: match[1],
        chain_stats: {
          funded_txo_count: sats > 0n ? 1 : 0,
          funded_txo_sum: Number(funded),
          spent_txo_count: 0,
          spent_txo_sum: 0,
          tx_count: sats > 0n ? 1 : 0,
        },
        mempool_stats: {
          funded_txo_count: 0,
          funded_txo_sum: 0,
          spent_txo_count: 0,
          spent_txo_sum: 0,
          tx_count: 0,
        },
      },
    };
  });
  return {
    url: running.url,
    close: running.close,
    get stats() {
      return state.stats;
    },
    setBalance: (address: string, sats: bigint) => balances.set(address, sats),
    fail: (rule: { kind: FaultKind; times?: number }) => state.fail(rule),
  };
}
