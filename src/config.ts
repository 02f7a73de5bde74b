import path from 'node:path';

/** The one typed view of the environment. Everything configurable is read here, once. */
export interface Config {
  port: number;
  host: string;
  /** Where the embedded database, the generated master key and the server's address file live. */
  dataDir: string;
  /** PostgreSQL instead of the embedded PGlite when set. */
  databaseUrl: string | undefined;
  /** Base64 or hex of 32 bytes; generated into the data directory when absent (embedded only). */
  masterKey: string | undefined;
  logLevel: string;
  /** Seed the demo user on an empty database at start (`OPENCOMMAS_DEMO=off` to disable). */
  seedDemoWhenEmpty: boolean;
  sync: SyncConfig;
}

/** How live balances are read: where from, how often, how politely. */
export interface SyncConfig {
  /** Between two scheduled reads of one account (`OPENCOMMAS_SYNC_INTERVAL`, default 5m). */
  intervalMs: number;
  /** Market code → origin replacing every URL ccxt uses for it (`OPENCOMMAS_EXCHANGE_URLS`). */
  exchangeUrls: Record<string, string>;
  /** Market code → ccxt `rateLimit` in ms for this IP (`OPENCOMMAS_EXCHANGE_RATE_LIMITS`). */
  exchangeRateLimits: Record<string, number>;
  /** Per-request timeout towards exchanges and chains (`OPENCOMMAS_EXCHANGE_TIMEOUT`). */
  timeoutMs: number;
  ethRpcUrl: string;
  btcEsploraUrl: string;
  /** Market code of the exchange whose tickers price the wallets (`OPENCOMMAS_PRICE_EXCHANGE`). */
  priceExchange: string;
  /** Accounts one worker process reads at once (`OPENCOMMAS_SYNC_CONCURRENCY`). */
  concurrency: number;
  /** How long a worker holds a claimed account before another may take it over. */
  leaseMs: number;
}

/** The URL a client uses to reach HOST:PORT (IPv6 hosts in brackets). */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  return {
    port: parsePort(env.PORT ?? '3000'),
    host: nonEmpty(env.HOST) ?? '127.0.0.1',
    dataDir: path.resolve(nonEmpty(env.OPENCOMMAS_DATA_DIR) ?? './data'),
    databaseUrl: nonEmpty(env.DATABASE_URL),
    masterKey: nonEmpty(env.OPENCOMMAS_MASTER_KEY),
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    seedDemoWhenEmpty: parseSwitch('OPENCOMMAS_DEMO', env.OPENCOMMAS_DEMO ?? 'on'),
    sync: loadSyncConfig(env),
  };
}

function loadSyncConfig(env: Env): SyncConfig {
  const intervalMs = parseDuration(
    'OPENCOMMAS_SYNC_INTERVAL',
    env.OPENCOMMAS_SYNC_INTERVAL ?? '5m',
  );
  const timeoutMs = parseDuration(
    'OPENCOMMAS_EXCHANGE_TIMEOUT',
    env.OPENCOMMAS_EXCHANGE_TIMEOUT ?? '10s',
  );
  return {
    intervalMs,
    exchangeUrls: parseMap('OPENCOMMAS_EXCHANGE_URLS', env.OPENCOMMAS_EXCHANGE_URLS, parseOrigin),
    exchangeRateLimits: parseMap(
      'OPENCOMMAS_EXCHANGE_RATE_LIMITS',
      env.OPENCOMMAS_EXCHANGE_RATE_LIMITS,
      (name, value) => {
        if (typeof value !== 'number' || !(value >= 0)) {
          throw new ConfigError(`${name} values are ccxt rateLimit milliseconds (>= 0)`);
        }
        return value;
      },
    ),
    timeoutMs,
    ethRpcUrl: parseOrigin(
      'OPENCOMMAS_ETH_RPC_URL',
      nonEmpty(env.OPENCOMMAS_ETH_RPC_URL) ?? 'https://ethereum-rpc.publicnode.com',
      true,
    ),
    btcEsploraUrl: parseOrigin(
      'OPENCOMMAS_BTC_ESPLORA_URL',
      nonEmpty(env.OPENCOMMAS_BTC_ESPLORA_URL) ?? 'https://blockstream.info/api',
      true,
    ),
    priceExchange: nonEmpty(env.OPENCOMMAS_PRICE_EXCHANGE) ?? 'binance',
    concurrency: parseCount('OPENCOMMAS_SYNC_CONCURRENCY', env.OPENCOMMAS_SYNC_CONCURRENCY ?? '32'),
    // Long enough for a slow exchange with retries; a dead worker's accounts wait this long.
    leaseMs: parseDuration('OPENCOMMAS_SYNC_LEASE', env.OPENCOMMAS_SYNC_LEASE ?? '2m'),
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `250ms`, `30s`, `5m`, `1h`; a bare number means seconds. */
export function parseDuration(name: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] ?? 1000) : NaN;
  if (!(ms > 0))
    throw new ConfigError(`${name} must be a duration like 30s, 5m or 1h, got "${text}"`);
  return Math.round(ms);
}

function parseCount(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(`${name} must be a positive integer, got "${text}"`);
  }
  return value;
}

/** An http(s) URL; for an origin override, only scheme, host and port (and maybe a path). */
function parseOrigin(name: string, value: unknown, keepPath = false): string {
  if (typeof value !== 'string') throw new ConfigError(`${name}: expected a URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name}: "${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name}: "${value}" must be http or https`);
  }
  return keepPath ? value.replace(/\/+$/, '') : url.origin;
}

function parseMap<T>(
  name: string,
  text: string | undefined,
  parseValue: (name: string, value: unknown) => T,
): Record<string, T> {
  if (nonEmpty(text) === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    throw new ConfigError(`${name} must be a JSON object such as {"binance": "..."}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${name} must be a JSON object keyed by market code`);
  }
  return Object.fromEntries(
    Object.entries(parsed).map(([market, value]) => [
      market,
      parseValue(`${name}.${market}`, value),
    ]),
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be an integer 0..65535, got "${text}"`);
  }
  return port;
}

function parseSwitch(name: string, text: string): boolean {
  if (['on', 'true', '1', 'yes'].includes(text.toLowerCase())) return true;
  if (['off', 'false', '0', 'no'].includes(text.toLowerCase())) return false;
  throw new ConfigError(`${name} must be on or off, got "${text}"`);
}
