import { isIP } from 'node:net';
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
  /**
   * Seed the demo user on an empty database at start: `auto` (the default) seeds only on the
   * embedded database; `OPENCOMMAS_DEMO=on` also on PostgreSQL, `off` never.
   */
  demo: 'auto' | 'on' | 'off';
  sync: SyncConfig;
  limits: LimitsConfig;
  http: HttpConfig;
  database: DatabaseConfig;
  /** Where Prometheus metrics are served; null when `OPENCOMMAS_METRICS_PORT=off`. */
  metrics: { port: number; host: string } | null;
  /** How long a SIGTERM/SIGINT may take before the process exits anyway. */
  shutdownGraceMs: number;
  /**
   * API processes `serve` runs on its port (`OPENCOMMAS_PROCESSES`, default 1; more than one
   * needs PostgreSQL): a primary forks that many, each a whole server.
   */
  processes: number;
  sessions: SessionConfig;
}

/** Dashboard sign-in: how long a session and a one-time sign-in link stay valid. */
export interface SessionConfig {
  /** From creation, however active (`OPENCOMMAS_SESSION_TTL`, default 7d). */
  ttlMs: number;
  /** From creation (`OPENCOMMAS_LOGIN_LINK_TTL`, default 15m). */
  loginLinkTtlMs: number;
}

/** 3Commas' request limits and bans, and the cooldown of on-demand syncs. */
export interface LimitsConfig {
  /** Requests per API key per window (`OPENCOMMAS_RATE_LIMIT`, `N/DURATION`); null when `off`. */
  rate: { points: number; windowMs: number } | null;
  /** How long a key (or IP) stays refused once over its limit (`OPENCOMMAS_RATE_LIMIT_BLOCK`). */
  blockMs: number;
  /** Least time between two on-demand syncs of one account (`OPENCOMMAS_SYNC_COOLDOWN`). */
  onDemandCooldownMs: number;
}

/** What the HTTP listener accepts, so slow or huge requests cannot tie it up. */
export interface HttpConfig {
  /**
   * Proxies allowed to name the caller in `X-Forwarded-For` (`OPENCOMMAS_TRUST_PROXY`, CIDRs);
   * empty: the header is ignored.
   */
  trustProxy: string[];
  /** Largest request body in bytes (`OPENCOMMAS_BODY_LIMIT`, default 1 MiB). */
  bodyLimit: number;
  /** Largest request head (request line + headers) in bytes. */
  maxHeaderSize: number;
  /** Whole-request deadline (`OPENCOMMAS_REQUEST_TIMEOUT`, default 30s). */
  requestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this (`OPENCOMMAS_KEEP_ALIVE_TIMEOUT`). */
  keepAliveTimeoutMs: number;
}

/** Pool hygiene towards PostgreSQL. */
export interface DatabaseConfig {
  /** Giving up on opening a connection (`OPENCOMMAS_DB_CONNECT_TIMEOUT`, default 5s). */
  connectTimeoutMs: number;
  /** Longest statement before PostgreSQL cancels it (`OPENCOMMAS_DB_STATEMENT_TIMEOUT`). */
  statementTimeoutMs: number;
  /** Connections per process (`OPENCOMMAS_DB_POOL_SIZE`, default 10). */
  poolSize: number;
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
  /** The oldest prices an on-demand sync values at (`OPENCOMMAS_PRICE_FRESHNESS`, default 5s). */
  freshPricesMs: number;
  /** Which balance snapshots are kept, and how often the worker prunes the rest. */
  retention: RetentionConfig;
}

/** Snapshot retention tiers by age; the window starts, first and latest are always kept. */
export interface RetentionConfig {
  /** Every snapshot younger than this is kept (`OPENCOMMAS_RETENTION_ALL`, default 48h). */
  allMs: number;
  /** Older: one per clock hour up to this age, one per UTC day beyond it
   * (`OPENCOMMAS_RETENTION_HOURLY`, default 31d). */
  hourlyMs: number;
  /** How often each worker prunes (`OPENCOMMAS_PRUNE_INTERVAL`, default 1h); null when `off`. */
  pruneIntervalMs: number | null;
}

/** The URL a client uses to reach HOST:PORT (IPv6 hosts in brackets). */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Embedded PGlite keeps its files under the data directory. */
export const pgliteDir = (config: Pick<Config, 'dataDir'>) => path.join(config.dataDir, 'pglite');

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
    demo: parseDemo(env.OPENCOMMAS_DEMO),
    sync: loadSyncConfig(env),
    limits: loadLimitsConfig(env),
    http: loadHttpConfig(env),
    database: {
      connectTimeoutMs: duration(env, 'OPENCOMMAS_DB_CONNECT_TIMEOUT', '5s'),
      statementTimeoutMs: duration(env, 'OPENCOMMAS_DB_STATEMENT_TIMEOUT', '15s'),
      poolSize: parseCount('OPENCOMMAS_DB_POOL_SIZE', env.OPENCOMMAS_DB_POOL_SIZE ?? '10'),
    },
    metrics: parseMetrics(env),
    shutdownGraceMs: duration(env, 'OPENCOMMAS_SHUTDOWN_GRACE', '10s'),
    processes: parseCount('OPENCOMMAS_PROCESSES', nonEmpty(env.OPENCOMMAS_PROCESSES) ?? '1'),
    sessions: loadSessionConfig(env),
  };
}

