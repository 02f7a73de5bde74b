// The client: every endpoint of the OpenAPI document through `api` (openapi-fetch, typed on the
// generated `paths`), and the common account calls as methods that answer the data or throw.
import createClient, { type Client } from 'openapi-fetch';
import { ThreeCommasError } from './errors.ts';
import type { paths } from './schema.ts';
import type { Credentials } from './signing.ts';
import { DEFAULT_MITIGATION_MS, signingTransport, type RateLimitManners } from './transport.ts';

/** 3Commas itself. For opencommas: `http://HOST:PORT/public/api`. */
export const THREE_COMMAS_BASE_URL = 'https://api.3commas.io/public/api';

type ListQuery = paths['/ver1/accounts']['get']['parameters']['query'];
/** One exchange account or wallet, as GET /ver1/accounts lists it. */
export type Account =
  paths['/ver1/accounts']['get']['responses'][200]['content']['application/json'][number];

export type ClientOptions = Credentials &
  Partial<RateLimitManners> & {
    /** Default: 3Commas (`https://api.3commas.io/public/api`); the only difference for opencommas. */
    baseUrl?: string;
    /** Headers sent with every request, e.g. `{ 'Forced-Mode': 'real' }`. */
    headers?: Record<string, string>;
    /** The fetch to send with (default: Node's global fetch). */
    fetch?: (request: Request) => Promise<Response>;
  };

/** 3Commas' largest page of accounts. */
const MAX_PER_PAGE = 100;

export class ThreeCommasClient {
  /** Every endpoint of the document, typed: `api.GET('/ver1/accounts/{account_id}', …)`. */
  readonly api: Client<paths>;

  constructor(options: ClientOptions) {
    const credentials = (
      options.secret !== undefined
        ? { apiKey: options.apiKey, secret: options.secret }
        : { apiKey: options.apiKey, rsaPrivateKey: options.rsaPrivateKey }
    ) as Credentials;
    this.api = createClient<paths>({
      baseUrl: options.baseUrl ?? THREE_COMMAS_BASE_URL,
      fetch: signingTransport({
        credentials,
        headers: options.headers ?? {},
        fetch: options.fetch ?? ((request) => fetch(request)),
        onRateLimit: options.onRateLimit ?? 'wait',
        mitigationMs: options.mitigationMs ?? DEFAULT_MITIGATION_MS,
        maxWaits: options.maxWaits ?? 3,
      }),
    });
  }

  /** One page of GET /ver1/accounts (ascending by id). */
  async listAccounts(query: Partial<ListQuery> = {}): Promise<Account[]> {
    const { page = 1, per_page = MAX_PER_PAGE, ...rest } = query;
    return data(
      await this.api.GET('/ver1/accounts', { params: { query: { ...rest, page, per_page } } }),
    );
  }

  /** Every page of GET /ver1/accounts, in order; stops after the first short page. */
  async *accountPages(
    query: Omit<Partial<ListQuery>, 'page'> = {},
  ): AsyncGenerator<Account[], void, undefined> {
    const perPage = query.per_page ?? MAX_PER_PAGE;
    for (let page = 1; ; page++) {
      const accounts = await this.listAccounts({ ...query, page, per_page: perPage });
      if (accounts.length > 0) yield accounts;
      if (accounts.length < perPage) return;
    }
  }

  /** Every account of every page of GET /ver1/accounts. */
  async *accounts(
    query: Omit<Partial<ListQuery>, 'page'> = {},
  ): AsyncGenerator<Account, void, undefined> {
    for await (const page of this.accountPages(query)) yield* page;
  }

  /** GET /ver1/accounts/{account_id}. */
  async account(accountId: number): Promise<Account> {
    return data(
      await this.api.GET('/ver1/accounts/{account_id}', {
        params: { path: { account_id: accountId } },
      }),
    );
  }

  /** POST /ver1/accounts/{account_id}/load_balances: reads the exchange now, answers the account. */
  async loadBalances(accountId: number): Promise<Account> {
    return data(
      await this.api.POST('/ver1/accounts/{account_id}/load_balances', {
        params: { path: { account_id: accountId } },
      }),
    );
  }
}

/**
 * The data of an openapi-fetch answer. Error answers were already thrown as typed errors by the
 * transport, so a missing body here is a success without one, which these calls never expect.
 */
export function data<T>(answer: { data?: T; response: Response }): T {
  if (answer.data === undefined) {
    throw new ThreeCommasError(answer.response.status, 'empty_response', 'The answer had no body');
  }
  return answer.data;
}
