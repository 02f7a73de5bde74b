import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHmac } from '../../src/auth/signature.ts';
import { DAY_MS } from '../../src/valuation/index.ts';
import { startFakeBinance, type FakeBinance } from '../support/exchanges/binance-server.ts';
import { startFakeOkx } from '../support/exchanges/okx-server.ts';
import {
  LIST,
  signedGet,
  signedPost,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

/**
 * The account-management endpoints of the 3Commas accounts family, through signed HTTP on the
 * real server, with exchange keys checked by ccxt against the Binance and OKX stand-ins.
 */
type Json = Record<string, unknown>;

const HOUR_MS = 60 * 60 * 1000;
const BASE = '/public/api/ver1/accounts';
const UNAVAILABLE = { error: 'Forbidden. Unavailable for this account.' };
// The specification's 404 body, word for word (§8), whatever was not found.
const NOT_FOUND = { error: 'not_found', error_description: 'Not Found' };

let binance: FakeBinance;
let okx: Awaited<ReturnType<typeof startFakeOkx>>;
let server: TestServer;
/** READ and WRITE; READ only; WRITE only: all of one user. Another user with both. */
let owner: Credentials;
let reader: Credentials;
let writer: Credentials;
let stranger: Credentials;
let ownerId: number;
let strangerAccount: number;

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  binance.setPrice('ETH/USDT', '2500');
  binance.setPrice('SOL/USDT', '100');
  binance.addAccount('binance-key', {
    secret: 'binance-secret',
    balances: { BTC: { free: '0.4', locked: '0.1' }, USDT: { free: '100' } },
  });
  binance.addAccount('binance-key-2', {
    secret: 'binance-secret-2',
    balances: { ETH: { free: '2' } },
  });
  okx = await startFakeOkx();
  okx.setPrice('BTC/USDT', '50000');
  okx.addAccount('okx-key', {
    secret: 'okx-secret',
    passphrase: 'okx-pass',
    balances: { USDT: { free: '250' } },
  });
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url, okex: okx.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0, okex: 0 }),
  });
  const user = await userWithKey(server.services, {
    permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
  });
  owner = user.credentials;
  ownerId = user.user.id;
  reader = await keyFor(ownerId, ['ACCOUNTS_READ']);
  writer = await keyFor(ownerId, ['ACCOUNTS_WRITE']);
  const other = await userWithKey(server.services, {
    permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
  });
  stranger = other.credentials;
  strangerAccount = await manualAccount(other.user.id, 'binance', 'theirs');
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
  await okx?.close();
});

async function keyFor(userId: number, permissions: string[]): Promise<Credentials> {
  const key = await server.services.keys.create({ user_id: userId, permissions });
  return { apiKey: key.api_key, secret: key.secret ?? '' };
}

/** An account stored without reaching its exchange: its history is imported by the test. */
async function manualAccount(userId: number, market: string, name: string): Promise<number> {
  const { id } = await server.services.accounts.add({
    sync: false,
    user_id: userId,
    market_code: market,
    name,
    api_key: `stored-${name}-${Math.random().toString(36).slice(2)}`,
    secret: 'stored-secret',
    ...(market === 'okex' ? { passphrase: 'stored-pass' } : {}),
  });
  return id;
}

/** A POST with a form body, signed over `path?body` as 3Commas clients sign forms. */
function signedForm(target: string, credentials: Credentials, form: Record<string, string>) {
  const body = new URLSearchParams(form).toString();
  return fetch(`${server.url}${target}`, {
    method: 'POST',
    headers: {
      Apikey: credentials.apiKey,
      Signature: signHmac(credentials.secret ?? '', `${target}?${body}`),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body,
  });
}

async function json(response: Response, status: number): Promise<Json> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as Json;
}

