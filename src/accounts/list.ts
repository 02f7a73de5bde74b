import build from 'fast-json-stringify';
import { sql } from 'kysely';
import { Type, type Static } from 'typebox';
import type { ChangeFeed } from '../cache/bounded-cache.ts';
import type { Storage } from '../storage/database.ts';
import { PageCache } from './page-cache.ts';
import { notFound } from '../errors.ts';
import { renderAccounts, toJsonBytes } from './render.ts';
import { renderSummary, SummaryEntity } from './summary.ts';
import type { DisplayCurrency } from './view.ts';

/** The query of GET /ver1/accounts, as the seed documents it. */
export const ListAccountsQuery = Type.Object({
  api_key: Type.Optional(Type.String({ description: 'Only accounts with this exchange API key' })),
  page: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 1 }),
  per_page: Type.Integer({ minimum: 1, maximum: 100, default: 100 }),
});
export type ListAccountsQuery = Static<typeof ListAccountsQuery>;

/**
 * Serves the caller's accounts page as JSON bytes: from the cache when nothing changed and no
 * window boundary passed, otherwise from storage (then cached).
 */
export class AccountLister {
  readonly cache: PageCache;

  constructor(
    private readonly storage: Storage,
    feed?: ChangeFeed,
  ) {
    this.cache = new PageCache(feed);
  }

  async page(userId: number, query: ListAccountsQuery, now = Date.now()): Promise<Buffer> {
    const key = `${query.page}|${query.per_page}|${query.api_key ?? ''}`;
    const cached = this.cache.get(userId, key, now);
    if (cached) return cached;

    const ticket = this.cache.ticket();
    const currency = await this.displayCurrencyOf(userId);
    const rows = await this.storage.db
      .selectFrom('accounts')
      .selectAll()
      .where('user_id', '=', userId)
      // A blank api_key filters nothing, as 3Commas treats blank parameters.
      .$if(Boolean(query.api_key), (q) =>
        q.where(
          sql<string>`coalesce(exchange_api_key, wallet_address, '')`,
          '=',
          query.api_key ?? '',
        ),
      )
      .orderBy('id')
      .limit(query.per_page)
      .offset((query.page - 1) * query.per_page)
      .execute();
    const { entities, validUntil } = await renderAccounts(
      this.storage,
      rows,
      currency,
      new Date(now),
    );
    const body = toJsonBytes(entities);
    this.cache.set(userId, ticket, key, body, validUntil ?? Number.POSITIVE_INFINITY, now);
    return body;
  }

  /**
   * GET /ver1/accounts/summary as JSON bytes, from the same cache as the pages and dropped with
   * them on any write of the user's, or when its figures would change by themselves.
   */
  async summary(userId: number, now = Date.now()): Promise<Buffer> {
    const cached = this.cache.get(userId, SUMMARY_KEY, now);
    if (cached) return cached;
    const ticket = this.cache.ticket();
    const currency = await this.displayCurrencyOf(userId);
    const { entity, validUntil } = await renderSummary(
      this.storage,
      userId,
      currency,
      new Date(now),
    );
    const body = Buffer.from(serializeSummary(entity));
    this.cache.set(userId, ticket, SUMMARY_KEY, body, validUntil ?? Number.POSITIVE_INFINITY, now);
    return body;
  }

  private async displayCurrencyOf(userId: number): Promise<DisplayCurrency> {
    const user = await this.storage.db
      .selectFrom('users')
      .select('display_currency')
      .where('id', '=', userId)
      .executeTakeFirst();
    if (!user) throw notFound(`User ${userId}`);
    return user.display_currency as DisplayCurrency;
  }
}

/** Not a page key (those start with the page number). */
const SUMMARY_KEY = 'summary';

// Compiled once from the summary's schema, as the list's serializer is from the list's.
const serializeSummary = build(SummaryEntity as object);
