import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LIST,
  signedGet,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

type Json = Record<string, unknown>;
const seed = JSON.parse(
  readFileSync(new URL('../fixtures/seed-accounts-response.json', import.meta.url), 'utf8'),
) as Json[];
const seedFields = Object.keys(seed[0] ?? {});

let server: TestServer;
let credentials: Credentials;

beforeAll(async () => {
  server = await startTestServer();
  const owner = await userWithKey(server.services);
  credentials = owner.credentials;
  await server.services.accounts.add({
    sync: false, // illustrative keys: history is imported
    user_id: owner.user.id,
    market_code: 'binance_us',
    name: 'My Binance US',
    api_key: 'exchange-key',
    secret: 'exchange-secret',
  });
  await server.services.accounts.add({
    sync: false, // illustrative keys: history is imported
    user_id: owner.user.id,
    market_code: 'ethereumwallet',
    name: 'Cold',
    address: '0x742d35cc6634c0532925a3b844bc454e4438f44e',
  });
  await server.services.accounts.add({
    sync: false, // illustrative keys: history is imported
    user_id: owner.user.id,
    market_code: 'kraken',
    name: 'Manual',
  });
});
afterAll(() => server.close());

const jsonType = (value: unknown) =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

describe('the Account entity', () => {
  let accounts: Json[];
  beforeAll(async () => {
    accounts = (await (await signedGet(server, LIST, credentials)).json()) as Json[];
  });

  it('has the seed’s 61 fields in the seed’s order', () => {
    expect(seedFields).toHaveLength(61);
    for (const account of accounts) expect(Object.keys(account)).toEqual(seedFields);
  });

  it('gives every field the seed’s JSON type (null where the seed has null)', () => {
    for (const account of accounts) {
      for (const field of seedFields) {
        const expected = jsonType(seed[0]?.[field]);
        const actual = jsonType(account[field]);
        // lock_reason is null in the seed only because its accounts are unlocked.
        if (field === 'lock_reason') expect(['null', 'string'], field).toContain(actual);
        else expect(actual, field).toBe(expected);
      }
      for (const field of [
        'primary_display_currency_amount',
        'total_primary_display_currency_profit',
      ]) {
        const money = account[field] as Json;
        const seedMoney = seed[0]?.[field] as Json;
        expect(Object.keys(money)).toEqual(['currency', 'amount']);
        expect(jsonType(money.amount)).toBe(jsonType(seedMoney.amount));
      }
    }
  });

  it('reproduces the seed’s catalog fields for binance_us and shows what was stored', () => {
    const [binanceUs] = accounts;
    const seedAccount = seed[0] ?? {};
    for (const field of [
      'market_icon',
      'pretty_display_type',
      'exchange_name',
      'market_code',
      'supported_market_types',
      'auto_balance_period',
      'available_for_trading',
      'api_keys_state',
      'is_locked',
      'api_key_invalid',
    ]) {
      expect(binanceUs?.[field], field).toEqual(seedAccount[field]);
    }
    expect(binanceUs?.name).toBe('My Binance US');
    expect(binanceUs?.api_key).toBe('exchange-key');
    expect(JSON.stringify(accounts)).not.toContain('exchange-secret');
    expect(binanceUs?.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('shows wallets with their address and no trading capabilities', () => {
    const wallet = accounts[1] ?? {};
    expect(wallet.api_key).toBe('0x742d35cc6634c0532925a3b844bc454e4438f44e');
    for (const flag of [
      'trading_supported',
      'bots_allowed',
      'market_buy_supported',
      'smart_trading_supported',
    ]) {
      expect(wallet[flag], flag).toBe(false);
    }
  });

  it('shows zero amounts, in the contract’s formats, for an account with no snapshot yet', () => {
    const manual = accounts[2] ?? {};
    expect(manual.api_key).toBe('');
    for (const field of [
      'usd_amount',
      'btc_amount',
      'day_profit_usd',
      'usd_profit',
      'btc_profit',
      'day_profit_btc_percentage',
      'usd_profit_percentage',
      'total_usd_profit',
      'total_btc_profit',
    ]) {
      expect(manual[field], field).toBe('0.0');
    }
    expect(manual.primary_display_currency_amount).toEqual({ currency: 'USD', amount: '0.0' });
    expect(manual.total_primary_display_currency_profit).toEqual({ currency: 'USD', amount: 0 });
  });
});
