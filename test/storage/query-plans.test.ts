import { randomBytes } from 'node:crypto';
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountDetails } from '../../src/accounts/details.ts';
import { adminToken } from '../../src/auth/master-key.ts';
import { loadConfig } from '../../src/config.ts';
import { buildApp } from '../../src/http/app.ts';
import { createServices, type Services } from '../../src/services.ts';
import { nextDueAt } from '../../src/sync/claims.ts';
import { openStorage } from '../../src/storage/database.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { getPage, signInByLink } from '../support/dashboard.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import {
  LIST,
  signedGet,
  signedPost,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

// Issue 14: at a million accounts every statement the API and the workers run must find its rows
// through an index, and a request must never read a user's whole history. A mid-size set is
// seeded (set-based SQL), everything the API, the dashboard, a worker round, retention and the
// CLI do is driven through their real code while the storage reports each statement, and each
// distinct statement is then EXPLAINed with its own parameters and `enable_seqscan = off`: the
// planner falls back to a Seq Scan only when no index can serve the statement. Runs on PGlite and
// on PostgreSQL alike (the same planner).

/** The tables that grow with users, accounts or time; a Seq Scan on one is a defect. */
const BIG_TABLES = new Set([
  'accounts',
  'balance_snapshots',
  'snapshot_assets',
  'transfers',
  'api_keys',
  'display_prices',
  'sessions',
  'login_links',
  'users',
]);

type Phase = 'request' | 'worker' | 'cli';

interface Captured {
  sql: string;
  parameters: readonly unknown[];
  phases: Set<Phase>;
}

const captured = new Map<string, Captured>();
let phase: Phase | undefined; // undefined: setup, not recorded

function record(text: string, parameters: readonly unknown[]): void {
  if (!phase) return;
  const seen = captured.get(text);
  if (seen) seen.phases.add(phase);
  else captured.set(text, { sql: text, parameters, phases: new Set([phase]) });
}

let database: TestDatabase;
let services: Services;
let server: TestServer;
let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let usdCaller: { userId: number; credentials: Credentials };
let eurCaller: { userId: number; credentials: Credentials };

const USERS = 300;
const ACCOUNTS_PER_USER = 10;
const SNAPSHOTS_PER_ACCOUNT = 20;

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  binance.setPrice('ETH/USDT', '2500');
  binance.setPrice('ETH/BTC', '0.05');
  binance.addAccount('plan-key', {
    secret: 'plan-secret',
    balances: { BTC: { free: '0.5' }, ETH: { free: '2' } },
  });
  binance.setBalance('plan-key', 'USDT', '100');

  database = await createTestDatabase();
  const storage = await openStorage({ databaseUrl: database.url, onQuery: record });
  const config = loadConfig({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    OPENCOMMAS_EXCHANGE_TIMEOUT: '2s',
    OPENCOMMAS_SYNC_INTERVAL: '1s',
    OPENCOMMAS_RATE_LIMIT: 'off',
  });
  const masterKey = randomBytes(32);
  services = await createServices(storage, masterKey, {
    sync: config.sync,
    sessions: config.sessions,
  });
  const app = await buildApp(services, { trustProxy: config.http.trustProxy });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server = {
    url: `http://127.0.0.1:${port}`,
    app,
    services,
    masterKey,
    adminToken: adminToken(masterKey),
    databaseUrl: database.url,
    metricsUrl: undefined,
    close: async () => {
      await app.close();
      await services.close();
    },
  };

  usdCaller = await caller('USD');
  eurCaller = await caller('EUR');
  await seed(services);
  await drive();
}, 300_000);

afterAll(async () => {
  await server?.close();
  await database?.drop();
  await binance?.close();
});

async function caller(currency: string) {
  const user = await services.users.create({
    email: `plans-${currency.toLowerCase()}@example.com`,
    display_currency: currency,
  });
  const key = await services.keys.create({
    user_id: user.id,
    permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
  });
  return { userId: user.id, credentials: { apiKey: key.api_key, secret: key.secret ?? '' } };
}

/**
 * Users (the callers too) with accounts on several markets and wallets, each with a history of
 * snapshots (pairs ten minutes apart, denser towards now, 45 days back: retention thins the
 * old pairs; BTC partly in a second wallet), transfers,
 * display prices for every round, API keys, sessions and sign-in links.
 */