async function connectBinance(apiKey = 'binance-key', secret = 'binance-secret'): Promise<Json> {
  return json(
    await signedPost(server, `${BASE}/new`, owner, {
      type: 'binance',
      name: 'Main',
      api_key: apiKey,
      secret,
    }),
    201,
  );
}

async function listed(id: number): Promise<Json> {
  const list = (await json(await signedGet(server, LIST, owner), 200)) as unknown as Json[];
  return list.find((entity) => entity.id === id) ?? {};
}

describe('status codes and permissions of the existing POSTs', () => {
  it('POST /new answers 201 Created, as 3Commas answers every POST', async () => {
    const entity = await connectBinance();
    // BTC 0.5 × 50000 + USDT 100 = 25100
    expect(entity).toMatchObject({ name: 'Main', usd_amount: '25100.0', market_code: 'binance' });
  });

  it('load_balances needs ACCOUNTS_READ (a WRITE-only key is refused) and answers 201', async () => {
    const { id } = await connectBinance();
    const path = `${BASE}/${String(id)}/load_balances`;
    expect(await json(await signedPost(server, path, reader), 201)).toMatchObject({ id });
    expect(await json(await signedPost(server, path, writer), 403)).toMatchObject({
      error: 'access_denied',
    });
  });
});

describe('POST /ver1/accounts/update', () => {
  it('refuses keys the exchange rejects, in its words, and changes nothing', async () => {
    const { id } = await connectBinance();
    const body = await json(
      await signedPost(server, `${BASE}/update`, owner, {
        account_id: id,
        name: 'Renamed',
        api_key: 'binance-key-2',
        secret: 'wrong-secret',
      }),
      400,
    );
    expect(body.error).toBe('record_invalid');
    expect(JSON.stringify(body.error_attributes)).toContain(
      'Signature for this request is not valid.',
    );
    // Neither the keys nor the name changed: a refusal changes nothing.
    expect(await listed(Number(id))).toMatchObject({ api_key: 'binance-key', name: 'Main' });
  });

  it('takes new keys the exchange accepts, and the account is valued with them', async () => {
    const { id } = await connectBinance();
    const entity = await json(
      await signedPost(server, `${BASE}/update`, owner, {
        account_id: id,
        api_key: 'binance-key-2',
        secret: 'binance-secret-2',
      }),
      201,
    );
    // ETH 2 × 2500 = 5000
    expect(entity).toMatchObject({ id, api_key: 'binance-key-2', usd_amount: '5000.0' });
  });

  it('sets the name and include_in_summary from a form body (text read as integer and boolean)', async () => {
    const { id } = await connectBinance();
    const entity = await json(
      await signedForm(`${BASE}/update`, owner, {
        account_id: String(id),
        name: 'Savings',
        include_in_summary: 'false',
      }),
      201,
    );
    expect(entity).toMatchObject({ id, name: 'Savings', include_in_summary: false });
    expect(typeof entity.id).toBe('number');
    expect(await listed(Number(id))).toMatchObject({ name: 'Savings', include_in_summary: false });
  });

  it("another user's or an unknown account: 404; without ACCOUNTS_WRITE: 403; no id: 400", async () => {
    const update = (credentials: Credentials, body: Json) =>
      signedPost(server, `${BASE}/update`, credentials, body);
    expect(
      await json(await update(owner, { account_id: strangerAccount, name: 'x1' }), 404),
    ).toMatchObject(NOT_FOUND);
    expect(await json(await update(owner, { account_id: 999999, name: 'x1' }), 404)).toMatchObject(
      NOT_FOUND,
    );
    expect(
      await json(await update(reader, { account_id: strangerAccount, name: 'x1' }), 403),
    ).toEqual({
      error: 'access_denied',
      error_description: "Api key doesn't have enough permissions: ACCOUNTS_WRITE is required.",
    });
    const missing = await json(await update(owner, { name: 'x1' }), 400);
    expect(missing).toMatchObject({
      error: 'record_invalid',
      error_attributes: { account_id: expect.any(Array) },
    });
  });
});

