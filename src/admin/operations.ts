import { Type, type Static, type TSchema } from 'typebox';
import { AddAccountInput, UpdateKeysInput } from '../accounts/accounts.ts';
import { accountDetails } from '../accounts/details.ts';
import { CreateKeyInput, RevokeKeyInput } from '../auth/keys.ts';
import { seedDemo } from '../demo/demo.ts';
import type { Services } from '../services.ts';
import { CreateUserInput, UpdateUserInput } from '../users/users.ts';
import { validate } from '../validation.ts';

/**
 * Everything the CLI can do, as named operations over the services. The CLI runs them in its
 * own process, or — while an embedded server holds the database — through the server's admin
 * API; both paths validate with the same schema and run the same code.
 */
interface Operation {
  input: TSchema;
  run(services: Services, input: unknown): Promise<unknown>;
}

const Records = Type.Object({ records: Type.Unknown() });
const Empty = Type.Object({});
const AccountRef = Type.Object({ account_id: Type.Integer({ minimum: 1 }) });
const UserRef = Type.Object({ user_id: Type.Integer({ minimum: 1 }) });
// Length rules are the password module's, so every way in answers with the same words.
const SetPassword = Type.Object({ user_id: Type.Integer({ minimum: 1 }), password: Type.String() });

/** Pairs a schema with the code it guards; `run` only ever sees input the schema accepted. */
const define = <S extends TSchema>(
  input: S,
  run: (services: Services, input: Static<S>) => Promise<unknown>,
): Operation => ({ input, run: run as Operation['run'] });

export const operations = {
  'user.create': define(CreateUserInput, (s, input) => s.users.create(input)),
  'user.update': define(UpdateUserInput, (s, input) =>
    s.users.setDisplayCurrency(input.user_id, input.display_currency),
  ),
  'user.login-link': define(UserRef, async (s, input) => ({
    user_id: input.user_id,
    ...(await s.sessions.createLoginLink(input.user_id)),
  })),
  'user.password': define(SetPassword, async (s, input) => {
    await s.sessions.setPassword(input.user_id, input.password);
    return { user_id: input.user_id, password_set: true, sessions_ended: true };
  }),
  'key.create': define(CreateKeyInput, (s, input) => s.keys.create(input)),
  'key.revoke': define(RevokeKeyInput, (s, input) => s.keys.revoke(input)),
  'account.add': define(AddAccountInput, (s, input) => s.accounts.add(input)),
  'account.keys': define(UpdateKeysInput, (s, input) => s.accounts.updateKeys(input)),
  'account.show': define(AccountRef, (s, input) => accountDetails(s.storage, input.account_id)),
  'account.sync': define(AccountRef, async (s, input) => {
    const row = await s.accounts.findAny(input.account_id);
    const outcome = await s.onDemand.syncNow(row);
    return { outcome, details: await accountDetails(s.storage, row.id) };
  }),
  'balance.import': define(Records, (s, input) => s.balances.importSnapshots(input.records)),
  'transfer.import': define(Records, (s, input) => s.balances.importTransfers(input.records)),
  'snapshots.prune': define(Empty, (s) => s.retention.prune()),
  'prices.prune': define(Empty, (s) => s.displayPrices.prune()),
  demo: define(Empty, (s) => seedDemo(s)),
} satisfies Record<string, Operation>;

export type OperationName = keyof typeof operations;

export const isOperationName = (name: string): name is OperationName =>
  Object.hasOwn(operations, name);

export async function runOperation(
  services: Services,
  name: OperationName,
  input: unknown,
): Promise<unknown> {
  const operation = operations[name];
  return operation.run(services, validate(operation.input, input, 'Invalid parameters'));
}