async function seed({ storage: { db } }: Services): Promise<void> {
  const statements = [
    sql`INSERT INTO users (email, display_currency)
      SELECT 'seed-' || g || '@example.com', CASE WHEN g % 3 = 0 THEN 'EUR' ELSE 'USD' END
      FROM generate_series(1, ${USERS}) g`,
    sql`INSERT INTO api_keys (user_id, api_key, secret_sealed, permissions, revoked_at)
      SELECT u.id, 'seed-key-' || u.id || '-' || k, 'sealed', ARRAY['ACCOUNTS_READ'],
        CASE WHEN k = 2 THEN now() END
      FROM users u CROSS JOIN generate_series(1, 2) k WHERE u.email LIKE 'seed-%'`,
    sql`INSERT INTO accounts (user_id, market_code, name, exchange_api_key,
        exchange_secret_sealed, wallet_address, next_sync_at, created_at, updated_at)
      SELECT u.id, m.code, 'Seed ' || a,
        CASE WHEN m.code <> 'ethereumwallet' THEN 'seed-ex-' || u.id || '-' || a END,
        CASE WHEN m.code <> 'ethereumwallet' THEN 'sealed' END,
        CASE WHEN m.code = 'ethereumwallet' THEN '0x' || lpad(to_hex(u.id * 100 + a), 40, '0') END,
        now() + make_interval(hours => a), now() - interval '60 days', now()
      FROM users u CROSS JOIN generate_series(1, ${ACCOUNTS_PER_USER}) a
      CROSS JOIN LATERAL (SELECT (ARRAY['binance', 'bybit_spot', 'okex', 'kraken',
        'ethereumwallet'])[1 + a % 5] AS code) m`,
    sql`INSERT INTO balance_snapshots (account_id, user_id, taken_at, btc_usd_price, usd_value)
      SELECT a.id, a.user_id, now() - make_interval(mins => (s / 2) * (s / 2) * 800 + s % 2 * 10 + 3),
        50000 + s * 10, (50000 + s * 10) * 0.1 + 5100
      FROM accounts a CROSS JOIN generate_series(0, ${SNAPSHOTS_PER_ACCOUNT - 1}) s`,
    sql`INSERT INTO snapshot_assets (snapshot_id, user_id, asset, amount, usd_price, wallets)
      SELECT b.id, b.user_id, x.asset, x.amount, x.price, x.wallets
      FROM balance_snapshots b CROSS JOIN LATERAL (VALUES
        ('BTC', 0.1, b.btc_usd_price, '[{"wallet":"spot","amount":"0.06"},
          {"wallet":"funding","amount":"0.04"}]'::jsonb),
        ('ETH', 2, 2500, NULL),
        ('USDT', 100, 1, NULL)) x(asset, amount, price, wallets)`,
    sql`INSERT INTO transfers (account_id, user_id, at, asset, amount, usd_price, btc_usd_price,
        kind, external_id, priced_from)
      SELECT a.id, a.user_id, now() - make_interval(days => t * 11), 'USDT', 50, 1, 50000,
        CASE WHEN t = 2 THEN 'withdrawal' ELSE 'deposit' END, 'seed-' || a.id || '-' || t, 'round'
      FROM accounts a CROSS JOIN generate_series(1, 3) t`,
    sql`INSERT INTO display_prices (source, fetched_at, usd_prices)
      SELECT s, now() - make_interval(mins => r * 30),
        '{"EUR":"1.08","JPY":"0.0067","GBP":"1.27","ETH":"2500","BTC":"50000"}'::jsonb
      FROM unnest(ARRAY['binance', 'bybit_spot', 'okex', 'kraken']) s
      CROSS JOIN generate_series(0, 2 * 24 * 60) r`,
    sql`INSERT INTO sessions (token_hash, user_id, expires_at, last_seen_at)
      SELECT md5('session' || u.id || '-' || k), u.id, now() + interval '7 days', now()
      FROM users u CROSS JOIN generate_series(1, 3) k`,
    sql`INSERT INTO login_links (token_hash, user_id, expires_at, used_at)
      SELECT md5('link' || u.id || '-' || k), u.id, now() - interval '1 day', now() - interval '1 day'
      FROM users u CROSS JOIN generate_series(1, 2) k`,
    sql`ANALYZE`,
  ];
  for (const statement of statements) await statement.execute(db);
}

