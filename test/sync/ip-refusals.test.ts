import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountDetails } from '../../src/accounts/details.ts';
import { startFakeOkx } from '../support/exchanges/okx-server.ts';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

// An exchange that refuses this server's IP (the key's IP whitelist), or is busy, does not make
// a sound key invalid: the account reports the refusal and is read again next round.

const BALANCE = '/api/v5/account/balance';

let okx: Awaited<ReturnType<typeof startFakeOkx>>;
let server: TestServer;
let accountId: number;

beforeAll(async () => {
  okx = await startFakeOkx();
  okx.setPrice('BTC/USDT', '40000');
  okx.addAccount('okx-key', {
    secret: 'okx-secret',
    passphrase: 'okx-pass',
    balances: { BTC: { free: '1' } },
  });
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ okex: okx.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ okex: 0 }),
  });
  const { user } = await userWithKey(server.services);
  const entity = await server.services.accounts.add({
    user_id: user.id,
    market_code: 'okex',
    name: 'OKX',
    api_key: 'okx-key',
    secret: 'okx-secret',
    passphrase: 'okx-pass',
  });
  accountId = entity.id;
});
afterAll(async () => {
  await server?.close();
  await okx?.close();
});

const syncNow = async () =>
  server.services.onDemand.syncNow(await server.services.accounts.findAny(accountId));

describe('refusals that are not about the key', () => {
  it.each([
    [
      'an IP outside the key whitelist (50110)',
      {
        status: 401,
        code: '50110',
        msg: "Your IP is not included in your API key's IP whitelist.",
      },
      'ip_refused',
      1,
    ],
    [
      'systems busy (50013)',
      { status: 200, code: '50013', msg: 'Systems are busy. Please try again later.' },
      'unavailable',
      3,
    ],
    [
      'too many requests (50011)',
      { status: 429, code: '50011', msg: 'Too Many Requests' },
      'rate_limited',
      3,
    ],
  ])(
    '%s: reported on the account, not locked, read again next round',
    async (_, answer, kind, times) => {
      okx.fail({
        kind: 'answer',
        path: BALANCE,
        apiKey: 'okx-key',
        times,
        status: answer.status,
        body: { code: answer.code, msg: answer.msg, data: [] },
      });
      expect(await syncNow()).toMatchObject({ status: 'failed', kind });
      expect(await server.services.accounts.render(accountId)).toMatchObject({
        api_key_invalid: false,
        is_locked: false,
        lock_reason: null,
      });
      const details = await accountDetails(server.services.storage, accountId);
      expect(details.last_sync_error).toContain(answer.code);
      expect(details.next_sync_at).not.toBeNull();

      // The exchange answers again: the next read syncs.
      expect((await syncNow()).status).toBe('synced');
    },
  );

  it('a key OKX does not know (50111) still locks the account', async () => {
    okx.revoke('okx-key');
    expect(await syncNow()).toMatchObject({ status: 'failed', kind: 'credentials' });
    expect(await server.services.accounts.render(accountId)).toMatchObject({
      api_key_invalid: true,
      is_locked: true,
      lock_reason: 'invalid_api_key',
    });
  });
});
