import { createHmac } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../config.ts';
import { generateMasterKey, parseMasterKey } from './sealing.ts';

export const MASTER_KEY_FILE = 'master.key';

/**
 * The key that seals secrets at rest. From OPENCOMMAS_MASTER_KEY when set; in the embedded
 * default, generated once into the data directory, readable by the owner only.
 */
export function resolveMasterKey(config: Config): Buffer {
  if (config.masterKey) return parseMasterKey(config.masterKey);
  if (config.databaseUrl) {
    throw new ConfigError(
      'OPENCOMMAS_MASTER_KEY is required with DATABASE_URL (32 bytes, base64 or hex; e.g. `openssl rand -base64 32`)',
    );
  }
  const file = path.join(config.dataDir, MASTER_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, generateMasterKey() + '\n', { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  return parseMasterKey(readFileSync(file, 'utf8').trim());
}

/** The admin API's bearer token: derived from the master key, so server and CLI agree. */
export function adminToken(masterKey: Buffer): string {
  return createHmac('sha256', masterKey).update('opencommas admin token v1').digest('hex');
}
