// The CLI's commands as real child processes (`opencommas --json ...`) on
// real storage — a fresh PGlite data directory, or a fresh PostgreSQL database with a master key
// when DATABASE_URL is set — then the real HTTP server, started on the same storage once every
// CLI process has exited, shows that each write took effect.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUIRED_EXCHANGES, REQUIRED_WALLETS } from '../support/markets.ts';
import type { CreatedKey } from '../../src/auth/keys.ts';
import { resolveMasterKey } from '../../src/auth/master-key.ts';
import { createSealer } from '../../src/auth/sealing.ts';
import { loadConfig } from '../../src/config.ts';
import type { CliResult, CliStorage } from '../support/cli.ts';
import { createCliStorage, jsonOut, runCli } from '../support/cli.ts';
import { LIST, signedGet } from '../support/server.ts';

const fixture = (name: string) => path.join('test', 'fixtures', name);
const docsPrivateKey = readFileSync(new URL('../fixtures/docs-rsa-private.pem', import.meta.url), {
  encoding: 'utf8',
});

const EXCHANGE_SECRET = 'cli-exchange-secret-9f8e7d6c5b4a';
const WALLET = '0x742d35cc6634c0532925a3b844bc454e4438f44e';
const HOUR = 3_600_000;

interface UserOut {
  id: number;
  email: string;
  display_currency: string;
  created_at: string;
}
type Entity = Record<string, unknown> & { id: number; name: string };

let storage: CliStorage;
const cli = (...args: string[]): Promise<CliResult> => runCli(storage.env, ['--json', ...args]);

// What the commands created, for the end-to-end check.
let user: UserOut;
let hmacKey: CreatedKey;
let rsaKey: CreatedKey;
let revokedKey: CreatedKey;
let exchange: Entity;
let wallet: Entity;
let demo: { user_id: number; account_ids: number[]; api_key: string; secret: string };

beforeAll(async () => {
  storage = await createCliStorage();
});
afterAll(() => storage.cleanup());

