// The sync side of the CLI, as real child processes against the Binance-protocol stand-in:
// connecting checks the keys (a refused key is a message and exit 1, and writes nothing),
// `account show` prints the sync state and the balances asset by asset, `account sync` reads
// now and exits non-zero when the exchange refuses.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import { createCliStorage, jsonOut, runCli, type CliStorage } from '../support/cli.ts';

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let storage: CliStorage;
let env: Record<string, string>;
let userId: number;
let accountId: number;

const cli = (...args: string[]) => runCli(env, args);

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '40000');
  binance.addAccount('cli-key', {
    secret: 'cli-secret',
    balances: { BTC: { free: '0.5' }, DUST: { free: '3' } },
  });
  storage = await createCliStorage();
  env = {
    ...storage.env,
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
  };
  userId = jsonOut<{ id: number }>(
    await cli('--json', 'user', 'create', '--email', 'sync@example.com'),
    'user',
  ).id;
}, 60_000);
afterAll(async () => {
  await storage?.cleanup();
  await binance?.close();
});

/** The secret goes in on standard input (`--secret-file -`), as from a password manager. */
const add = (apiKey: string, secret: string) =>
  runCli(
    env,
    [
      'account',
      'add',
      '--user',
      String(userId),
      '--market',
      'binance',
      '--name',
      'Main',
      '--api-key',
      apiKey,
      '--secret-file',
      '-',
      '--json',
    ],
    { input: `${secret}\n` },
  );

describe('CLI: connecting and syncing exchange accounts', { timeout: 120_000 }, () => {
  it('a refused key: the exchange’s reason on stderr, exit 1, nothing on stdout', async () => {
    const result = await add('cli-key', 'wrong-secret');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('refused the API key');
    expect(result.stderr).not.toContain('wrong-secret');
  });

  it('a working key: the entity with the balances already read', async () => {
    const entity = jsonOut<{ id: number; usd_amount: string }>(
      await add('cli-key', 'cli-secret'),
      'account add',
    );
    accountId = entity.id;
    expect(entity.usd_amount).toBe('20000.0'); // 0.5 × 40000; DUST unpriced
  });

  it('account show: health, last sync, and each asset (the unpriced one marked)', async () => {
    const result = await cli('account', 'show', '--id', String(accountId));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`account ${accountId} "Main" on binance: live`);
    expect(result.stdout).toMatch(/last error: none/);
    expect(result.stdout).toMatch(/BTC\s+0\.5\s+20000 USD @ 40000/);
    expect(result.stdout).toMatch(/DUST\s+3\s+no price \(left out of the value\)/);
  });

  it('account sync: reads now; a revoked key exits 1 and show tells what to do', async () => {
    binance.setBalance('cli-key', 'BTC', '0.75');
    const synced = await cli('account', 'sync', '--id', String(accountId));
    expect(synced.code).toBe(0);
    expect(synced.stdout).toMatch(/^synced at /);
    expect(synced.stdout).toMatch(/BTC\s+0\.75/);

    binance.revoke('cli-key');
    const refused = await cli('account', 'sync', '--id', String(accountId));
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('sync failed (credentials)');
    expect(refused.stdout).toContain('Invalid API-key');
    const shown = await cli('account', 'show', '--id', String(accountId));
    expect(shown.stdout).toContain('API key refused by the exchange');
    expect(shown.stdout).toContain('next sync:  not scheduled');
  });

  it('account keys: new keys from a secret file unlock the account and sync again', async () => {
    binance.addAccount('cli-key-2', { secret: 'cli-secret-2', balances: { BTC: { free: '2' } } });
    const secretFile = path.join(storage.dataDir, 'new.secret');
    writeFileSync(secretFile, 'cli-secret-2\n', { mode: 0o600 });
    const replaced = await cli(
      '--json',
      'account',
      'keys',
      '--id',
      String(accountId),
      '--api-key',
      'cli-key-2',
      '--secret-file',
      secretFile,
    );
    const entity = jsonOut<{ api_key_invalid: boolean; usd_amount: string }>(replaced, 'keys');
    expect(entity.api_key_invalid).toBe(false);
    expect(replaced.stdout).not.toContain('cli-secret-2');
    const synced = await cli('account', 'sync', '--id', String(accountId));
    expect(synced.code).toBe(0);
    expect(synced.stdout).toMatch(/BTC\s+2/);
  });
});