describe('POST /ver1/accounts/{id}/rename', () => {
  it('takes `name` from the query string, a JSON body or a form, and answers 201 with it', async () => {
    const id = await manualAccount(ownerId, 'binance', 'to-rename');
    const path = `${BASE}/${id}/rename`;
    expect(
      await json(await signedPost(server, `${path}?name=From%20query`, owner), 201),
    ).toMatchObject({
      id,
      name: 'From query',
    });
    expect(
      await json(await signedPost(server, path, owner, { name: 'From JSON' }), 201),
    ).toMatchObject({
      name: 'From JSON',
    });
    expect(await json(await signedForm(path, owner, { name: 'From form' }), 201)).toMatchObject({
      name: 'From form',
    });
    expect((await listed(id)).name).toBe('From form');
  });

  it('no name: 400; not an id, or not yours: 404; without ACCOUNTS_WRITE: 403', async () => {
    const id = await manualAccount(ownerId, 'binance', 'kept-name');
    expect(await json(await signedPost(server, `${BASE}/${id}/rename`, owner), 400)).toMatchObject({
      error: 'record_invalid',
      error_attributes: { name: ["can't be blank"] },
    });
    for (const target of [
      `${BASE}/${strangerAccount}/rename`,
      `${BASE}/abc/rename`,
      `${BASE}/1.5/rename`,
    ]) {
      expect(
        await json(await signedPost(server, target, owner, { name: 'Mine now' }), 404),
      ).toMatchObject(NOT_FOUND);
    }
    expect(
      await json(await signedPost(server, `${BASE}/${id}/rename`, reader, { name: 'No' }), 403),
    ).toMatchObject({ error: 'access_denied' });
    expect((await listed(id)).name).toBe('kept-name');
  });
});

/** The rows keyed by an account, table by table. */
async function historyRows(accountId: number) {
  const count = async (query: ReturnType<typeof sql<{ n: string }>>) =>
    Number((await query.execute(server.services.storage.db)).rows[0]?.n);
  return {
    accounts: await count(sql`SELECT count(*) AS n FROM accounts WHERE id = ${accountId}`),
    snapshots: await count(
      sql`SELECT count(*) AS n FROM balance_snapshots WHERE account_id = ${accountId}`,
    ),
    assets: await count(sql`SELECT count(*) AS n FROM snapshot_assets WHERE snapshot_id IN
      (SELECT id FROM balance_snapshots WHERE account_id = ${accountId})`),
    transfers: await count(
      sql`SELECT count(*) AS n FROM transfers WHERE account_id = ${accountId}`,
    ),
  };
}

const iso = (ms: number) => new Date(Date.now() - ms).toISOString();

async function importHistory(accountId: number) {
  await server.services.balances.importSnapshots([
    {
      account_id: accountId,
      at: iso(2 * DAY_MS),
      btc_usd_price: '50000',
      assets: [
        { asset: 'BTC', amount: '0.1', usd_price: '50000' },
        { asset: 'USDT', amount: '10', usd_price: '1' },
      ],
    },
    {
      account_id: accountId,
      at: iso(HOUR_MS),
      btc_usd_price: '60000',
      assets: [{ asset: 'BTC', amount: '0.1', usd_price: '60000' }],
    },
  ]);
  await server.services.balances.importTransfers([
    {
      account_id: accountId,
      at: iso(DAY_MS),
      asset: 'USDT',
      amount: '10',
      usd_price: '1',
      btc_usd_price: '55000',
      kind: 'withdrawal',
    },
  ]);
}