/** `config.sessions`; `loadSessionConfig({})` gives the defaults. */
export function loadSessionConfig(env: Env): SessionConfig {
  return {
    ttlMs: duration(env, 'OPENCOMMAS_SESSION_TTL', '7d'),
    loginLinkTtlMs: duration(env, 'OPENCOMMAS_LOGIN_LINK_TTL', '15m'),
  };
}

const duration = (env: Env, name: string, fallback: string) =>
  parseDuration(name, nonEmpty(env[name]) ?? fallback);

function loadLimitsConfig(env: Env): LimitsConfig {
  return {
    rate: parseRate('OPENCOMMAS_RATE_LIMIT', nonEmpty(env.OPENCOMMAS_RATE_LIMIT) ?? '100/1m'),
    blockMs: duration(env, 'OPENCOMMAS_RATE_LIMIT_BLOCK', '5m'),
    onDemandCooldownMs: duration(env, 'OPENCOMMAS_SYNC_COOLDOWN', '30s'),
  };
}

function loadHttpConfig(env: Env): HttpConfig {
  return {
    trustProxy: parseCidrs('OPENCOMMAS_TRUST_PROXY', env.OPENCOMMAS_TRUST_PROXY),
    bodyLimit: parseCount('OPENCOMMAS_BODY_LIMIT', env.OPENCOMMAS_BODY_LIMIT ?? String(1 << 20)),
    maxHeaderSize: 16 * 1024,
    requestTimeoutMs: duration(env, 'OPENCOMMAS_REQUEST_TIMEOUT', '30s'),
    keepAliveTimeoutMs: duration(env, 'OPENCOMMAS_KEEP_ALIVE_TIMEOUT', '5s'),
  };
}

/** `100/1m`: N requests per DURATION; `off` disables limits and bans. */
export function parseRate(name: string, text: string): LimitsConfig['rate'] {
  if (text.toLowerCase() === 'off') return null;
  const [count, window, extra] = text.split('/');
  const points = Number(count);
  if (extra !== undefined || window === undefined || !Number.isInteger(points) || points < 1) {
    throw new ConfigError(`${name} must be N/DURATION (e.g. 100/1m) or off, got "${text}"`);
  }
  return { points, windowMs: parseDuration(name, window) };
}

/** A comma-separated list of IPv4/IPv6 addresses or CIDRs. */
function parseCidrs(name: string, text: string | undefined): string[] {
  const items = (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  for (const item of items) {
    const [address = '', bits, extra] = item.split('/');
    const family = isIP(address);
    const maxBits = family === 6 ? 128 : 32;
    const bitsOk =
      bits === undefined || (/^\d+$/.test(bits) && Number(bits) >= 0 && Number(bits) <= maxBits);
    if (family === 0 || extra !== undefined || !bitsOk) {
      throw new ConfigError(`${name} must list IP addresses or CIDRs, got "${item}"`);
    }
  }
  return items;
}

function parseDemo(text: string | undefined): Config['demo'] {
  const value = nonEmpty(text);
  if (value === undefined || value.toLowerCase() === 'auto') return 'auto';
  return parseSwitch('OPENCOMMAS_DEMO', value) ? 'on' : 'off';
}

function parseMetrics(env: Env): Config['metrics'] {
  const port = nonEmpty(env.OPENCOMMAS_METRICS_PORT) ?? '9464';
  if (port.toLowerCase() === 'off') return null;
  return {
    port: parsePort(port, 'OPENCOMMAS_METRICS_PORT'),
    host: nonEmpty(env.OPENCOMMAS_METRICS_HOST) ?? '127.0.0.1',
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
    freshPricesMs: parseDuration(
      'OPENCOMMAS_PRICE_FRESHNESS',
      env.OPENCOMMAS_PRICE_FRESHNESS ?? '5s',
    ),
    retention: loadRetentionConfig(env),
  };
}

function loadRetentionConfig(env: Env): RetentionConfig {
  const allMs = duration(env, 'OPENCOMMAS_RETENTION_ALL', '48h');
  const hourlyMs = duration(env, 'OPENCOMMAS_RETENTION_HOURLY', '31d');
  if (hourlyMs < allMs) {
    const [all, hourly] = [allMs, hourlyMs].map((ms) => `${ms / 3_600_000}h`);
    throw new ConfigError(
      `OPENCOMMAS_RETENTION_HOURLY (${hourly}) must be at least OPENCOMMAS_RETENTION_ALL (${all})`,
    );
  }
  const interval = nonEmpty(env.OPENCOMMAS_PRUNE_INTERVAL) ?? '1h';
  const pruneIntervalMs =
    interval.toLowerCase() === 'off' ? null : parseDuration('OPENCOMMAS_PRUNE_INTERVAL', interval);
  return { allMs, hourlyMs, pruneIntervalMs };
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `250ms`, `30s`, `5m`, `1h`, `31d`; a bare number means seconds. */
export function parseDuration(name: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
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

function parsePort(text: string, name = 'PORT'): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${name} must be an integer 0..65535, got "${text}"`);
  }
  return port;
}

function parseSwitch(name: string, text: string): boolean {
  if (['on', 'true', '1', 'yes'].includes(text.toLowerCase())) return true;
  if (['off', 'false', '0', 'no'].includes(text.toLowerCase())) return false;
  throw new ConfigError(`${name} must be on or off, got "${text}"`);
}
