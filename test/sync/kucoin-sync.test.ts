import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountDetails } from '../../src/accounts/details.ts';
import { startFakeKucoin, type FakeKucoin } from '../support/exchanges/kucoin-server.ts';
import {
  connectAccount,
  connected,
  expectFailedNotLocked,
  expectLockedAfterRevoke,
  expectRefusedAndNothingStored,
  holdings,
  loadBalances,
  nextRound,
  startMarketServer,
  storedTransfers,
  syncNow,
} from '../support/exchange-sync.ts';
import { type Credentials, type TestServer } from '../support/server.ts';

// A KuCoin account end to end: connected through the 3Commas endpoint with key, secret and
// passphrase, read by ccxt's `kucoin` (unmodified) from the KuCoin stand-in — the main, trade
// and trade_hf accounts, summed before pricing — then prices move and money comes, goes and
// moves between accounts. Every figure is checked by hand in the comments.

const HOUR = 60 * 60 * 1000;
const KEY = 'kucoin-key';
const SECRET = 'kucoin-secret';
const PASSPHRASE = 'kucoin-passphrase';

let kucoin: FakeKucoin;
let server: TestServer;
let caller: Credentials;
let id = 0;
/** When the account's first snapshot was taken: its day window starts there. */
let connectedAt = 0;

beforeAll(async () => {
  // Three rows a history page (KuCoin serves up to 500): paging is tested with a few transfers.
  kucoin = await startFakeKucoin({ historyPageCap: 3 });
  // Prices since three hours ago, so the candles around each transfer are these prices alone.
  const since = Date.now() - 3 * HOUR;
  kucoin.setPrice('BTC/USDT', '50000', since);
  kucoin.setPrice('ETH/USDT', '2500', since);
  kucoin.addAccount(KEY, {
    secret: SECRET,
    passphrase: PASSPHRASE,
    // Trade account: 0.4 BTC, 0.1 more in orders.
    balances: { BTC: { free: '0.4', locked: '0.1' } },
    wallets: {
      main: { ETH: { free: '2' }, USDT: { free: '100' } }, // 2 ETH and 100 USDT
      trade_hf: { BTC: { free: '0.1' } }, // 0.1 BTC in the high-frequency trade account
    },
  });
  ({ server, caller } = await startMarketServer('kucoin', kucoin));
});
afterAll(async () => {
  await server?.close();
  await kucoin?.close();
});

const connect = (api_key: string, secret: string, passphrase?: string) =>
  connectAccount(
    { server, caller },
    {
      type: 'kucoin',
      name: 'KuCoin',
      api_key,
      secret,
      ...(passphrase === undefined ? {} : { passphrase }),
    },
  );

/** Prices of a new round (on-demand syncs share prices read within the last second or so). */
async function movePrices(btc: string, eth: string): Promise<void> {
  const at = Date.now() - 2 * HOUR; // the candles around later transfers hold these prices
  kucoin.setPrice('BTC/USDT', btc, at);
  kucoin.setPrice('ETH/USDT', eth, at);
  await nextRound();
}

const transfers = () => storedTransfers(server, id);

