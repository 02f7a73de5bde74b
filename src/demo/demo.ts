import type { Services } from '../services.ts';
import { DEMO_PLANS, demoAnchor, demoHistory } from './history.ts';

export const DEMO_EMAIL = 'demo@opencommas.local';

export interface DemoCredentials {
  user_id: number;
  email: string;
  account_ids: number[];
  api_key: string;
  secret: string;
}

const DEMO_ACCOUNTS = [
  {
    plan: 'binance',
    market_code: 'binance',
    name: 'Binance main',
    api_key: 'demo-binance-key',
    secret: 'demo-binance-secret',
  },
  {
    plan: 'bybit',
    market_code: 'bybit_spot',
    name: 'Bybit trading',
    api_key: 'demo-bybit-key',
    secret: 'demo-bybit-secret',
  },
  {
    plan: 'wallet',
    market_code: 'ethereumwallet',
    name: 'Ledger ETH',
    address: '0x742d35cc6634c0532925a3b844bc454e4438f44e',
  },
] as const;

/**
 * Seeds the demo user (once) with three accounts and 60 days of history, then issues a fresh
 * read-only API key for it: the secret is shown only now, so each call makes a new key.
 */
export async function seedDemo(services: Services, now = new Date()): Promise<DemoCredentials> {
  const existing = await services.users.findByEmail(DEMO_EMAIL);
  const user = existing ?? (await services.users.create({ email: DEMO_EMAIL }));
  let accountIds: number[];
  if (existing) {
    const rows = await services.storage.db
      .selectFrom('accounts')
      .select('id')
      .where('user_id', '=', user.id)
      .orderBy('id')
      .execute();
    accountIds = rows.map((row) => row.id);
  } else {
    accountIds = await createDemoAccounts(services, user.id, demoAnchor(now));
  }
  const key = await services.keys.create({ user_id: user.id, permissions: ['ACCOUNTS_READ'] });
  return {
    user_id: user.id,
    email: user.email,
    account_ids: accountIds,
    api_key: key.api_key,
    secret: key.secret ?? '',
  };
}

async function createDemoAccounts(
  services: Services,
  userId: number,
  anchor: number,
): Promise<number[]> {
  const ids: number[] = [];
  const snapshots = [];
  const transfers = [];
  for (const { plan, ...account } of DEMO_ACCOUNTS) {
    // The demo's keys and address are illustrations: history is imported, nothing is read live.
    const entity = await services.accounts.add({ user_id: userId, ...account, sync: false });
    ids.push(entity.id);
    const history = demoHistory(entity.id, DEMO_PLANS[plan], anchor);
    snapshots.push(...history.snapshots);
    transfers.push(...history.transfers);
  }
  await services.balances.importSnapshots(snapshots);
  await services.balances.importTransfers(transfers);
  return ids;
}
