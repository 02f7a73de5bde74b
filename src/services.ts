import { AccountService } from './accounts/accounts.ts';
import { AccountLister } from './accounts/list.ts';
import { ApiKeyService } from './auth/keys.ts';
import { KeyStore } from './auth/key-store.ts';
import { createSealer } from './auth/sealing.ts';
import { BalanceImporter } from './balances/import.ts';
import { ChangeBus } from './storage/changes.ts';
import type { Storage } from './storage/database.ts';
import { UserService } from './users/users.ts';

/** Every domain service, wired once. HTTP and CLI receive this and call into it. */
export interface Services {
  storage: Storage;
  changes: ChangeBus;
  users: UserService;
  keys: ApiKeyService;
  keyStore: KeyStore;
  accounts: AccountService;
  lister: AccountLister;
  balances: BalanceImporter;
  close(): Promise<void>;
}

export async function createServices(storage: Storage, masterKey: Buffer): Promise<Services> {
  const sealer = createSealer(masterKey);
  const changes = new ChangeBus(storage);
  const keyStore = new KeyStore(storage, sealer);
  const lister = new AccountLister(storage);
  changes.subscribe((change) => {
    keyStore.onChange(change);
    if (change.everything) lister.cache.invalidateAll();
    else if (change.userId !== undefined) lister.cache.invalidate(change.userId);
  });
  await changes.start();
  return {
    storage,
    changes,
    users: new UserService(storage, changes),
    keys: new ApiKeyService(storage, sealer, changes),
    keyStore,
    accounts: new AccountService(storage, sealer, changes),
    lister,
    balances: new BalanceImporter(storage, changes),
    async close() {
      await keyStore.flushLastUsed();
      await storage.close();
    },
  };
}
