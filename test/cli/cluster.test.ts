import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHmac } from '../../src/auth/signature.ts';
import { loadConfig } from '../../src/config.ts';
import { createServices } from '../../src/services.ts';
import { openStorage } from '../../src/storage/database.ts';
import { runCli, spawnServer, type ServerProcess } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startFakeBinance, type FakeBinance } from '../support/exchanges/binance-server.ts';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres.ts';
import { scrape } from '../ops/prometheus.ts';
import { LIST, signedPost, userWithKey, type Credentials } from '../support/server.ts';

// `opencommas serve --processes 2` on PostgreSQL: a primary and exactly two children answering on
// one port, each counted on its own metrics port (base, base + 1); a child killed is replaced
// while the other answers; SIGTERM stops them all, exit 0, and Ctrl-C (the signal reaching every
// process) too; a second signal or the grace exceeded ends them all at once (143, 1); children
// that cannot reach the database make the primary give up (1). PostgreSQL is needed on both
// suite runs: without DATABASE_URL the test starts a cluster of its own. On the embedded
// database several processes are refused before anything starts (2).

/** Accounts whose exchange never answers: a request reading one is in flight until the end. */
const STUCK_KEYS = ['stuck-1', 'stuck-2'];

let postgres: OwnPostgres | undefined;
let database: TestDatabase | undefined;
let dataDir: string;
let env: Record<string, string>;
let caller: Credentials;
let metricsBase: number;
let server: ServerProcess | undefined;
let binance: FakeBinance;
const stuck: number[] = [];

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  for (const key of STUCK_KEYS) {
    binance.addAccount(key, { secret: 's', balances: { BTC: { free: '1' } } });
    binance.fail({ kind: 'timeout', path: '/api/v3/account', apiKey: key, times: Infinity });
  }
  database = await createTestDatabase();
  if (!database.url) postgres = await startOwnPostgres();
  const databaseUrl = database.url ?? postgres?.url ?? '';
  const masterKey = randomBytes(32);
  const services = await createServices(await openStorage({ databaseUrl }), masterKey, {
    sync: loadConfig({}).sync,
  });
  const owner = await userWithKey(services, { permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'] });
  caller = owner.credentials;
  for (const key of STUCK_KEYS) {
    const account = await services.accounts.add({
      user_id: owner.user.id,
      market_code: 'binance',
      name: key,
      api_key: key,
      secret: 's',
      sync: false,
    });
    stuck.push(account.id);
  }
  await services.close();
  dataDir = mkdtempSync(path.join(tmpdir(), 'opencommas-cluster-'));
  metricsBase = await twoFreePorts();
  env = {
    DATABASE_URL: databaseUrl,
    OPENCOMMAS_MASTER_KEY: masterKey.toString('base64'),
    OPENCOMMAS_DATA_DIR: dataDir,
    PORT: '0',
    OPENCOMMAS_DEMO: 'off',
    OPENCOMMAS_RATE_LIMIT: 'off',
    OPENCOMMAS_METRICS_PORT: String(metricsBase),
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    // Longer than any shutdown here: the stuck requests never end on their own.
    OPENCOMMAS_EXCHANGE_TIMEOUT: '120s',
    LOG_LEVEL: 'info',
  };
});

