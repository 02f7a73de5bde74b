// Prepares the embedded data directory the benchmarked server will open: one user per scenario,
// each with N accounts carrying a deterministic 8-hourly history (the demo generator, reused;
// events older than the history start are folded into its first snapshot).
import { resolveMasterKey } from '../src/auth/master-key.ts';
import type { SnapshotRecord, TransferRecord } from '../src/balances/import.ts';
import type { Config } from '../src/config.ts';
import { DEMO_PLANS, demoAnchor, demoHistory } from '../src/demo/history.ts';
import { pgliteDir } from '../src/server.ts';
import { createServices, type Services } from '../src/services.ts';
import { openStorage } from '../src/storage/database.ts';

export interface BenchUser {
  accounts: number;
  apiKey: string;
  secret: string;
}

// Cycle through the demo's three shapes: two exchanges with keys, one wallet.
const SHAPES = [
  { plan: DEMO_PLANS.binance, market_code: 'binance', exchange: true },
  { plan: DEMO_PLANS.bybit, market_code: 'bybit_spot', exchange: true },
  { plan: DEMO_PLANS.wallet, market_code: 'ethereumwallet', exchange: false },
] as const;
const WALLET = '0x742d35cc6634c0532925a3b844bc454e4438f44e';

/**
 * Seeds one user per entry of `accountCounts` into the database of `config` (its PostgreSQL
 * database, or the embedded one in its data dir); returns their keys.
 */
export async function seedDataDir(
  config: Config,
  accountCounts: number[],
  days: number,
): Promise<BenchUser[]> {
  // Same master key file the server will read, so the sealed HMAC secrets open there too.
  const masterKey = resolveMasterKey(config);
  const storage = await openStorage(
    config.databaseUrl ? { databaseUrl: config.databaseUrl } : { dataDir: pgliteDir(config) },
  );
  const services = await createServices(storage, masterKey, { sync: config.sync });
  try {
    const users: BenchUser[] = [];
    for (const count of accountCounts) users.push(await seedUser(services, count, days));
    return users;
  } finally {
    await services.close();
  }
}

async function seedUser(services: Services, count: number, days: number): Promise<BenchUser> {
  const user = await services.users.create({ email: `bench-${count}@opencommas.local` });
  const anchor = demoAnchor(new Date());
  const snapshots: SnapshotRecord[] = [];
  const transfers: TransferRecord[] = [];
  for (let i = 0; i < count; i++) {
    const shape = SHAPES[i % SHAPES.length] ?? SHAPES[0];
    const credentials = shape.exchange
      ? { api_key: `bench-${count}-${i}`, secret: `bench-secret-${i}` }
      : { address: WALLET };
    const account = await services.accounts.add({
      user_id: user.id,
      market_code: shape.market_code,
      name: `Bench ${i + 1}`,
      ...credentials,
      sync: false, // history is seeded; nothing is read live
    });
    // The cached hot path does not depend on history length; `days` only bounds setup time.
    const plan = { ...shape.plan, startDaysAgo: Math.min(shape.plan.startDaysAgo, days) };
    const history = demoHistory(account.id, plan, anchor);
    snapshots.push(...history.snapshots);
    transfers.push(...history.transfers);
  }
  // One import per user: one transaction instead of one per account keeps the setup in seconds.
  await services.balances.importSnapshots(snapshots);
  await services.balances.importTransfers(transfers);
  const key = await services.keys.create({ user_id: user.id, permissions: ['ACCOUNTS_READ'] });
  return { accounts: count, apiKey: key.api_key, secret: key.secret ?? '' };
}