describe('POST /ver1/accounts/{id}/remove', () => {
  it('answers 201 true and removes the account with its whole history', async () => {
    const id = await manualAccount(ownerId, 'binance', 'to-remove');
    const kept = await manualAccount(ownerId, 'binance', 'kept');
    await importHistory(id);
    await importHistory(kept);
    // 2 snapshots, 3 assets (2 + 1), 1 transfer each.
    const full = { accounts: 1, snapshots: 2, assets: 3, transfers: 1 };
    expect(await historyRows(id)).toEqual(full);
    const response = await signedPost(server, `${BASE}/${id}/remove`, owner);
    expect(response.status).toBe(201);
    expect(await response.text()).toBe('true');
    expect(await historyRows(id)).toEqual({ accounts: 0, snapshots: 0, assets: 0, transfers: 0 });
    expect(await historyRows(kept)).toEqual(full);
    // The list (served from a cache) no longer shows it.
    expect(await listed(id)).toEqual({});
    expect(await json(await signedGet(server, `${BASE}/${id}`, owner), 404)).toMatchObject(
      NOT_FOUND,
    );
  });

  it('a failure part-way (the account row refuses to go) leaves everything in place', async () => {
    const id = await manualAccount(ownerId, 'binance', 'stubborn');
    await importHistory(id);
    const before = await historyRows(id);
    const db = server.services.storage.db;
    // The last delete of the transaction fails: the earlier ones must be rolled back with it.
    await sql
      .raw(
        `CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$`,
      )
      .execute(db);
    await sql
      .raw(
        `CREATE TRIGGER refuse_delete BEFORE DELETE ON accounts
           FOR EACH ROW WHEN (OLD.id = ${id}) EXECUTE FUNCTION refuse_delete()`,
      )
      .execute(db);
    try {
      expect((await signedPost(server, `${BASE}/${id}/remove`, owner)).status).toBe(500);
    } finally {
      await sql.raw('DROP TRIGGER refuse_delete ON accounts').execute(db);
      await sql.raw('DROP FUNCTION refuse_delete()').execute(db);
    }
    expect(await historyRows(id)).toEqual(before);
    expect((await listed(id)).name).toBe('stubborn');
  });

  it("another user's account: 404 and nothing removed; without ACCOUNTS_WRITE: 403", async () => {
    expect(
      await json(await signedPost(server, `${BASE}/${strangerAccount}/remove`, owner), 404),
    ).toMatchObject(NOT_FOUND);
    expect((await historyRows(strangerAccount)).accounts).toBe(1);
    const id = await manualAccount(ownerId, 'binance', 'not-by-reader');
    // Nor the other way round: the other user cannot remove ours.
    expect(
      await json(await signedPost(server, `${BASE}/${id}/remove`, stranger), 404),
    ).toMatchObject(NOT_FOUND);
    expect(await json(await signedPost(server, `${BASE}/${id}/remove`, reader), 403)).toMatchObject(
      {
        error: 'access_denied',
      },
    );
    expect((await historyRows(id)).accounts).toBe(1);
  });
});

/**
 * Announces a marker for `userId` and waits until this process has heard it (twice on
 * PostgreSQL: once locally, once echoed by LISTEN). Announcements arrive in commit order, so
 * every earlier one has been heard too.
 */
async function everyAnnouncementHeard(userId: number): Promise<void> {
  const { changes, storage } = server.services;
  const expected = storage.kind === 'postgres' ? 2 : 1;
  let heard = 0;
  const echoed = new Promise<void>((resolve) => {
    changes.subscribe((change) => {
      if (change.userId === userId && (heard += 1) === expected) resolve();
    });
  });
  await changes.transaction(async (_tx, announce) => announce({ userId }));
  await echoed;
}

