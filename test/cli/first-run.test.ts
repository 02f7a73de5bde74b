// The README's first run, for real: `opencommas serve` (what `npm start` runs) on a
// fresh data directory — or, on PostgreSQL runs, a fresh database with a master key and
// OPENCOMMAS_DEMO=on (the demo is seeded by default on the embedded database only) — prints the
// demo credentials and a signed curl that works; the CLI works while the server runs; SIGTERM
// stops it cleanly; a restart seeds nothing new; a second embedded server on the same data is
// refused (on PostgreSQL, a second process serves the same data alongside, as documented).
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliStorage, ServerProcess } from '../support/cli.ts';
import { createCliStorage, jsonError, jsonOut, runCli, spawnServer } from '../support/cli.ts';
import { LIST, signedGet } from '../support/server.ts';
import { lockFileOf, type LockHolder } from '../../src/storage/data-dir-lock.ts';

let storage: CliStorage;
let embedded: boolean;
const started: ServerProcess[] = [];
const WELCOME_DONE = /Manage users, keys and accounts: .*\n/;

function start(): ServerProcess {
  // The demo is seeded by default on the embedded database only; PostgreSQL asks for it.
  const demo: Record<string, string> = embedded ? {} : { OPENCOMMAS_DEMO: 'on' };
  const server = spawnServer({
    ...storage.env,
    ...demo,
    PORT: '0',
    OPENCOMMAS_METRICS_PORT: 'off',
  });
  started.push(server);
  return server;
}

const lockFile = () => lockFileOf(storage.dataDir);

/** The URL the server says it listens on (PORT=0: the real port). */
function listeningUrl(stdout: string): string {
  const match = /^opencommas listening on (http:\/\/127\.0\.0\.1:(\d+)) — storage: (.+)$/m.exec(
    stdout,
  );
  expect(match, stdout).not.toBeNull();
  const [, url = '', port = '', where = ''] = match ?? [];
  expect(Number(port)).toBeGreaterThan(0);
  expect(where).toBe(embedded ? `PGlite in ${storage.dataDir}` : 'PostgreSQL (DATABASE_URL)');
  return url;
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  const exit = await server.exited;
  expect(exit, server.stderr()).toEqual({ code: 0, signal: null });
}

/** What the first start printed. */
let demo: { url: string; apiKey: string; signature: string; accountIds: number[] };
let cliKey: { api_key: string; secret: string };
let firstSignIn: string;
let demoUserId: number;

/** The welcome's one-time dashboard link for the demo user (checked whole), returned. */
function dashboardLink(stdout: string, base: string, userId: number): string {
  const line = /^Open the dashboard: (\S+) {2}\((.+)\)$/m.exec(stdout);
  expect(line, stdout).not.toBeNull();
  const [, link = '', note = ''] = line ?? [];
  expect(link).toMatch(
    new RegExp(`^${base.replace(/[.]/g, '\\.')}/login\\?token=[A-Za-z0-9_-]{43}$`),
  );
  expect(note).toBe(
    `one-time, valid 15 minutes; new one: npm run cli -- user login-link --user ${userId}`,
  );
  return link;
}

beforeAll(async () => {
  storage = await createCliStorage();
  embedded = !storage.databaseUrl;
});
afterAll(async () => {
  for (const server of started) server.kill();
  await Promise.all(started.map((server) => server.exited));
  await storage.cleanup();
});

