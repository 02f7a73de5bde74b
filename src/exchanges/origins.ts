// `OPENCOMMAS_EXCHANGE_URLS` points a market at another origin (a testnet, a proxy, a local
// stand-in). ccxt keeps its endpoints as a tree of URL strings under `urls.api`, some with
// `{hostname}` placeholders; rewriting the origin of every string keeps each path intact.

const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/]+/i;

/** A copy of ccxt's `urls.api` tree with the origin of every URL replaced by `origin`. */
export function withOrigin(api: unknown, origin: string): unknown {
  const base = origin.replace(/\/+$/, '');
  if (typeof api === 'string') return api.replace(ORIGIN, base);
  if (Array.isArray(api)) return api.map((entry) => withOrigin(entry, base));
  if (api !== null && typeof api === 'object') {
    return Object.fromEntries(
      Object.entries(api).map(([key, value]) => [key, withOrigin(value, base)]),
    );
  }
  return api;
}
