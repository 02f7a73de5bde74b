import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountDetails } from '../../src/accounts/details.ts';
import { startEvmNode, type EvmNode } from '../support/chains/evm-node.ts';
import { startFakeEsplora } from '../support/chains/esplora-server.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import {
  signedPost,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

// Wallets read from a real local EVM node (Hardhat's network: ERC-20s at their mainnet
// addresses, Multicall3 at its canonical address) and an Esplora stand-in, priced by the
// price exchange's tickers. A wallet does not trade: its profit is what prices did.

const ETH_WALLET = '0x8ba1f109551bd432803012645ac136ddd64dba72';
const BTC_WALLET = 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq';
const USDT = '0xdAC17F958D2ee523a2206206994597C13D831ec7';
const WBTC = '0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599';

let node: EvmNode;
let esplora: Awaited<ReturnType<typeof startFakeEsplora>>;
let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let server: TestServer;
let caller: Credentials;

beforeAll(async () => {
  [node, esplora, binance] = await Promise.all([
    startEvmNode(),
    startFakeEsplora(),
    startFakeBinance(),
  ]);
  await node.installMulticall3();
  await node.installToken({ address: USDT, decimals: 6 });
  await node.installToken({ address: WBTC, decimals: 8 });
  await node.setEthBalance(ETH_WALLET, 2n * 10n ** 18n); // 2 ETH
  await node.setTokenBalance(USDT, ETH_WALLET, 1_000_500_000n); // 1000.5 USDT
  await node.setTokenBalance(WBTC, ETH_WALLET, 10_000_000n); // 0.1 WBTC
  esplora.setBalance(BTC_WALLET, 25_000_000n); // 0.25 BTC
  binance.setPrice('BTC/USDT', '50000');
  binance.setPrice('ETH/USDT', '2500');
  binance.setPrice('WBTC/BTC', '1');
  server = await startTestServer({
    OPENCOMMAS_ETH_RPC_URL: node.url,
    OPENCOMMAS_BTC_ESPLORA_URL: esplora.url,
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    OPENCOMMAS_SYNC_INTERVAL: '1s',
  });
  caller = (
    await userWithKey(server.services, { permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'] })
  ).credentials;
}, 60_000);
afterAll(async () => {
  await server?.close();
  await Promise.all([node?.close(), esplora?.close(), binance?.close()]);
});

async function connect(type: string, address: string): Promise<Record<string, unknown>> {
  const response = await signedPost(server, '/public/api/ver1/accounts/new', caller, {
    type,
    name: type,
    address,
  });
  expect(response.status).toBe(201);
  return (await response.json()) as Record<string, unknown>;
}

async function loadBalances(id: unknown): Promise<Record<string, unknown>> {
  const response = await signedPost(
    server,
    `/public/api/ver1/accounts/${String(id)}/load_balances`,
    caller,
  );
  expect(response.status).toBe(201);
  return (await response.json()) as Record<string, unknown>;
}

const nextRound = () => new Promise((resolve) => setTimeout(resolve, 1100));

describe('an Ethereum wallet', () => {
  let id: unknown;

  it('reads ETH and every listed token in one multicall, valued at the price exchange', async () => {
    const entity = await connect('ethereumwallet', ETH_WALLET);
    id = entity.id;
    // 2 × 2500 + 1000.5 × 1 + 0.1 × (1 × 50000) = 11000.5
    expect(entity).toMatchObject({ usd_amount: '11000.5', api_key: ETH_WALLET });
    const details = await accountDetails(server.services.storage, Number(id));
    expect(details.holdings.map((h) => [h.asset, h.amount])).toEqual([
      ['ETH', '2'],
      ['USDT', '1000.5'],
      ['WBTC', '0.1'],
    ]);
  });

  it('counts what arrives in the wallet as a transfer: profit is the price effect only', async () => {
    await node.setEthBalance(ETH_WALLET, 3n * 10n ** 18n); // 1 ETH received
    binance.setPrice('ETH/USDT', '3000');
    await nextRound();
    const entity = await loadBalances(id);
    // 3 × 3000 + 1000.5 + 5000 = 15000.5; the received ETH (3000) is a deposit, so profit is
    // what the price did to the 2 ETH held: 2 × (3000 − 2500) = 1000.
    expect(entity).toMatchObject({
      usd_amount: '15000.5',
      day_profit_usd: '1000.0',
      total_usd_profit: '1000.0',
    });
  });
});

describe('a Bitcoin wallet', () => {
  it('reads the confirmed balance from Esplora', async () => {
    const entity = await connect('bitcoinwallet', BTC_WALLET);
    expect(entity).toMatchObject({ usd_amount: '12500.0', btc_amount: '0.25' });
  });

  it('stores a wallet whose chain is unreachable, and syncs it later', async () => {
    esplora.fail({ kind: 'status500', times: 10 });
    const entity = await connect('bitcoinwallet', '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy');
    expect(entity).toMatchObject({ usd_amount: '0.0' });
    const row = await server.services.accounts.findAny(Number(entity.id));
    expect(row.next_sync_at).not.toBeNull();
  });
});

describe('bad wallet input changes nothing', () => {
  it.each([
    ['ethereumwallet', '0x8ba1f109551bd432803012645ac136ddd64dba7', 'address'],
    ['ethereumwallet', '0x8Ba1f109551bD432803012645Ac136ddd64DBA72', 'address'], // bad EIP-55
    ['bitcoinwallet', 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr', 'address'], // bad checksum
    ['nowallet', ETH_WALLET, 'type'],
  ])('%s %s → 400 naming %s', async (type, address, field) => {
    const before = await server.services.storage.db.selectFrom('accounts').select('id').execute();
    const response = await signedPost(server, '/public/api/ver1/accounts/new', caller, {
      type,
      name: 'Bad',
      address,
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; error_attributes: object };
    expect(body.error).toBe('record_invalid');
    expect(Object.keys(body.error_attributes)).toContain(field);
    const after = await server.services.storage.db.selectFrom('accounts').select('id').execute();
    expect(after.length).toBe(before.length);
  });
});