describe('first run (npm start)', { timeout: 120_000 }, () => {
  it('prints demo credentials and a signed curl that answers with the 3 demo accounts', async () => {
    const server = start();
    const stdout = await server.waitForStdout(WELCOME_DONE);
    const base = listeningUrl(stdout);

    const who = /^Demo user demo@opencommas\.local \(id (\d+)\) with accounts ([\d, ]+)\.$/m.exec(
      stdout,
    );
    expect(who, stdout).not.toBeNull();
    const accountIds = (who?.[2] ?? '').split(', ').map(Number);
    expect(accountIds).toHaveLength(3);
    const apiKey = /^ {2}API key: ([0-9a-f]{64})$/m.exec(stdout)?.[1];
    const secret = /^ {2}Secret: {2}([0-9a-f]{64}) {3}\(shown once; stored sealed\)$/m.exec(
      stdout,
    )?.[1];
    if (!apiKey || !secret) throw new Error(`no demo API key and secret in:\n${stdout}`);

    // The curl line, taken apart and replayed as it stands.
    const curl = /^ {2}curl -s '([^']+)' -H 'Apikey: ([^']+)' -H 'Signature: ([^']+)'$/m.exec(
      stdout,
    );
    expect(curl, stdout).not.toBeNull();
    const [, url = '', curlKey = '', signature = ''] = curl ?? [];
    expect(url).toBe(`${base}${LIST}`);
    expect(curlKey).toBe(apiKey);
    const response = await fetch(url, { headers: { Apikey: curlKey, Signature: signature } });
    expect(response.status).toBe(200);
    const accounts = (await response.json()) as Array<Record<string, unknown>>;
    expect(accounts.map((a) => a.id)).toEqual(accountIds);
    for (const account of accounts) expect(Object.keys(account)).toHaveLength(61);
    expect(accounts.map((a) => a.market_code)).toEqual(['binance', 'bybit_spot', 'ethereumwallet']);
    // The same key signs other requests too: the secret printed is the key's secret.
    expect((await signedGet({ url: base }, `${LIST}?per_page=1`, { apiKey, secret })).status).toBe(
      200,
    );
    demo = { url, apiKey: curlKey, signature, accountIds };
    demoUserId = Number(who?.[1]);
    firstSignIn = dashboardLink(stdout, base, demoUserId);

    if (embedded) {
      expect(statSync(path.join(storage.dataDir, 'master.key')).mode & 0o777).toBe(0o600);
      // The running server holds the data directory's lock, naming itself and its admin socket.
      const info = JSON.parse(readFileSync(lockFile(), 'utf8')) as LockHolder;
      expect(info).toMatchObject({ role: 'server', url: base, pid: server.child.pid });
      expect(info.socket).toBe(path.join(storage.dataDir, 'admin', 'admin.sock'));
      expect(statSync(info.socket ?? '').mode & 0o777).toBe(0o600);
      expect(statSync(path.join(storage.dataDir, 'admin')).mode & 0o777).toBe(0o700);
    } else {
      // PostgreSQL: nothing is kept in the data directory.
      expect(existsSync(path.join(storage.dataDir, 'master.key'))).toBe(false);
      expect(existsSync(lockFile())).toBe(false);
    }
    // No admin API on the public port, whatever is asked.
    const admin = await fetch(`${base}/admin/v1/user.create`, { method: 'POST' });
    expect(admin.status).toBe(404);

    // The CLI while the server runs: on PGlite (one process) it must go through the server's
    // admin socket — the server itself then knows the new key at once.
    const user = jsonOut<{ id: number; email: string }>(
      await runCli(storage.env, ['--json', 'user', 'create', '--email', 'live@example.com']),
      'user create while serving',
    );
    expect(user.email).toBe('live@example.com');
    const key = jsonOut<{ api_key: string; secret: string }>(
      await runCli(storage.env, [
        '--json',
        'key',
        'create',
        '--user',
        String(user.id),
        '--permissions',
        'ACCOUNTS_READ',
      ]),
      'key create while serving',
    );
    const listed = await signedGet({ url: base }, LIST, {
      apiKey: key.api_key,
      secret: key.secret,
    });
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual([]);
    cliKey = key;
    // A refusal keeps its 3Commas shape on the way back from the server.
    const duplicate = await runCli(storage.env, [
      '--json',
      'user',
      'create',
      '--email',
      'live@example.com',
    ]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stdout).toBe('');
    expect(jsonError(duplicate)).toEqual({
      error: 'record_invalid',
      error_description: 'Invalid parameters',
      error_attributes: { email: ['has already been taken'] },
    });

    await stop(server);
    expect(existsSync(lockFile())).toBe(false);
  });

  it('a restart seeds nothing new, hints at `demo`, and keeps the data', async () => {
    const server = start();
    const stdout = await server.waitForStdout(WELCOME_DONE);
    const base = listeningUrl(stdout);
    expect(stdout).not.toMatch(/Demo user|API key:|Secret:|curl /);
    expect(stdout).toContain('New demo credentials: npm run cli -- demo');
    // The demo user is still there: a new one-time link into the dashboard.
    expect(dashboardLink(stdout, base, demoUserId)).not.toBe(firstSignIn);

    // Same data: the first run's demo key (same signature: same path) and the CLI's key work.
    const response = await fetch(`${base}${LIST}`, {
      headers: { Apikey: demo.apiKey, Signature: demo.signature },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Array<{ id: number }>).map((a) => a.id)).toEqual(
      demo.accountIds,
    );
    const cli = await signedGet({ url: base }, LIST, {
      apiKey: cliKey.api_key,
      secret: cliKey.secret,
    });
    expect(cli.status).toBe(200);

    if (embedded) {
      // One embedded server per data directory: a second start is refused, clearly.
      const second = start();
      const exit = await second.exited;
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      expect(second.stderr()).toContain(
        `another opencommas server (pid ${String(server.child.pid)}, ${base}) is using ${storage.dataDir}`,
      );
      expect(second.stdout()).not.toContain('listening');
      // The refusal left the running server's lock alone.
      expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({
        url: base,
        pid: server.child.pid,
      });
    } else {
      // PostgreSQL: a second process serves the same data alongside (scaling out).
      const second = start();
      const other = listeningUrl(await second.waitForStdout(WELCOME_DONE));
      expect(other).not.toBe(base);
      expect(second.stdout()).not.toMatch(/Demo user|API key:/);
      const again = await fetch(`${other}${LIST}`, {
        headers: { Apikey: demo.apiKey, Signature: demo.signature },
      });
      expect(again.status).toBe(200);
      expect(((await again.json()) as unknown[]).length).toBe(3);
      await stop(second);
    }

    await stop(server);
    expect(existsSync(lockFile())).toBe(false);
  });
});