describe('GET /ver1/accounts/summary', () => {
  it('adds up the accounts in the summary: amounts and profits summed, percentages from summed bases', async () => {
    // Its own user, so only these accounts count.
    const user = await userWithKey(server.services);
    const a = await manualAccount(user.user.id, 'binance', 'A');
    const b = await manualAccount(user.user.id, 'binance', 'B');
    const hidden = await manualAccount(user.user.id, 'binance', 'hidden');
    const snapshots = (
      account: number,
      rows: Array<[number, string, Array<[string, string, string]>]>,
    ) =>
      server.services.balances.importSnapshots(
        rows.map(([ago, btc, assets]) => ({
          account_id: account,
          at: iso(ago),
          btc_usd_price: btc,
          assets: assets.map(([asset, amount, usd_price]) => ({ asset, amount, usd_price })),
        })),
      );
    // A: now−3d BTC 0.1 @ 40000 + USDT 1000 = 5000 (first; the period starts here: younger than 30 d)
    //    now−25h BTC 0.1 @ 50000 + USDT 1000 = 6000 (the day window's start)
    //    now−1h  BTC 0.1 @ 60000 + USDT 1500 = 7500, after 500 USDT deposited at now−2h
    await snapshots(a, [
      [
        3 * DAY_MS,
        '40000',
        [
          ['BTC', '0.1', '40000'],
          ['USDT', '1000', '1'],
        ],
      ],
      [
        25 * HOUR_MS,
        '50000',
        [
          ['BTC', '0.1', '50000'],
          ['USDT', '1000', '1'],
        ],
      ],
      [
        HOUR_MS,
        '60000',
        [
          ['BTC', '0.1', '60000'],
          ['USDT', '1500', '1'],
        ],
      ],
    ]);
    await server.services.balances.importTransfers([
      {
        account_id: a,
        at: iso(2 * HOUR_MS),
        asset: 'USDT',
        amount: '500',
        usd_price: '1',
        btc_usd_price: '60000',
        kind: 'deposit',
      },
    ]);
    // B: now−2d ETH 2 @ 2000 = 4000 (first, and the day start: latest at or before now−24h)
    //    now−30m ETH 2 @ 2250 = 4500
    await snapshots(b, [
      [2 * DAY_MS, '50000', [['ETH', '2', '2000']]],
      [HOUR_MS / 2, '60000', [['ETH', '2', '2250']]],
    ]);
    await snapshots(hidden, [[HOUR_MS, '60000', [['USDT', '999', '1']]]]);
    await json(
      await signedPost(server, `${BASE}/update`, await keyFor(user.user.id, ['ACCOUNTS_WRITE']), {
        account_id: hidden,
        include_in_summary: false,
      }),
      201,
    );

    const summary = await json(await signedGet(server, `${BASE}/summary`, user.credentials), 200);
    // A: day 7500 − 6000 − 500 = 1000 on a base of 6000 + 500 = 6500 (15.38 %)
    //    period = total: 7500 − 5000 − 500 = 2000 on 5000 + 500 = 5500 (36.36 %)
    // B: day = period = total: 4500 − 4000 = 500 on 4000 (12.5 %)
    // Summary: 7500 + 4500 = 12000; day 1500 / (6500 + 4000) = 14.2857… %;
    //          period 2500 / (5500 + 4000) = 26.3157… %; total 2500. (Averaging the
    //          percentages would give 13.94 % and 24.43 %.)
    expect(summary).toMatchObject({
      id: 'summary',
      include_in_summary: true,
      usd_amount: '12000.0',
      day_profit_usd: '1500.0',
      day_profit_usd_percentage: '14.29',
      usd_profit: '2500.0',
      usd_profit_percentage: '26.32',
      total_usd_profit: '2500.0',
      primary_display_currency_amount: { currency: 'USD', amount: '12000.0' },
      day_profit_primary_display_currency_percentage: { currency: 'USD', amount: '14.2857' },
      primary_display_currency_profit_percentage: { currency: 'USD', amount: '26.32' },
      total_primary_display_currency_profit: { currency: 'USD', amount: 2500 },
      // 7500 / 60000 + 4500 / 60000 = 0.125 + 0.075
      btc_amount: '0.2',
    });
    // The same figures as the list's two entities, added.
    const list = (await json(
      await signedGet(server, LIST, user.credentials),
      200,
    )) as unknown as Json[];
    expect(list.filter((e) => e.id !== hidden).map((e) => e.usd_amount)).toEqual([
      '7500.0',
      '4500.0',
    ]);
    // Every field of the entity, with the entity's JSON types; only the id is a string.
    const entity = list[0]!;
    expect(Object.keys(summary)).toEqual(Object.keys(entity));
    for (const [field, value] of Object.entries(entity)) {
      if (field === 'id') continue;
      expect(typeof summary[field], field).toBe(typeof value);
    }
  });

  it('is served from the list’s cache: a write of the user’s shows at once, nothing else does', async () => {
    const user = await userWithKey(server.services);
    const a = await manualAccount(user.user.id, 'binance', 'cached');
    const importOne = (usdt: string, ago: number) =>
      server.services.balances.importSnapshots([
        {
          account_id: a,
          at: iso(ago),
          btc_usd_price: '60000',
          assets: [{ asset: 'USDT', amount: usdt, usd_price: '1' }],
        },
      ]);
    await importOne('100', HOUR_MS);
    const summary = async () =>
      (await json(await signedGet(server, `${BASE}/summary`, user.credentials), 200)).usd_amount;
    expect(await summary()).toBe('100.0');
    // An import announces its change: the next summary shows it.
    await importOne('250', HOUR_MS / 2);
    expect(await summary()).toBe('250.0');
    // On PostgreSQL this process also hears its own announcement back through LISTEN, a moment
    // later, and drops the cache again: wait for that echo before relying on the cache.
    await everyAnnouncementHeard(user.user.id);
    expect(await summary()).toBe('250.0');
    // A change behind the service's back, announced to no one (the snapshots' stored values):
    // the cached summary stands…
    await server.services.storage.db
      .updateTable('balance_snapshots')
      .set({ usd_value: '999' })
      .where('account_id', '=', a)
      .execute();
    expect(await summary()).toBe('250.0');
    // …until what every write announces for the user drops it with the list's pages.
    server.services.lister.cache.invalidate(user.user.id);
    expect(await summary()).toBe('999.0');
  });

  it('a user with no accounts: zeros; without ACCOUNTS_READ: 403', async () => {
    const user = await userWithKey(server.services);
    expect(
      await json(await signedGet(server, `${BASE}/summary`, user.credentials), 200),
    ).toMatchObject({
      id: 'summary',
      usd_amount: '0.0',
      usd_profit_percentage: '0.0',
    });
    expect(await json(await signedGet(server, `${BASE}/summary`, writer), 403)).toMatchObject({
      error: 'access_denied',
    });
  });
});

