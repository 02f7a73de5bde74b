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
  };
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
