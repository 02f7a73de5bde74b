import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '../support/digits.ts';
import { seedAccounts, seedHistory, seedString } from '../support/seed-history.ts';
import {
  LIST,
  signedGet,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

/**
 * The 3Commas docs' example response, reproduced end to end: histories derived from it are
 * imported through the same importer the CLI uses, and the signed endpoint must answer the
 * seed's figures — percentages and totals exactly, long amounts to ≥ 25 significant digits.
 */
type Entity = Record<string, unknown>;

const EXACT = [
  'usd_profit_percentage',
  'btc_profit_percentage',
  'day_profit_usd_percentage',
  'day_profit_btc_percentage',
  'total_usd_profit',
  'total_btc_profit',
];
const LONG = [
  'usd_amount',
  'btc_amount',
  'day_profit_usd',
  'day_profit_btc',
  'usd_profit',
  'btc_profit',
];
const DISPLAY = [
  'primary_display_currency_profit_percentage',
  'day_profit_primary_display_currency_percentage',
  'total_primary_display_currency_profit',
];

let server: TestServer;
const now = new Date();

async function importSeed(
  displayCurrency: string,
): Promise<{ credentials: Credentials; ids: number[] }> {
  const owner = await userWithKey(server.services, { displayCurrency });
  const ids: number[] = [];
  for (const [index, history] of seedHistory(now).entries()) {
    const seed = seedAccounts[index] ?? {};
    const { id } = await server.services.accounts.add({
      sync: false, // illustrative keys: history is imported
      user_id: owner.user.id,
      market_code: seedString(seed, 'market_code'),
      name: seedString(seed, 'name'),
      api_key: seedString(seed, 'api_key'),
      secret: 'exchange-secret',
    });
    ids.push(id);
    await server.services.balances.importSnapshots(
      history.snapshots.map((s) => ({ account_id: id, ...s })),
    );
    await server.services.balances.importTransfers(
      history.transfers.map((t) => ({ account_id: id, ...t })),
    );
  }
  return { credentials: owner.credentials, ids };
}

async function list(credentials: Credentials): Promise<Entity[]> {
  const response = await signedGet(server, LIST, credentials);
  expect(response.status).toBe(200);
  return (await response.json()) as Entity[];
}

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('the seed’s figures, through storage and HTTP', () => {
  let accounts: Entity[];
  beforeAll(async () => {
    accounts = await list((await importSeed('USD')).credentials);
  });

  it.each([0, 1])(
    'account %i: percentages and totals exactly, long amounts to ≥ 25 digits',
    (index) => {
      const seed = seedAccounts[index] ?? {};
      const account = accounts[index] ?? {};
      for (const field of EXACT) expect(account[field], field).toBe(seed[field]);
      for (const field of DISPLAY) expect(account[field], field).toEqual(seed[field]);
      for (const field of LONG) expectClose(String(account[field]), seedString(seed, field));
      for (const field of [
        'primary_display_currency_amount',
        'primary_display_currency_profit',
        'day_profit_primary_display_currency',
      ]) {
        const money = account[field] as { currency: string; amount: string };
        const expected = seed[field] as { currency: string; amount: string };
        expect(money.currency).toBe('USD');
        expectClose(money.amount, expected.amount);
      }
    },
  );

  it('shows the primary display figures in BTC for a user whose display currency is BTC', async () => {
    const [first] = await list((await importSeed('BTC')).credentials);
    const seed = seedAccounts[0] ?? {};
    expect(first?.primary_display_currency_amount).toMatchObject({ currency: 'BTC' });
    expectClose(
      (first?.primary_display_currency_amount as { amount: string }).amount,
      seedString(seed, 'btc_amount'),
    );
    expect(first?.primary_display_currency_profit_percentage).toEqual({
      currency: 'BTC',
      amount: seed.btc_profit_percentage,
    });
    expect(first?.total_primary_display_currency_profit).toEqual({
      currency: 'BTC',
      amount: Number(seed.total_btc_profit),
    });
  });
});