describe('GET /ver1/accounts/{id}/active_trading_entities', () => {
  it('all five counts are the integer 0: this service does not trade', async () => {
    const id = await manualAccount(ownerId, 'binance', 'entities');
    const body = await json(
      await signedGet(server, `${BASE}/${id}/active_trading_entities`, reader),
      200,
    );
    expect(body).toStrictEqual({
      data: {
        active_bots_count: 0,
        active_deals_count: 0,
        active_smart_trades_count: 0,
        active_orders_count: 0,
        active_grid_bots_count: 0,
      },
    });
    expect(
      await json(
        await signedGet(server, `${BASE}/${strangerAccount}/active_trading_entities`, owner),
        404,
      ),
    ).toMatchObject(NOT_FOUND);
    expect(
      await json(await signedGet(server, `${BASE}/${id}/active_trading_entities`, writer), 403),
    ).toMatchObject({
      error: 'access_denied',
    });
  });
});

describe('deposit_data and networks_info through the exchange', () => {
  let binanceId: number;
  let okxId: number;
  beforeAll(async () => {
    binanceId = Number((await connectBinance()).id);
    okxId = Number(
      (
        await json(
          await signedPost(server, `${BASE}/new`, owner, {
            type: 'okex',
            name: 'OKX',
            api_key: 'okx-key',
            secret: 'okx-secret',
            passphrase: 'okx-pass',
          }),
          201,
        )
      ).id,
    );
  });

  it("Binance: the account's address on the network asked for, and its holding", async () => {
    const body = await json(
      await signedGet(server, `${BASE}/${binanceId}/deposit_data?currency=BTC&network=BTC`, reader),
      200,
    );
    expect(Object.keys(body)).toEqual([
      'address',
      'address_tag',
      'available_balance',
      'in_orders',
      'total_balance',
    ]);
    expect(Object.values(body).every((value) => typeof value === 'string')).toBe(true);
    // 0.4 free + 0.1 locked, as last read
    expect(body).toMatchObject({
      address_tag: '',
      total_balance: '0.5',
      available_balance: '0.5',
      in_orders: '0.0',
    });
    expect(body.address).toMatch(/^bc1q[0-9a-f]{38}$/);
    const tron = await json(
      await signedGet(
        server,
        `${BASE}/${binanceId}/deposit_data?currency=USDT&network=TRX`,
        reader,
      ),
      200,
    );
    const ethereum = await json(
      await signedGet(
        server,
        `${BASE}/${binanceId}/deposit_data?currency=USDT&network=ETH`,
        reader,
      ),
      200,
    );
    expect(ethereum.address).toMatch(/^0x[0-9a-f]{40}$/);
    expect(tron.address).not.toBe(ethereum.address);
    expect(tron.total_balance).toBe('100.0');
  });

  it('OKX: the address of the chain named as networks_info names it', async () => {
    const body = await json(
      await signedGet(
        server,
        `${BASE}/${okxId}/deposit_data?currency=USDT&network=USDT-ERC20`,
        reader,
      ),
      200,
    );
    expect(body).toMatchObject({ address_tag: '', total_balance: '250.0' });
    expect(body.address).toMatch(/^0x[0-9a-f]{40}$/);
  });

  it('missing parameters: 400 naming both; a closed network: 422 in the exchange’s words', async () => {
    expect(
      await json(await signedGet(server, `${BASE}/${binanceId}/deposit_data`, reader), 400),
    ).toEqual({
      error: 'record_invalid',
      error_description: 'Invalid parameters',
      error_attributes: { currency: ['is missing'], network: ['is missing'] },
    });
    binance.closeDeposits('SOL', 'SOL');
    const closed = await json(
      await signedGet(server, `${BASE}/${binanceId}/deposit_data?currency=SOL&network=SOL`, reader),
      422,
    );
    expect(closed.error).toBe('unknown_market_api_error');
    expect(closed.error_description).toContain('-9000');
    expect(closed.error_description).toContain('Deposits for this network are currently closed');
  });

  it('networks_info: every currency with its networks; purpose filters', async () => {
    const all = (await json(
      await signedGet(server, `${BASE}/${binanceId}/networks_info`, reader),
      200,
    )) as unknown as Json[];
    expect(all.map((c) => c.currency)).toEqual(['BTC', 'ETH', 'SOL', 'USDT']);
    const usdt = all.find((c) => c.currency === 'USDT')!;
    expect(usdt).toMatchObject({ name: 'USDT', deposit_enable: true, withdraw_enable: true });
    const networks = usdt.network_list as Json[];
    expect(networks.map((n) => [n.network, n.default, n.network_name])).toEqual([
      ['ETH', true, 'Ethereum (ERC20)'],
      ['TRX', false, 'Tron (TRC20)'],
    ]);
    expect(networks[0]).toMatchObject({
      deposit_enable: true,
      withdraw_enable: true,
      withdraw_fee: '0.0004',
      withdraw_min: '0.001',
      address_regexp: '^(0x)[0-9A-Fa-f]{40}$',
      require_address_tag: false,
    });
    // SOL's only network was closed for deposits above.
    const deposit = (await json(
      await signedGet(server, `${BASE}/${binanceId}/networks_info?purpose=deposit`, reader),
      200,
    )) as unknown as Json[];
    expect(deposit.map((c) => c.currency)).toEqual(['BTC', 'ETH', 'USDT']);
    const withdraw = (await json(
      await signedGet(server, `${BASE}/${binanceId}/networks_info?purpose=withdraw`, reader),
      200,
    )) as unknown as Json[];
    expect(withdraw.map((c) => c.currency)).toEqual(['BTC', 'ETH', 'SOL', 'USDT']);
    const onOkx = (await json(
      await signedGet(server, `${BASE}/${okxId}/networks_info`, reader),
      200,
    )) as unknown as Json[];
    expect(onOkx.find((c) => c.currency === 'USDT')?.network_list).toMatchObject([
      { network: 'USDT-ERC20', deposit_enable: true, withdraw_min: '0.0001' },
    ]);
  });

  it('other exchanges and accounts without keys: the 403 of the specification; not yours: 404', async () => {
    const kraken = await manualAccount(ownerId, 'kraken', 'kraken');
    const keyless = (
      await server.services.accounts.add({
        sync: false,
        user_id: ownerId,
        market_code: 'binance',
        name: 'manual',
      })
    ).id;
    for (const id of [kraken, keyless]) {
      for (const path of ['deposit_data?currency=BTC&network=BTC', 'networks_info']) {
        const response = await signedGet(server, `${BASE}/${id}/${path}`, reader);
        expect(response.status).toBe(403);
        expect(await response.json()).toStrictEqual(UNAVAILABLE);
      }
    }
    expect(
      await json(await signedGet(server, `${BASE}/${strangerAccount}/networks_info`, owner), 404),
    ).toMatchObject(NOT_FOUND);
  });
});

