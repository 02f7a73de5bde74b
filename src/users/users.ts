import { Type, type Static } from 'typebox';
import type { DisplayCurrency } from '../accounts/view.ts';
import { invalid, notFound } from '../errors.ts';
import type { ChangeBus } from '../storage/changes.ts';
import { DISPLAY_CURRENCIES } from '../prices/display-currencies.ts';
import type { Storage } from '../storage/database.ts';
import type { UserRow } from '../storage/schema.ts';

export const CreateUserInput = Type.Object({
  email: Type.String({ minLength: 3, maxLength: 254 }),
  display_currency: Type.Optional(Type.String()),
});
export type CreateUserInput = Static<typeof CreateUserInput>;

export const UpdateUserInput = Type.Object({
  user_id: Type.Integer({ minimum: 1 }),
  display_currency: Type.String(),
});
export type UpdateUserInput = Static<typeof UpdateUserInput>;

export interface UserView {
  id: number;
  email: string;
  display_currency: DisplayCurrency;
  created_at: string;
}

// Deliberately loose: one @, something on each side, a dot in the domain.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class UserService {
  constructor(
    private readonly storage: Storage,
    private readonly changes: ChangeBus,
  ) {}

  async create(input: CreateUserInput): Promise<UserView> {
    const email = input.email.trim().toLowerCase();
    if (!EMAIL.test(email)) throw invalid('email', 'is not an email address');
    const currency = parseDisplayCurrency(input.display_currency ?? 'USD');
    const taken = await this.storage.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', email)
      .executeTakeFirst();
    if (taken) throw invalid('email', 'has already been taken');
    const row = await this.storage.db
      .insertInto('users')
      .values({ email, display_currency: currency })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toView(row);
  }

  async get(id: number): Promise<UserView> {
    const row = await this.storage.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound(`User ${id}`);
    return toView(row);
  }

  async findByEmail(email: string): Promise<UserView | undefined> {
    const row = await this.storage.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', email.toLowerCase())
      .executeTakeFirst();
    return row && toView(row);
  }

  async setDisplayCurrency(id: number, currency: string): Promise<UserView> {
    const display = parseDisplayCurrency(currency);
    const row = await this.changes.transaction(async (tx, announce) => {
      const updated = await tx
        .updateTable('users')
        .set({ display_currency: display })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (updated) announce({ userId: id });
      return updated;
    });
    if (!row) throw notFound(`User ${id}`);
    return toView(row);
  }
}

/** 404 unless the user exists: for services that act on a user by id. */
export async function requireUser(storage: Storage, userId: number): Promise<void> {
  const user = await storage.db
    .selectFrom('users')
    .select('id')
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!user) throw notFound(`User ${userId}`);
}

export function parseDisplayCurrency(text: string): DisplayCurrency {
  const currency = text.trim().toUpperCase();
  if (!DISPLAY_CURRENCIES.includes(currency)) {
    throw invalid(
      'display_currency',
      `"${text}" is not supported; it must be one of ${DISPLAY_CURRENCIES.join(', ')}`,
    );
  }
  return currency;
}

function toView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    display_currency: parseDisplayCurrency(row.display_currency),
    created_at: row.created_at.toISOString(),
  };
}
