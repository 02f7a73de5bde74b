import {
  createPublicClient,
  erc20Abi,
  formatUnits,
  http,
  parseAbi,
  type Address,
  type ContractFunctionParameters,
} from 'viem';
import { mainnet } from 'viem/chains';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeEsplora, type FakeEsplora } from '../support/chains/esplora-server.ts';
import { MULTICALL3, startEvmNode, type EvmNode } from '../support/chains/evm-node.ts';

// The chain stand-ins themselves, read with viem as the product reads mainnet: Multicall3 at its
// canonical address, our ERC-20 at the tokens' mainnet addresses, one eth_call per wallet.

const WALLET: Address = '0x8ba1f109551bD432803012645Ac136ddd64DBA72';
const TOKENS = [
  { symbol: 'USDT', address: '0xdAC17F958D2ee523a2206206994597C13D831ec7', decimals: 6 },
  { symbol: 'USDC', address: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', decimals: 6 },
  { symbol: 'DAI', address: '0x6B175474E89094C44Da98b954EedeAC495271d0F', decimals: 18 },
  { symbol: 'WBTC', address: '0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599', decimals: 8 },
] as const;
/** No code there. */
const NOT_A_TOKEN: Address = '0x1111111111111111111111111111111111111111';
const multicall3 = parseAbi(['function getEthBalance(address) view returns (uint256)']);

let node: EvmNode;
/** JSON-RPC methods the node was sent through `client`, in order. */
const methods: string[] = [];
let client: ReturnType<typeof publicClient>;

function publicClient(url: string) {
  return createPublicClient({
    chain: mainnet,
    transport: http(url, {
      retryCount: 0,
      onFetchRequest: (_request, init) => {
        const body = JSON.parse(String(init.body)) as { method: string } | { method: string }[];
        for (const call of Array.isArray(body) ? body : [body]) methods.push(call.method);
      },
    }),
  });
}

beforeAll(async () => {
  node = await startEvmNode();
  await node.installMulticall3();
  for (const token of TOKENS) await node.installToken(token);
  await node.setEthBalance(WALLET, 1_500_000_000_000_000_000n); // 1.5 ETH
  await node.setTokenBalance(TOKENS[0].address, WALLET, 12_345_678n); // 12.345678 USDT
  await node.setTokenBalance(TOKENS[1].address, WALLET, 7_000_000n); // 7 USDC
  await node.setTokenBalance(TOKENS[2].address, WALLET, 10n ** 15n); // 0.001 DAI
  await node.setTokenBalance(TOKENS[3].address, WALLET, 25_000_000n); // 0.25 WBTC
  client = publicClient(node.url);
}, 60_000);

afterAll(async () => {
  const url = node?.url;
  await node?.close();
  await node?.close(); // twice is harmless
  if (url) await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
});

describe('the EVM node', () => {
  it('is chain 1 with a Multicall3-compatible contract at the canonical address', async () => {
    expect(await client.getChainId()).toBe(1);
    expect(await client.getCode({ address: MULTICALL3 })).toMatch(/^0x[0-9a-f]{100,}$/);
    await node.setEthBalance(NOT_A_TOKEN, 7n);
    expect(
      await client.readContract({
        address: MULTICALL3,
        abi: multicall3,
        functionName: 'getEthBalance',
        args: [NOT_A_TOKEN],
      }),
    ).toBe(7n);
  });

  it('answers ETH and token balances in one multicall, one eth_call', async () => {
    const contracts: ContractFunctionParameters[] = [
      {
        address: MULTICALL3,
        abi: multicall3,
        functionName: 'getEthBalance',
        args: [WALLET],
      },
      ...TOKENS.flatMap((token) => [
        { address: token.address, abi: erc20Abi, functionName: 'balanceOf', args: [WALLET] },
        { address: token.address, abi: erc20Abi, functionName: 'decimals' },
        { address: token.address, abi: erc20Abi, functionName: 'symbol' },
      ]),
      { address: NOT_A_TOKEN, abi: erc20Abi, functionName: 'balanceOf', args: [WALLET] },
    ];
    methods.length = 0;
    const results = await client.multicall({
      multicallAddress: MULTICALL3,
      allowFailure: true,
      contracts,
    });
    expect(methods).toEqual(['eth_call']);

    const [eth, ...rest] = results;
    expect(eth).toEqual({ status: 'success', result: 1_500_000_000_000_000_000n });
    const read = TOKENS.map((token, i) => {
      const [balance, decimals, symbol] = rest.slice(3 * i, 3 * i + 3).map((r) => r?.result);
      return [symbol, formatUnits(balance as bigint, decimals as number), decimals];
    });
    expect(read).toEqual([
      ['USDT', '12.345678', 6],
      ['USDC', '7', 6],
      ['DAI', '0.001', 18],
      ['WBTC', '0.25', 8],
    ]);
    // An address without code answers nothing, which viem reports as that call's failure.
    expect(rest.at(-1)?.status).toBe('failure');
  });

  it("uses viem's own mainnet Multicall3 address too", async () => {
    methods.length = 0;
    const [eth, usdt] = await client.multicall({
      allowFailure: false,
      contracts: [
        {
          address: MULTICALL3,
          abi: multicall3,
          functionName: 'getEthBalance',
          args: [WALLET],
        },
        { address: TOKENS[0].address, abi: erc20Abi, functionName: 'balanceOf', args: [WALLET] },
      ],
    });
    expect([eth, usdt]).toEqual([1_500_000_000_000_000_000n, 12_345_678n]);
    expect(methods).toEqual(['eth_call']);
  });

  it('sets balances down as well as up, keeping the total supply', async () => {
    const holder: Address = '0x000000000000000000000000000000000000dEaD';
    await node.setTokenBalance(TOKENS[2].address, holder, 5n);
    await node.setTokenBalance(TOKENS[2].address, holder, 2n);
    const [balance, supply] = await Promise.all([
      client.readContract({
        address: TOKENS[2].address,
        abi: erc20Abi,
        functionName: 'balanceOf',
        args: [holder],
      }),
      client.readContract({
        address: TOKENS[2].address,
        abi: erc20Abi,
        functionName: 'totalSupply',
      }),
    ]);
    expect(balance).toBe(2n);
    expect(supply).toBe(10n ** 15n + 2n);
    await expect(node.setTokenBalance(NOT_A_TOKEN, holder, 1n)).rejects.toThrow(
      /installToken first/,
    );
  });

  it('mines blocks on demand', async () => {
    const before = await client.getBlockNumber({ cacheTime: 0 });
    await node.mine(3);
    expect(await client.getBlockNumber({ cacheTime: 0 })).toBe(before + 3n);
  });
});

describe('the Esplora stand-in', () => {
  let esplora: FakeEsplora;
  beforeAll(async () => {
    esplora = await startFakeEsplora();
  });
  afterAll(() => esplora?.close());

  const SEGWIT = 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq';
  const P2SH = '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy';

  async function address(addr: string) {
    const response = await fetch(`${esplora.url}/address/${addr}`);
    return { status: response.status, text: await response.text() };
  }
  const confirmed = (text: string) => {
    const { chain_stats: s } = JSON.parse(text) as {
      chain_stats: { funded_txo_sum: number; spent_txo_sum: number };
    };
    return s.funded_txo_sum - s.spent_txo_sum;
  };

  it('answers the balance set, with consistent sums', async () => {
    esplora.setBalance(SEGWIT, 123_456_789n);
    expect(confirmed((await address(SEGWIT)).text)).toBe(123_456_789);
    esplora.setBalance(SEGWIT, 100_000_000n);
    const { text } = await address(SEGWIT);
    expect(JSON.parse(text)).toEqual({
      address: SEGWIT,
      chain_stats: {
        funded_txo_count: 2,
        funded_txo_sum: 223_456_789,
        spent_txo_count: 1,
        spent_txo_sum: 123_456_789,
        tx_count: 2,
      },
      mempool_stats: {
        funded_txo_count: 0,
        funded_txo_sum: 0,
        spent_txo_count: 0,
        spent_txo_sum: 0,
        tx_count: 0,
      },
    });
    esplora.setUnconfirmed(SEGWIT, -30_000_000n);
    expect(confirmed((await address(SEGWIT)).text)).toBe(100_000_000);
  });

  it('answers an unused address with zeros, and a malformed one with 400', async () => {
    expect(await address(P2SH)).toEqual({
      status: 200,
      text:
        `{"address":"${P2SH}","chain_stats":{"funded_txo_count":0,"funded_txo_sum":0,` +
        '"spent_txo_count":0,"spent_txo_sum":0,"tx_count":0},"mempool_stats":' +
        '{"funded_txo_count":0,"funded_txo_sum":0,"spent_txo_count":0,"spent_txo_sum":0,"tx_count":0}}',
    });
    expect((await address('3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz')).status).toBe(400);
    expect((await address('bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp')).status).toBe(400);
    const tip = await fetch(`${esplora.url}/blocks/tip/height`);
    expect(await tip.text()).toBe('870000');
  });

  it('fails on demand, and counts requests', async () => {
    esplora.resetStats();
    esplora.fail({ kind: 'status500' });
    expect((await address(SEGWIT)).status).toBe(500);
    esplora.fail({ kind: 'malformedJson' });
    const cut = await address(SEGWIT);
    expect(cut.status).toBe(200);
    expect(() => JSON.parse(cut.text) as unknown).toThrow();
    esplora.fail({ kind: 'timeout' });
    await expect(
      fetch(`${esplora.url}/address/${SEGWIT}`, { signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow();
    expect((await address(SEGWIT)).status).toBe(200);
    expect(esplora.stats.total).toBe(4);
    expect(esplora.stats.byPath[`/address/${SEGWIT}`]).toBe(4);
  });
});