describe('the trading endpoints: this service never trades', () => {
  const trading: Array<['GET' | 'POST', string, 'R' | 'W']> = [
    ['POST', 'sell_all_to_btc', 'W'],
    ['POST', 'sell_all_to_usd', 'W'],
    ['POST', 'convert_dust_to_bnb', 'W'],
    ['GET', 'leverage_data?pair=USDT_BTC', 'R'],
    ['GET', 'volume/daily', 'R'],
    ['GET', 'volume/monthly', 'R'],
    ['GET', 'volume/total', 'R'],
  ];
  const call = (method: 'GET' | 'POST', target: string, credentials: Credentials) =>
    method === 'GET'
      ? signedGet(server, target, credentials)
      : signedPost(server, target, credentials);

  it('answer "Forbidden. Unavailable for this account."; 404 for an account not yours', async () => {
    const id = await manualAccount(ownerId, 'binance', 'no-trading');
    for (const [method, path, needs] of trading) {
      const allowed = needs === 'W' ? writer : reader;
      const refused = await call(method, `${BASE}/${id}/${path}`, allowed);
      expect(refused.status, path).toBe(403);
      expect(await refused.json()).toStrictEqual(UNAVAILABLE);
      const foreign = await call(method, `${BASE}/${strangerAccount}/${path}`, owner);
      expect(await json(foreign, 404)).toMatchObject(NOT_FOUND);
      // The permission is checked first: the other one is access_denied.
      const wrongKey = await call(method, `${BASE}/${id}/${path}`, needs === 'W' ? reader : writer);
      expect(await json(wrongKey, 403)).toMatchObject({ error: 'access_denied' });
    }
  });
});

describe('{account_id} in the path', () => {
  it('anything but an integer is an account that is not there: 404 not_found', async () => {
    for (const id of ['abc', '0', '-1', '12abc', '99999999999999999999']) {
      expect(await json(await signedGet(server, `${BASE}/${id}`, reader), 404), id).toMatchObject(
        NOT_FOUND,
      );
    }
  });
});
