import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOkx } from '../support/exchanges/okx-server.ts';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

// The same connector, unchanged, on an exchange of another family: OKX signs with Base64
// HMAC over timestamp + method + path + body and needs a passphrase. Only the catalog's
// ccxt id and the configured origin differ from Binance.

let okx: Awaited<ReturnType<typeof startFakeOkx>>;
let server: TestServer;
let userId: number;

beforeAll(async () => {
  okx = await startFakeOkx();
  okx.setPrice('BTC/USDT', '40000');
  okx.setPrice('SOL/BTC', '0.004'); // SOL only via BTC: 0.004 × 40000 = 160
  okx.addAccount('okx-key', {
    secret: 'okx-secret',
    passphrase: 'okx-pass',
    balances: { BTC: { free: '0.25', locked: '0.25' }, SOL: { free: '10' } },
  });
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ okex: okx.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ okex: 0 }),
    OPENCOMMAS_SYNC_INTERVAL: '1s',
  });
  userId = (await userWithKey(server.services)).user.id;
});
afterAll(async () => {
  await server?.close();
  await okx?.close();
});

const add = (passphrase: string | undefined, secret = 'okx-secret') =>
  server.services.accounts.add({
    user_id: userId,
    market_code: 'okex',
    name: 'OKX',
    api_key: 'okx-key',
    secret,
    ...(passphrase === undefined ? {} : { passphrase }),
  });

async function okxAccount() {
  const account = await server.services.storage.db
    .selectFrom('accounts')
    .selectAll()
    .where('market_code', '=', 'okex')
    .executeTakeFirst();
  if (!account) throw new Error('no OKX account');
  return account;
}

describe('an OKX account through the same ccxt connector', () => {
  it('requires the passphrase OKX keys come with', async () => {
    await expect(add(undefined)).rejects.toMatchObject({
      code: 'record_invalid',
      attributes: { passphrase: [expect.stringContaining('required')] },
    });
  });

  it('refuses a wrong passphrase or secret, as OKX does', async () => {
    await expect(add('wrong')).rejects.toMatchObject({ code: 'record_invalid' });
    await expect(add('okx-pass', 'wrong')).rejects.toMatchObject({ code: 'record_invalid' });
  });

  it('connects with the right ones: balances priced by the BTC route', async () => {
    const entity = await add('okx-pass');
    // 0.5 BTC × 40000 + 10 SOL × 160 = 21600
    expect(entity).toMatchObject({
      market_code: 'okex',
      usd_amount: '21600.0',
      btc_amount: '0.54',
    });
  });

  it('reads OKX deposits and withdrawals, net of which profit is computed', async () => {
    const account = await okxAccount();
    okx.setBalance('okx-key', 'SOL', '15'); // 5 SOL deposited: 800 USD
    okx.addDeposit('okx-key', {
      id: 'okx-dep-1',
      asset: 'SOL',
      amount: '5',
      timestamp: Date.now(), // after the first snapshot, which it is not part of
      status: 'ok',
    });
    okx.addWithdrawal('okx-key', {
      id: 'okx-wd-pending',
      asset: 'BTC',
      amount: '0.1',
      timestamp: Date.now(),
      status: 'pending', // not yet complete: not a transfer yet
    });
    const outcome = await server.services.onDemand.syncNow(account);
    expect(outcome.status).toBe('synced');
    expect(await server.services.accounts.render(account.id)).toMatchObject({
      usd_amount: '22400.0', // 20000 + 15 × 160
      total_usd_profit: '0.0', // the deposit is not profit
    });
    const transfers = await server.services.storage.db
      .selectFrom('transfers')
      .select(['external_id', 'kind', 'asset', 'amount'])
      .where('account_id', '=', account.id)
      .execute();
    expect(transfers).toEqual([
      { external_id: 'deposit:okx-dep-1', kind: 'deposit', asset: 'SOL', amount: '5' },
    ]);
  });

  it('locks the account when OKX stops accepting the key', async () => {
    const account = await okxAccount();
    okx.revoke('okx-key');
    const outcome = await server.services.onDemand.syncNow(account);
    expect(outcome).toMatchObject({ status: 'failed', kind: 'credentials' });
    expect(await server.services.accounts.render(account.id)).toMatchObject({
      api_key_invalid: true,
      is_locked: true,
      lock_reason: 'invalid_api_key',
    });
  });
});