afterAll(async () => {
  server?.kill();
  if (server) await server.exited;
  await database?.drop();
  await postgres?.destroy();
  await binance?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('serve --processes 2 on PostgreSQL', () => {
  let primary: number;
  /** Child pid by slot, as the primary last reported it ready. */
  const ready = new Map<number, number>();

  it('runs exactly two children on one port; requests all answer, and both children serve', async () => {
    primary = await startCluster();
    for (const [slot, pid] of readyChildren(server)) ready.set(slot, pid);
    expect(childrenOf(primary).sort()).toEqual([...ready.values()].sort());
    // The welcome is the primary's, once.
    expect(server?.stdout().match(/opencommas listening on/g)).toHaveLength(1);

    const statuses = await requests(20);
    expect(statuses).toEqual(Array(20).fill(200));
    const served = await Promise.all([0, 1].map((slot) => servedBy(metricsBase + slot)));
    expect(served[0]).toBeGreaterThan(0);
    expect(served[1]).toBeGreaterThan(0);
    expect((served[0] ?? 0) + (served[1] ?? 0)).toBe(20);
  }, 120_000);

  it('replaces a child killed with SIGKILL; requests keep answering meanwhile', async () => {
    const killed = ready.get(1) ?? 0;
    process.kill(killed, 'SIGKILL');
    await until('the primary to see the child die', () =>
      logLines(server).some((line) => line.msg?.includes('exited') && line.childPid === killed),
    );
    expect(await requests(10)).toEqual(Array(10).fill(200));
    await until('a new child in its slot', () => {
      const pid = readyChildren(server).get(1);
      return pid !== undefined && pid !== killed;
    });
    const replacement = readyChildren(server).get(1) ?? 0;
    expect(childrenOf(primary).sort()).toEqual([ready.get(0), replacement].sort());
    expect(isRunning(killed)).toBe(false);

    // The new child serves, counted on its slot's metrics port from zero.
    expect(await requests(10)).toEqual(Array(10).fill(200));
    expect(await servedBy(metricsBase + 1)).toBeGreaterThan(0);
    ready.set(1, replacement);
  }, 120_000);

  it('SIGTERM to the primary stops every child; exit 0, nothing left running', async () => {
    const running = server;
    if (!running) throw new Error('no server');
    const children = childrenOf(primary);
    expect(children).toHaveLength(2);
    running.child.kill('SIGTERM');
    expect(await running.exited).toEqual({ code: 0, signal: null });
    for (const pid of children) expect(isRunning(pid)).toBe(false);
    const stopped = logLines(running).filter((line) => line.msg === 'stopped');
    // Both children and the primary said so.
    expect(new Set(stopped.map((line) => line.pid))).toEqual(new Set([primary, ...children]));
    server = undefined;
  }, 120_000);
});

describe('stopping serve --processes 2', () => {
  it('Ctrl-C (SIGINT to the primary and every child at once) is one stop for each: exit 0', async () => {
    const primary = await startCluster({ OPENCOMMAS_METRICS_PORT: 'off' });
    const children = childrenOf(primary);
    for (const pid of [primary, ...children]) process.kill(pid, 'SIGINT');
    expect(await server?.exited).toEqual({ code: 0, signal: null });
    expect(server?.stdout()).not.toMatch(/second signal/);
    for (const pid of children) expect(isRunning(pid)).toBe(false);
    server = undefined;
  }, 120_000);

  it('a second signal to the primary ends every child and exits at once: 143', async () => {
    const primary = await startCluster({
      OPENCOMMAS_METRICS_PORT: 'off',
      OPENCOMMAS_SHUTDOWN_GRACE: '120s',
    });
    const children = childrenOf(primary);
    const inFlight = stuckRequest(0);
    await until('the request reading', () => (binance.stats.byKey['stuck-1'] ?? 0) >= 1);
    process.kill(primary, 'SIGTERM');
    await until('both children stopping', () => stopping(children));
    process.kill(primary, 'SIGTERM');
    // Not the grace's 1: the second signal's 128 + 15.
    expect(await server?.exited).toEqual({ code: 143, signal: null });
    expect(server?.stdout()).toMatch(/second signal: exiting at once/);
    for (const pid of children) expect(isRunning(pid)).toBe(false);
    await inFlight;
    server = undefined;
  }, 120_000);

  it('a stop past OPENCOMMAS_SHUTDOWN_GRACE exits 1, saying so; no child left', async () => {
    const primary = await startCluster({
      OPENCOMMAS_METRICS_PORT: 'off',
      OPENCOMMAS_SHUTDOWN_GRACE: '1s',
    });
    const children = childrenOf(primary);
    const inFlight = stuckRequest(1);
    await until('the request reading', () => (binance.stats.byKey['stuck-2'] ?? 0) >= 1);
    process.kill(primary, 'SIGTERM');
    expect(await server?.exited).toEqual({ code: 1, signal: null });
    expect(server?.stdout()).toMatch(/shutdown took longer than OPENCOMMAS_SHUTDOWN_GRACE/);
    for (const pid of children) expect(isRunning(pid)).toBe(false);
    await inFlight;
    server = undefined;
  }, 120_000);
});

describe('children that cannot start', () => {
  it('the database unreachable: restarted a few times, then the primary gives up with exit 1', async () => {
    // Port 1 on loopback: nothing listens, every connection is refused.
    const result = await runCli({ ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }, [
      'serve',
      '--processes',
      '2',
    ]);
    expect(result.code).toBe(1);
    const lines = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
    const messages = lines.map((line) => line.msg);
    expect(
      messages.filter((msg) => msg === 'child exited before serving: restarting it'),
    ).toHaveLength(4);
    expect(messages).toContain('children keep exiting before they serve: giving up');
    // Never got as far as the second child, nor the welcome.
    expect(new Set(lines.map((line) => line.child).filter((slot) => slot !== undefined))).toEqual(
      new Set([0]),
    );
    expect(result.stdout).not.toMatch(/listening on/);
  }, 120_000);
});

describe('serve --processes 2 on the embedded database', () => {
  it.each([
    ['--processes 2', ['serve', '--processes', '2'], {}],
    ['OPENCOMMAS_PROCESSES=2', ['serve'], { OPENCOMMAS_PROCESSES: '2' }],
  ])('%s is refused at once: exit 2, nothing started', async (_, args, extra) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'opencommas-cluster-pglite-'));
    try {
      const result = await runCli({ OPENCOMMAS_DATA_DIR: dir, ...extra }, args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/2 processes .* need PostgreSQL \(set DATABASE_URL\)/);
      expect(result.stdout).toBe('');
      // No database, no master key: nothing was opened.
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** `serve --processes 2 --no-worker` with both children serving; the primary's pid. */
async function startCluster(extra: Record<string, string> = {}): Promise<number> {
  server = spawnServer({ ...env, ...extra }, ['serve', '--processes', '2', '--no-worker']);
  await server.waitForStdout(/listening on (http:\/\/\S+)/);
  await until('both children ready', () => readyChildren(server).size === 2);
  return server.child.pid ?? 0;
}

/** A request that reads stuck account `index` and is answered only if the server ends it. */
function stuckRequest(index: number): Promise<unknown> {
  const target = `/public/api/ver1/accounts/${stuck[index]}/load_balances`;
  return signedPost({ url: apiUrl() }, target, caller).catch(() => undefined);
}

/** Whether every one of `children` has logged that it is shutting down. */
function stopping(children: number[]): boolean {
  const lines = logLines(server).filter((line) => line.msg === 'shutting down');
  return children.every((pid) => lines.some((line) => line.pid === pid));
}

interface LogLine {
  msg?: string;
  pid?: number;
  child?: number;
  childPid?: number;
}

/** The structured lines (pino JSON) of the primary and its children, all on one stdout. */
function logLines(running: ServerProcess | undefined): LogLine[] {
  return (running?.stdout() ?? '')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** Slot → pid of each child the primary last reported ready, unless it has exited since. */
function readyChildren(running: ServerProcess | undefined): Map<number, number> {
  const children = new Map<number, number>();
  for (const line of logLines(running)) {
    if (line.child === undefined || line.childPid === undefined) continue;
    if (line.msg === 'child ready') children.set(line.child, line.childPid);
    else if (line.msg?.includes('exited') && children.get(line.child) === line.childPid) {
      children.delete(line.child);
    }
  }
  return children;
}

/** Pids of the live processes whose parent is `parent` (from /proc). */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) === parent && state !== 'Z') children.push(Number(entry));
  }
  return children;
}

/** Alive: a process that has exited but is not yet reaped (a zombie) does not count. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * `count` signed GETs of the accounts list one after another, each on a new connection (the
 * primary hands each connection to the next child); their statuses.
 */
async function requests(count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i += 1) statuses.push(await signedGetOnNewConnection(LIST));
  return statuses;
}

/** The API's URL, as the welcome printed it. */
const apiUrl = () => /listening on (http:\/\/\S+)/.exec(server?.stdout() ?? '')?.[1] ?? '';

function signedGetOnNewConnection(target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = request(
      `${apiUrl()}${target}`,
      {
        agent: false,
        headers: { Apikey: caller.apiKey, Signature: signHmac(caller.secret ?? '', target) },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    call.on('error', reject);
    call.end();
  });
}

/** Signed list requests a child answered 200, from its own metrics listener. */
async function servedBy(metricsPort: number): Promise<number> {
  const scraped = await scrape(`http://127.0.0.1:${metricsPort}`);
  const labels = { route: LIST, method: 'GET', status: '200' };
  return scraped.value('opencommas_http_requests_total', labels) ?? 0;
}

/** Polls `check` until true; the bound only guards a hang (load can only lengthen the wait). */
async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(
        `not within ${timeoutMs} ms: ${what}\n${server?.stdout()}\n${server?.stderr()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A port p such that p and p + 1 are both free now: the two children's metrics ports. */
async function twoFreePorts(): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await isFree(base)) && (await isFree(base + 1))) return base;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