describe('CLI commands (--json)', { timeout: 90_000 }, () => {
  it('user create prints the user, in USD by default or in the display currency asked for', async () => {
    user = jsonOut<UserOut>(await cli('user', 'create', '--email', 'Ada@Example.com'), 'user');
    expect(Object.keys(user).sort()).toEqual(['created_at', 'display_currency', 'email', 'id']);
    expect(user).toMatchObject({ email: 'ada@example.com', display_currency: 'USD' });
    expect(Number.isInteger(user.id) && user.id > 0).toBe(true);
    expect(new Date(user.created_at).toISOString()).toBe(user.created_at);

    const btc = jsonOut<UserOut>(
      await cli('user', 'create', '--email', 'satoshi@example.com', '--display-currency', 'BTC'),
      'btc user',
    );
    expect(btc).toMatchObject({ email: 'satoshi@example.com', display_currency: 'BTC' });
    expect(btc.id).not.toBe(user.id);
  });

  it('key create prints the key with its secret, once; with an RSA public key, no secret', async () => {
    const expires = new Date(Date.now() + 30 * 24 * HOUR).toISOString();
    hmacKey = jsonOut<CreatedKey>(
      await cli(
        'key',
        'create',
        '--user',
        String(user.id),
        '--permissions',
        'ACCOUNTS_READ,ACCOUNTS_WRITE',
        '--ip',
        '127.0.0.1/32',
        '--expires',
        expires,
      ),
      'hmac key',
    );
    expect(hmacKey).toMatchObject({
      user_id: user.id,
      permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
      expires_at: expires,
    });
    expect(hmacKey.api_key).toMatch(/^[0-9a-f]{64}$/);
    expect(hmacKey.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(hmacKey.ip_whitelist).toHaveLength(1);
    expect(hmacKey.ip_whitelist?.[0]).toMatch(/^127\.0\.0\.1(\/32)?$/);

    rsaKey = jsonOut<CreatedKey>(
      await cli(
        'key',
        'create',
        '--user',
        String(user.id),
        '--permissions',
        'ACCOUNTS_READ',
        '--rsa-public-key',
        fixture('docs-rsa-public.pem'),
      ),
      'rsa key',
    );
    expect(rsaKey).not.toHaveProperty('secret');
    expect(rsaKey).toMatchObject({
      user_id: user.id,
      permissions: ['ACCOUNTS_READ'],
      ip_whitelist: null,
      expires_at: null,
    });
    expect(rsaKey.api_key).not.toBe(hmacKey.api_key);
  });

  it('key revoke revokes a key', async () => {
    revokedKey = jsonOut<CreatedKey>(
      await cli('key', 'create', '--user', String(user.id), '--permissions', 'ACCOUNTS_READ'),
      'key to revoke',
    );
    const revoked = jsonOut<{ api_key: string; revoked_at: string }>(
      await cli('key', 'revoke', '--api-key', revokedKey.api_key),
      'revoke',
    );
    expect(revoked.api_key).toBe(revokedKey.api_key);
    expect(Date.parse(revoked.revoked_at)).toBeGreaterThan(Date.now() - HOUR);
  });

  it('account add prints the 61-field Account entity and never echoes the exchange secret', async () => {
    // The secret comes from a file, never from the command line (see bad-input for refusals).
    const secretFile = path.join(storage.dataDir, 'binance.secret');
    writeFileSync(secretFile, EXCHANGE_SECRET + '\n', { mode: 0o600 });
    const result = await cli(
      'account',
      'add',
      '--user',
      String(user.id),
      '--market',
      'binance',
      '--name',
      'Binance main',
      '--api-key',
      'cli-exchange-key',
      '--secret-file',
      secretFile,
      '--no-sync', // illustrative keys; live connection is tested in test/sync
    );
    exchange = jsonOut<Entity>(result, 'exchange account');
    expect(Object.keys(exchange)).toHaveLength(61);
    expect(exchange).toMatchObject({
      name: 'Binance main',
      market_code: 'binance',
      api_key: 'cli-exchange-key',
      usd_amount: '0.0',
    });
    expect(result.stdout).not.toContain(EXCHANGE_SECRET);

    wallet = jsonOut<Entity>(
      await cli(
        'account',
        'add',
        '--user',
        String(user.id),
        '--market',
        'ethereumwallet',
        '--name',
        'Ledger ETH',
        '--address',
        WALLET,
        '--no-sync',
      ),
      'wallet',
    );
    expect(Object.keys(wallet)).toHaveLength(61);
    expect(wallet).toMatchObject({ name: 'Ledger ETH', market_code: 'ethereumwallet' });
    expect(wallet.id).toBeGreaterThan(exchange.id);
  });

  it('balance import and transfer import write whole files and name the accounts', async () => {
    const now = Date.now();
    const at = (hoursAgo: number) => new Date(now - hoursAgo * HOUR).toISOString();
    // Binance: 0.5 BTC at 50 000 two days ago; 0.1 BTC deposited a day and a half ago;
    // 0.6 BTC at 60 000 an hour ago → 36 000 USD now, 6 000 of it profit.
    const balances = [
      {
        account_id: exchange.id,
        at: at(48),
        btc_usd_price: '50000',
        assets: [{ asset: 'BTC', amount: '0.5', usd_price: '50000' }],
      },
      {
        account_id: exchange.id,
        at: at(1),
        btc_usd_price: '60000',
        assets: [
          { asset: 'BTC', amount: '0.6', usd_price: '60000' },
          { asset: 'DUST', amount: '12', usd_price: null },
        ],
      },
      {
        account_id: wallet.id,
        at: at(2),
        btc_usd_price: '60000',
        assets: [{ asset: 'ETH', amount: '2.5', usd_price: '3000.4' }],
      },
    ];
    const transfers = [
      {
        account_id: exchange.id,
        at: at(36),
        asset: 'BTC',
        amount: '0.1',
        usd_price: '50000',
        btc_usd_price: '50000',
        kind: 'deposit',
      },
    ];
    const balanceFile = path.join(storage.dataDir, 'balances.json');
    const transferFile = path.join(storage.dataDir, 'transfers.json');
    writeFileSync(balanceFile, JSON.stringify(balances));
    writeFileSync(transferFile, JSON.stringify(transfers));

    const imported = jsonOut<{ imported: number; accounts: number[] }>(
      await cli('balance', 'import', '--file', balanceFile),
      'balance import',
    );
    expect(imported.imported).toBe(3);
    expect([...imported.accounts].sort((a, b) => a - b)).toEqual([exchange.id, wallet.id]);

    expect(
      jsonOut<{ imported: number; accounts: number[] }>(
        await cli('transfer', 'import', '--file', transferFile),
        'transfer import',
      ),
    ).toEqual({ imported: 1, accounts: [exchange.id], skipped: 0 });
  });

  it('markets lists the supported markets', async () => {
    const markets = jsonOut<Array<{ market_code: string }>>(await cli('markets'), 'markets');
    const codes = markets.map((market) => market.market_code);
    for (const code of [...REQUIRED_EXCHANGES, ...REQUIRED_WALLETS]) {
      expect(codes, code).toContain(code);
    }
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('demo seeds the demo user and prints a fresh key and secret', async () => {
    demo = jsonOut<typeof demo & { email: string }>(await cli('demo'), 'demo');
    expect(Object.keys(demo).sort()).toEqual([
      'account_ids',
      'api_key',
      'email',
      'secret',
      'user_id',
    ]);
    expect(demo.account_ids).toHaveLength(3);
    expect(demo.user_id).not.toBe(user.id);
    expect(demo.api_key).toMatch(/^[0-9a-f]{64}$/);
    expect(demo.secret).toMatch(/^[0-9a-f]{64}$/);
  });

  it('every write shows through the real HTTP server on the same storage', async () => {
    // The CLI used the storage it was given: PGlite files (and the generated master key) in the
    // data directory, or PostgreSQL alone with the given master key.
    const embedded = !storage.databaseUrl;
    expect(existsSync(path.join(storage.dataDir, 'pglite'))).toBe(embedded);
    expect(existsSync(path.join(storage.dataDir, 'master.key'))).toBe(embedded);
    // Every CLI process has exited: on PGlite this process can now open the data directory.
    const server = await storage.startServer();
    try {
      const hmac = { apiKey: hmacKey.api_key, secret: hmacKey.secret ?? '' };
      const response = await signedGet(server, LIST, hmac);
      expect(response.status).toBe(200);
      const accounts = (await response.json()) as Entity[];
      expect(accounts.map((a) => [a.id, a.name, a.market_code])).toEqual([
        [exchange.id, 'Binance main', 'binance'],
        [wallet.id, 'Ledger ETH', 'ethereumwallet'],
      ]);
      const [binance, ledger] = accounts;
      expect(binance).toMatchObject({
        api_key: 'cli-exchange-key',
        usd_amount: '36000.0', // 0.6 × 60 000; the unpriced DUST counts for nothing
        btc_amount: '0.6',
        total_usd_profit: '6000.0', // the deposit is not profit
      });
      expect(ledger).toMatchObject({ usd_amount: '7501.0' }); // 2.5 × 3000.4
      expect(JSON.stringify(accounts)).not.toContain(EXCHANGE_SECRET);

      // The RSA key verifies the docs' RSA signature; the revoked key is refused.
      const rsa = await signedGet(server, LIST, {
        apiKey: rsaKey.api_key,
        rsaPrivateKey: docsPrivateKey,
      });
      expect(rsa.status).toBe(200);
      expect(((await rsa.json()) as Entity[]).map((a) => a.id)).toEqual([exchange.id, wallet.id]);
      const revoked = await signedGet(server, LIST, {
        apiKey: revokedKey.api_key,
        secret: revokedKey.secret ?? '',
      });
      expect(revoked.status).toBe(401);
      expect(((await revoked.json()) as { error: string }).error).toBe(
        'api_key_invalid_or_expired',
      );

      // The demo key lists the demo's three accounts and none of the user's.
      const demoList = await signedGet(server, LIST, {
        apiKey: demo.api_key,
        secret: demo.secret,
      });
      expect(demoList.status).toBe(200);
      expect(((await demoList.json()) as Entity[]).map((a) => a.id)).toEqual(demo.account_ids);

      // The exchange secret is stored sealed, not as given.
      const row = await server.services.storage.db
        .selectFrom('accounts')
        .select(['exchange_api_key', 'exchange_secret_sealed'])
        .where('id', '=', exchange.id)
        .executeTakeFirstOrThrow();
      expect(row.exchange_api_key).toBe('cli-exchange-key');
      expect(row.exchange_secret_sealed).toBeTruthy();
      expect(String(row.exchange_secret_sealed)).not.toContain(EXCHANGE_SECRET);
      // …and it is the file's secret exactly, its trailing line end dropped.
      const sealer = createSealer(resolveMasterKey(loadConfig(storage.env)));
      expect(sealer.open(String(row.exchange_secret_sealed))).toBe(EXCHANGE_SECRET);
    } finally {
      await server.stop();
    }
  });
});
