import { expect } from 'vitest';
import { accountDetails } from '../../src/accounts/details.ts';
import {
  signedPost,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from './server.ts';

// What every per-exchange end-to-end sync test does the same way: the app syncing one market
// from its stand-in, accounts connected and read through the signed 3Commas API, the account's
// stored transfers, and the refusal, report and lock checks whose outcome is the same whatever
// the exchange. Each test keeps its own balances, prices and arithmetic.

const NEW = '/public/api/ver1/accounts/new';

/** The app and a caller allowed to read and write accounts. */
export interface MarketServer {
  readonly server: TestServer;
  readonly caller: Credentials;
}

/**
 * The app reading `market` from `standIn` with no request budget, a sync round every second,
 * `env` on top; and a caller with ACCOUNTS_READ and ACCOUNTS_WRITE.
 */
export async function startMarketServer(
  market: string,
  standIn: { readonly url: string },
  env: Record<string, string> = {},
): Promise<MarketServer> {
  const server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ [market]: standIn.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ [market]: 0 }),
    OPENCOMMAS_SYNC_INTERVAL: '1s',
    ...env,
  });
  const { credentials } = await userWithKey(server.services, {
    permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
  });
  return { server, caller: credentials };
}

/** What POST accounts/new is sent to connect an exchange account. */
export interface NewAccount {
  readonly type: string;
  readonly name: string;
  readonly api_key: string;
  readonly secret: string;
  readonly passphrase?: string;
}

/** POST accounts/new, signed by the caller: the response, unread. */
export function connectAccount(
  { server, caller }: MarketServer,
  account: NewAccount,
): Promise<Response> {
  return signedPost(server, NEW, caller, { ...account });
}

/** A connection accepted: 201 and the account entity. */
export async function connected(response: Response): Promise<Record<string, unknown>> {
  expect(response.status).toBe(201);
  return (await response.json()) as Record<string, unknown>;
}

/** POST accounts/{id}/load_balances, signed by the caller: 201 and the account entity. */
export async function loadBalances(
  { server, caller }: MarketServer,
  id: number,
): Promise<Record<string, unknown>> {
  const response = await signedPost(
    server,
    `/public/api/ver1/accounts/${id}/load_balances`,
    caller,
  );
  expect(response.status).toBe(201);
  return (await response.json()) as Record<string, unknown>;
}

const TRANSFER_COLUMNS = ['external_id', 'kind', 'asset', 'amount'] as const;
type TransferColumn = (typeof TRANSFER_COLUMNS)[number];

/** The account's stored transfers, `columns` of each, in `orderBy` order. */
export async function storedTransfers<C extends TransferColumn = TransferColumn>(
  server: TestServer,
  id: number,
  columns: readonly C[] = TRANSFER_COLUMNS as readonly TransferColumn[] as readonly C[],
  orderBy: TransferColumn = 'external_id',
) {
  const rows = await server.services.storage.db
    .selectFrom('transfers')
    .select([...TRANSFER_COLUMNS])
    .where('account_id', '=', id)
    .orderBy(orderBy)
    .execute();
  return rows.map(
    (row) =>
      Object.fromEntries(columns.map((column) => [column, row[column]])) as Pick<
        (typeof rows)[number],
        C
      >,
  );
}

/** The account's holdings as [asset, amount, wallets], as account show lists them. */
export async function holdings(server: TestServer, id: number) {
  const details = await accountDetails(server.services.storage, id);
  return details.holdings.map((h) => [h.asset, h.amount, h.wallets]);
}

/** Waits out a sync round (1 s): on-demand syncs share prices read within the last second or so. */
export const nextRound = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1100));

/** A connection refused as record_invalid in the exchange's `words`, and no account stored. */
export async function expectRefusedAndNothingStored(
  server: TestServer,
  response: Response,
  words: string,
): Promise<void> {
  expect(response.status).toBe(400);
  const body = (await response.json()) as { error: string; error_attributes: object };
  expect(body.error).toBe('record_invalid');
  expect(JSON.stringify(body.error_attributes)).toContain(words);
  expect(await server.services.storage.db.selectFrom('accounts').select('id').execute()).toEqual(
    [],
  );
}

/** An on-demand sync of the account now. */
export async function syncNow(server: TestServer, id: number) {
  return server.services.onDemand.syncNow(await server.services.accounts.findAny(id));
}

/**
 * The next sync fails as `kind` (`words` in its last_sync_error, if given) and the account is
 * neither marked invalid nor locked.
 */
export async function expectFailedNotLocked(
  server: TestServer,
  id: number,
  kind: string,
  words?: string,
): Promise<void> {
  expect(await syncNow(server, id)).toMatchObject({ status: 'failed', kind });
  expect(await server.services.accounts.render(id)).toMatchObject({
    api_key_invalid: false,
    is_locked: false,
  });
  if (words !== undefined) {
    expect((await accountDetails(server.services.storage, id)).last_sync_error).toContain(words);
  }
}

/** After the key is revoked at the stand-in: the next sync fails on credentials and locks it. */
export async function expectLockedAfterRevoke(server: TestServer, id: number): Promise<void> {
  expect(await syncNow(server, id)).toMatchObject({ status: 'failed', kind: 'credentials' });
  expect(await server.services.accounts.render(id)).toMatchObject({
    api_key_invalid: true,
    is_locked: true,
    lock_reason: 'invalid_api_key',
  });
}