async function accountIdsOf(userId: number): Promise<number[]> {
  const rows = await services.storage.db
    .selectFrom('accounts')
    .select('id')
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
  return rows.map((row) => row.id);
}

const API = '/public/api/ver1/accounts';

async function ok(response: Response | Promise<Response>, status = 200): Promise<void> {
  const answered = await response;
  await answered.arrayBuffer();
  expect(answered.status).toBe(status);
}

/** Everything the API, the dashboard, a worker, retention and the CLI do, recorded by phase. */
async function drive(): Promise<void> {
  const ids = await accountIdsOf(usdCaller.userId);
  const [first = 0, second = 0] = ids;
  const eurIds = await accountIdsOf(eurCaller.userId);

  phase = 'request';
  for (const { credentials } of [usdCaller, eurCaller]) {
    for (const page of [1, 2, 3]) {
      await ok(signedGet(server, `${LIST}?per_page=4&page=${page}`, credentials));
    }
    await ok(signedGet(server, `${API}/summary`, credentials));
  }
  await ok(
    signedGet(server, `${LIST}?api_key=seed-ex-${usdCaller.userId}-1`, usdCaller.credentials),
  );
  // An unknown key and a revoked one: refused, each looked up once.
  await ok(signedGet(server, LIST, { apiKey: 'no-such-key', secret: 'x' }), 401);
  await ok(signedGet(server, LIST, { apiKey: 'seed-key-5-2', secret: 'x' }), 401);
  for (const [{ credentials }, id] of [
    [usdCaller, first],
    [eurCaller, eurIds[0] ?? 0],
  ] as const) {
    for (const target of [String(id), 'summary']) {
      if (target !== 'summary') await ok(signedGet(server, `${API}/${target}`, credentials));
      await ok(signedPost(server, `${API}/${target}/pie_chart_data`, credentials), 201);
      await ok(signedPost(server, `${API}/${target}/account_table_data`, credentials), 201);
      for (const days of [1, 7, 30, 90, 400]) {
        const from = new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
        await ok(
          signedGet(server, `${API}/${target}/balance_chart_data?date_from=${from}`, credentials),
        );
      }
    }
  }
  const family = usdCaller.credentials;
  await ok(signedGet(server, `${API}/${second}/active_trading_entities`, family));
  await ok(signedGet(server, `${API}/${second}/volume/total`, family), 403);
  await ok(signedPost(server, `${API}/${second}/sell_all_to_btc`, family), 403);
  // Someone else's account: not found, as any unknown one.
  await ok(signedGet(server, `${API}/${eurIds[0] ?? 0}/active_trading_entities`, family), 404);
  await ok(
    signedGet(
      server,
      `${API}/types_to_connect?type=binance&name=Main&api_key=seed-ex-${usdCaller.userId}-1`,
      family,
    ),
  );
  await ok(signedPost(server, `${API}/${second}/rename`, family, { name: 'Renamed' }), 201);

  // The dashboard, signed in by a one-time link.
  const browser = await signInByLink(server, usdCaller.userId);
  for (const path of [
    '/',
    `/accounts/${first}`,
    '/keys',
    '/settings',
    '/connect',
    '/app/api/summary',
    '/app/api/accounts',
    `/app/api/pie?target=${first}`,
    '/app/api/table?target=summary',
    ...['1W', '1M', '1Y', 'ALL'].flatMap((range) => [
      `/app/api/balance-chart?target=summary&range=${range}`,
      `/app/api/balance-chart?target=${first}&range=${range}`,
    ]),
  ]) {
    await ok(getPage(server, browser, path));
  }

  // Connecting an exchange account syncs it at once (on-demand claim, reading, recording).
  const connected = await signedPost(server, `${API}/new`, family, {
    type: 'binance',
    name: 'Plans',
    api_key: 'plan-key',
    secret: 'plan-secret',
  });
  expect(connected.status).toBe(201);
  const connectedId = Number(((await connected.json()) as { id: unknown }).id);
  await ok(signedPost(server, `${API}/${connectedId}/load_balances`, family), 201);

  // A worker round: claims the due account, syncs and records it.
  phase = undefined;
  await sql`UPDATE accounts SET next_sync_at = now() - interval '1 second'
    WHERE id = ${connectedId}`.execute(services.storage.db);
  phase = 'worker';
  const { stats } = services.worker;
  const outcomes = () => stats.synced + stats.failed + stats.lost;
  const [before, syncedBefore] = [outcomes(), stats.synced];
  services.worker.start();
  while (outcomes() === before) await new Promise((resolve) => setTimeout(resolve, 50));
  await services.worker.stop();
  expect(stats.synced).toBe(syncedBefore + 1);
  // The worker prunes after its first round; a pass of our own reads every range to the end.
  await services.retention.prune();
  await services.displayPrices.prune();

  phase = 'cli';
  const details = await accountDetails(services.storage, first);
  expect(details.account_id).toBe(first);
  await accountDetails(services.storage, connectedId);

  phase = 'request';
  await ok(signedPost(server, `${API}/${connectedId}/remove`, family), 201);
  phase = undefined;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

/** A plan node and the node above it (a Bitmap Heap Scan's own parent for its index scan). */
interface Placed {
  node: PlanNode;
  parent: PlanNode | undefined;
}

/** Every node of a plan, depth first. */
function nodesOf(node: PlanNode, parent?: PlanNode): Placed[] {
  const above = node['Node Type'] === 'Bitmap Heap Scan' ? parent : node;
  return [{ node, parent }, ...(node.Plans ?? []).flatMap((child) => nodesOf(child, above))];
}

/** The table a scan reads: a Bitmap Index Scan names only its index, which starts with it. */
function tableOf(node: PlanNode): string | undefined {
  const index = node['Index Name'];
  return (
    node['Relation Name'] ?? (index ? [...BIG_TABLES].find((t) => index.startsWith(t)) : undefined)
  );
}

/** Only statements that read rows need a plan: INSERT … VALUES writes without reading. */
function readsRows(text: string): boolean {
  const start = text.trimStart().slice(0, 12).toLowerCase();
  if (/^(select|update|delete|with)\b/.test(start)) return true;
  return start.startsWith('insert') && /\bselect\b/i.test(text);
}

/** The statement's plan with no sequential scan wanted, as PostgreSQL plans it. */
async function planOf(statement: Captured): Promise<PlanNode[]> {
  return services.storage.db.transaction().execute(async (tx) => {
    await sql`SET LOCAL enable_seqscan = off`.execute(tx);
    const result = await tx.executeQuery<{ 'QUERY PLAN': unknown }>(
      CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${statement.sql}`, [...statement.parameters]),
    );
    const cell = result.rows[0]?.['QUERY PLAN'];
    const plans = (typeof cell === 'string' ? JSON.parse(cell) : cell) as Array<{ Plan: PlanNode }>;
    return plans.map((plan) => plan.Plan);
  });
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * Statements known to read a whole history on the request path, each with why it is left: the
 * test fails when one is no longer run, so the entry goes with the fix.
 */
const KNOWN_WHOLE_HISTORY: string[] = [];

/** Statements with plans, each planned once. */
async function plannedStatements() {
  const planned: Array<{ statement: Captured; nodes: Placed[] }> = [];
  for (const statement of captured.values()) {
    if (!readsRows(statement.sql)) continue;
    const roots = await planOf(statement);
    planned.push({ statement, nodes: roots.flatMap((root) => nodesOf(root)) });
  }
  return planned;
}

let planned: Awaited<ReturnType<typeof plannedStatements>>;

describe('query plans at scale', () => {
  beforeAll(async () => {
    planned = await plannedStatements();
  });

  it('captured the statements of every path', () => {
    const phases = [...captured.values()].flatMap((statement) => [...statement.phases]);
    expect(new Set(phases)).toEqual(new Set(['request', 'worker', 'cli']));
    expect(planned.length).toBeGreaterThan(40);
  });

  it('reads every large table through an index, in every statement', () => {
    const sequential = planned.flatMap(({ statement, nodes }) =>
      nodes
        .filter(({ node }) => node['Node Type'] === 'Seq Scan')
        .map(({ node }) => node['Relation Name'] ?? '')
        .filter((table) => BIG_TABLES.has(table))
        .map((table) => `${table}: ${oneLine(statement.sql)}`),
    );
    expect(sequential).toEqual([]);
  });

  it('bounds every index scan of a large table by a condition or a limit', () => {
    // An index scan without a condition walks the whole index (every row of the table) unless a
    // Limit right above it stops the walk at the first rows in the index's order.
    const unbounded = planned.flatMap(({ statement, nodes }) =>
      nodes
        .filter(({ node, parent }) => {
          const table = tableOf(node);
          if (!table || !BIG_TABLES.has(table) || !/Index/.test(node['Node Type'])) return false;
          return !node['Index Cond'] && parent?.['Node Type'] !== 'Limit';
        })
        .map(({ node }) => `${tableOf(node)}: ${oneLine(statement.sql)}`),
    );
    expect(unbounded).toEqual([]);
  });

  it("reads no account's whole history to answer a request", () => {
    // A history scan bounded only by its account (no time, no snapshot, no Limit) reads every
    // row the account ever had. Removing an account deletes its history: that is the request.
    const history = new Set(['balance_snapshots', 'transfers']);
    const whole = planned.filter(
      ({ statement, nodes }) =>
        statement.phases.has('request') &&
        !/^\s*delete/i.test(statement.sql) &&
        nodes.some(({ node, parent }) => {
          const table = tableOf(node);
          if (!table || !history.has(table) || !/Index/.test(node['Node Type'])) return false;
          const condition = node['Index Cond'] ?? '';
          return !/taken_at|\bat\b|\bid = /.test(condition) && parent?.['Node Type'] !== 'Limit';
        }),
    );
    const known = (text: string) => KNOWN_WHOLE_HISTORY.some((prefix) => text.startsWith(prefix));
    expect(whole.map(({ statement }) => oneLine(statement.sql)).filter((t) => !known(t))).toEqual(
      [],
    );
    // A known entry no longer read this way goes from the list.
    for (const prefix of KNOWN_WHOLE_HISTORY) {
      expect(
        whole.some(({ statement }) => statement.sql.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
  });
});

describe("the worker's wake-up, from bounded probes", () => {
  // What it read before: every scheduled account. The probes must answer the same, or earlier
  // (an exchange's pause end, whether or not its accounts fall due then), never in the past.
  const fullScan = async () => {
    const row = await sql<{ next: Date | null }>`
      SELECT min(GREATEST(a.next_sync_at, a.claimed_until, p.until)) AS next
      FROM accounts a LEFT JOIN exchange_pauses p ON p.market_code = a.market_code
      WHERE a.next_sync_at IS NOT NULL`.execute(services.storage.db);
    return row.rows[0]?.next?.getTime();
  };
  const probes = async (now: Date) => (await nextDueAt(services.storage, now))?.getTime();
  const minutes = (n: number) => new Date(Date.now() + n * 60_000);

  it('answers as the full scan did, with accounts held by a worker', async () => {
    const now = new Date();
    expect(await probes(now)).toBe(await fullScan());
    // The first account in schedule order is held (due already): free when its lease ends,
    // which comes before any other account's schedule.
    const [first] = await services.storage.db
      .selectFrom('accounts')
      .select('id')
      .where('next_sync_at', 'is not', null)
      .orderBy('next_sync_at')
      .limit(1)
      .execute();
    const lease = minutes(5); // every other account is due an hour from now or later
    await services.storage.db
      .updateTable('accounts')
      .set({ next_sync_at: minutes(-1), claimed_by: 'elsewhere', claimed_until: lease })
      .where('id', '=', first?.id ?? 0)
      .execute();
    expect(await probes(now)).toBe(lease.getTime());
    expect(await probes(now)).toBe(await fullScan());
  });

  it('wakes at the end of a pause when a due account waits on it, never in the past', async () => {
    // The held account (bybit_spot) is let go, due at once, and its exchange paused.
    const now = new Date();
    const until = minutes(30); // before any other account's schedule
    await services.storage.db
      .updateTable('accounts')
      .set({ claimed_by: null, claimed_until: null })
      .where('claimed_by', '=', 'elsewhere')
      .execute();
    await sql`INSERT INTO exchange_pauses (market_code, until, reason)
      VALUES ('bybit_spot', ${until}, 'test')`.execute(services.storage.db);
    expect(await probes(now)).toBe(until.getTime());
    expect(await probes(now)).toBe(await fullScan());
  });
});