describe('a KuCoin account: main + trade (+ trade_hf)', () => {
  it("refuses keys KuCoin rejects, in KuCoin's words, as record_invalid", async () => {
    for (const [apiKey, secret, passphrase, words] of [
      ['unknown-key', SECRET, PASSPHRASE, 'KC-API-KEY not exists'], // 400003
      [KEY, SECRET, 'not-the-passphrase', 'Invalid KC-API-PASSPHRASE'], // 400004
      // The passphrase travels HMAC'd with the secret: a wrong secret fails there first.
      [KEY, 'not-the-secret', PASSPHRASE, 'Invalid KC-API-PASSPHRASE'],
    ] as const) {
      await expectRefusedAndNothingStored(server, await connect(apiKey, secret, passphrase), words);
    }
    // KuCoin keys come with a passphrase: without one, nothing is asked of KuCoin.
    const without = await connect(KEY, SECRET);
    expect(without.status).toBe(400);
    expect(JSON.stringify(await without.json())).toContain('passphrase');
    expect(await server.services.storage.db.selectFrom('accounts').select('id').execute()).toEqual(
      [],
    );
  });

  it('connects: the three accounts summed before pricing', async () => {
    const entity = await connected(await connect(KEY, SECRET, PASSPHRASE));
    id = Number(entity.id);
    connectedAt = Date.now();
    // BTC 0.5 (trade) + 0.1 (trade_hf) = 0.6 × 50000 = 30000; ETH 2 × 2500 = 5000; USDT 100
    // → 35100 USD
    expect(entity).toMatchObject({
      market_code: 'kucoin',
      api_key_invalid: false,
      usd_amount: '35100.0',
      btc_amount: '0.702', // 35100 / 50000
    });
  });

  it('account show keeps which account held what', async () => {
    expect(await holdings(server, id)).toEqual([
      [
        'BTC',
        '0.6',
        [
          { wallet: 'trade', amount: '0.5' },
          { wallet: 'trade_hf', amount: '0.1' },
        ],
      ],
      ['ETH', '2', [{ wallet: 'main', amount: '2' }]],
      ['USDT', '100', [{ wallet: 'main', amount: '100' }]],
    ]);
  });

  it('prices move: the day profit is what they did', async () => {
    await movePrices('62500', '3125');
    // 0.6 × 62500 + 2 × 3125 + 100 = 37500 + 6250 + 100 = 43850
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '43850.0',
      btc_amount: '0.7016', // 43850 / 62500
      day_profit_usd: '8750.0', // 43850 − 35100
      day_profit_usd_percentage: '24.93', // 8750 / 35100 = 24.928 %
      total_usd_profit: '8750.0',
    });
  });

  it('a move from main to trade is neither a transfer nor profit', async () => {
    kucoin.moveBetweenWallets(KEY, 'ETH', '0.5', 'main', 'spot'); // 'spot' serves KuCoin's trade
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '43850.0',
      day_profit_usd: '8750.0',
    });
    const details = await accountDetails(server.services.storage, id);
    expect(details.holdings.find((h) => h.asset === 'ETH')?.wallets).toEqual([
      { wallet: 'main', amount: '1.5' },
      { wallet: 'trade', amount: '0.5' },
    ]);
    expect(await transfers()).toEqual([]);
  });

  it('a deposit to main and a withdrawal from trade_hf: profit unchanged', async () => {
    // 1 ETH deposited to main: 3125 USD; 43850 + 3125 = 46975.
    kucoin.setBalance(KEY, 'ETH', '2.5', '0', 'main');
    kucoin.addDeposit(KEY, {
      id: 'kc-dep-1',
      asset: 'ETH',
      amount: '1',
      timestamp: Date.now() - 1000,
      status: 'ok',
    });
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '46975.0',
      day_profit_usd: '8750.0',
      total_usd_profit: '8750.0',
    });

    // 0.1 BTC withdrawn from trade_hf: 6250 USD; 46975 − 6250 = 40725.
    kucoin.setBalance(KEY, 'BTC', '0', '0', 'trade_hf');
    kucoin.addWithdrawal(KEY, {
      id: 'kc-wd-1',
      asset: 'BTC',
      amount: '0.1',
      fee: '0.0005',
      timestamp: Date.now() - 500,
      status: 'ok',
    });
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '40725.0',
      btc_amount: '0.6516', // 40725 / 62500
      day_profit_usd: '8750.0',
      total_usd_profit: '8750.0',
      // Of what the day started with plus what moved in: 35100 + 3125 − 6250 = 31975
      day_profit_usd_percentage: '27.37', // 8750 / 31975 = 27.365 %
      // In BTC: 0.6516 − 0.702 − (0.05 − 0.1) = −0.0004
      day_profit_btc: '-0.0004',
    });
    // A KuCoin deposit has no id of its own: its hash (walletTxId) names it.
    expect(await transfers()).toEqual([
      { external_id: 'deposit:0xkc-dep-1', kind: 'deposit', asset: 'ETH', amount: '1' },
      { external_id: 'withdrawal:kc-wd-1', kind: 'withdrawal', asset: 'BTC', amount: '0.1' },
    ]);
  });

  it('a history longer than a page is read whole, within a read and between two', async () => {
    // Deposits 1.1 s apart (pages are told apart by time, to the second), all inside the day
    // window that began when the account was connected.
    const at = (n: number) => connectedAt + n * 1100;
    const deposit = (n: number) =>
      kucoin.addDeposit(KEY, {
        id: `kc-page-${n}`,
        asset: 'BTC',
        amount: '0.01',
        timestamp: at(n),
        status: 'ok',
      });
    const waitUntil = (time: number) =>
      new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));
    // Five deposits of 0.01 BTC (two pages of three) into trade: 0.05 × 62500 = 3125;
    // 40725 + 3125 = 43850.
    await waitUntil(at(5));
    for (let n = 1; n <= 5; n += 1) deposit(n);
    kucoin.setBalance(KEY, 'BTC', '0.45', '0.1');
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '43850.0',
      day_profit_usd: '8750.0',
    });
    // Four more (two pages again) before the next read: 0.04 × 62500 = 2500; 43850 + 2500 = 46350.
    await waitUntil(at(9));
    for (let n = 6; n <= 9; n += 1) deposit(n);
    kucoin.setBalance(KEY, 'BTC', '0.49', '0.1');
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '46350.0',
      day_profit_usd: '8750.0',
    });
    const paged = (await transfers()).filter((t) => t.external_id?.startsWith('deposit:0xkc-page'));
    expect(paged.map((t) => t.external_id).sort()).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `deposit:0xkc-page-${n}`),
    );
  });

  it("this server's IP off the key's whitelist (400006) is reported, not locked", async () => {
    kucoin.fail({
      kind: 'answer',
      apiKey: KEY,
      status: 403,
      body: { code: '400006', msg: 'Invalid request ip, the current clientIp is:127.0.0.1' },
    });
    await expectFailedNotLocked(server, id, 'ip_refused', '400006');
    expect((await syncNow(server, id)).status).toBe('synced');
  });

  it('a key deleted at KuCoin (400003) locks the account', async () => {
    kucoin.revoke(KEY);
    await expectLockedAfterRevoke(server, id);
  });
});
