import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitcoinReader } from '../../src/chains/bitcoin.ts';
import { EthereumReader } from '../../src/chains/ethereum.ts';
import { loadTokenList } from '../../src/chains/token-list.ts';
import { startFakeEsplora } from '../support/chains/esplora-server.ts';
import { startEvmNode, type EvmNode } from '../support/chains/evm-node.ts';

// The chain readers against a real local EVM node and the Esplora stand-in. A counting proxy in
// front of the node shows what goes over the wire.

const WALLET = '0x8ba1f109551bd432803012645ac136ddd64dba72';
const [USDT, USDC, DAI] = loadTokenList().map((token) => token.address);

let node: EvmNode;
let proxy: Server;
let proxyUrl: string;
const methods: string[] = [];

beforeAll(async () => {
  node = await startEvmNode();
  await node.installMulticall3();
  await node.installToken({ address: USDT ?? '', decimals: 6 });
  await node.installToken({ address: DAI ?? '', decimals: 18 });
  proxy = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const calls = JSON.parse(body) as { method: string } | Array<{ method: string }>;
      for (const call of Array.isArray(calls) ? calls : [calls]) methods.push(call.method);
      void fetch(node.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
        .then((answer) => answer.text())
        .then((text) => response.writeHead(200, { 'content-type': 'application/json' }).end(text));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  proxyUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}, 60_000);
afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await node?.close();
});

describe('EthereumReader', () => {
  it('reads ETH and every listed token in exactly one eth_call', async () => {
    await node.setEthBalance(WALLET, 1_500_000_000_000_000_000n); // 1.5 ETH
    await node.setTokenBalance(USDT ?? '', WALLET, 12_345_678n); // 12.345678 USDT
    await node.setTokenBalance(DAI ?? '', WALLET, 10n ** 15n); // 0.001 DAI
    const reader = new EthereumReader(proxyUrl, loadTokenList(), 5000);
    methods.length = 0;
    const holdings = await reader.fetchHoldings(WALLET);
    expect(methods).toEqual(['eth_call']);
    expect(Object.fromEntries(holdings)).toEqual({
      ETH: '1.5',
      USDT: '12.345678',
      DAI: '0.001',
      // USDC and WBTC have no code on this chain: skipped, not fatal, and not shown as 0
    });
    expect(USDC).toBeDefined();
  });

  it('an unreachable node is a retryable failure, not an empty wallet', async () => {
    const reader = new EthereumReader('http://127.0.0.1:9', loadTokenList(), 1000);
    await expect(reader.fetchHoldings(WALLET)).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('a node without Multicall3 is a failure, not an empty wallet', async () => {
    const bare = await startEvmNode();
    try {
      const reader = new EthereumReader(bare.url, loadTokenList(), 5000);
      await expect(reader.fetchHoldings(WALLET)).rejects.toMatchObject({ kind: 'unavailable' });
    } finally {
      await bare.close();
    }
  }, 60_000);
});

describe('BitcoinReader', () => {
  it('reads the confirmed balance in BTC, exactly', async () => {
    const esplora = await startFakeEsplora();
    try {
      esplora.setBalance('bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', 123_456_789n);
      const reader = new BitcoinReader(esplora.url, 1000);
      const holdings = await reader.fetchHoldings('bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq');
      expect(Object.fromEntries(holdings)).toEqual({ BTC: '1.23456789' });
      expect(await reader.fetchHoldings('3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy')).toEqual(new Map());
      esplora.fail({ kind: 'malformedJson' });
      await expect(
        reader.fetchHoldings('3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy'),
      ).rejects.toMatchObject({ kind: 'unavailable' });
      esplora.fail({ kind: 'status500' });
      await expect(
        reader.fetchHoldings('3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy'),
      ).rejects.toMatchObject({ kind: 'unavailable' });
    } finally {
      await esplora.close();
    }
  });
});
