import type { Exchange } from 'ccxt';

export type ExchangeClass = new (config: Record<string, unknown>) => Exchange;

/**
 * ccxt's entry module imports all of its ~120 exchanges (about 0.5 s and 85 MB); one exchange's
 * class costs a third of that. The package exports only its entry, but each class sits beside it
 * as `src/<id>.js` — the very file the entry imports — so the URL is built from the entry's:
 * the classes (and their shared error classes) are the same objects `import ccxt` would give.
 */
const CCXT_ENTRY = import.meta.resolve('ccxt');

export const ccxtModuleUrl = (module: string) => new URL(`./src/${module}.js`, CCXT_ENTRY).href;

const classes = new Map<string, Promise<ExchangeClass>>();

/** The ccxt class of one exchange id (`binance`, `okx`…), imported on first use, then shared. */
export function loadExchangeClass(exchangeId: string): Promise<ExchangeClass> {
  let load = classes.get(exchangeId);
  if (!load) {
    load = importExchangeClass(exchangeId);
    classes.set(exchangeId, load);
  }
  return load;
}

async function importExchangeClass(exchangeId: string): Promise<ExchangeClass> {
  // Ids are ccxt's lower-case names; anything else (a path) is never turned into a URL.
  if (!/^[a-z][a-z0-9]*$/.test(exchangeId)) throw noSuchExchange(exchangeId);
  let module: { default?: unknown };
  try {
    module = (await import(ccxtModuleUrl(exchangeId))) as { default?: unknown };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw noSuchExchange(exchangeId);
    }
    throw error;
  }
  if (typeof module.default !== 'function') throw noSuchExchange(exchangeId);
  return module.default as ExchangeClass;
}

const noSuchExchange = (exchangeId: string) => new Error(`ccxt has no exchange "${exchangeId}"`);
