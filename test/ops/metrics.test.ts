import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import { OPENCOMMAS, ROOT, childEnv } from '../support/cli.ts';
import { createTestDatabase, dropDatabaseAt, onPostgres } from '../support/database.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import {
  LIST,
  signedGet,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';
import { cutStorage } from './cut-storage.ts';
import { scrape } from './prometheus.ts';

// What an operator's Prometheus sees, scraped from the metrics listener of a real server: the
// HTTP traffic by route pattern, the sync worker and the exchanges' pushback, the pool, the
// event loop.

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let server: TestServer;
let metricsUrl: string;
let caller: Credentials;
let userId: number;

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  server = await startTestServer(
    {
      OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
      OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
      OPENCOMMAS_EXCHANGE_TIMEOUT: '1s',
      OPENCOMMAS_SYNC_INTERVAL: '1h',
    },
    { metrics: true },
  );
  metricsUrl = server.metricsUrl ?? '';
  const owner = await userWithKey(server.services);
  caller = owner.credentials;
  userId = owner.user.id;
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
});

let keys = 0;
/** An account on the Binance stand-in, on a key of its own. */
async function connected(): Promise<{ id: number; apiKey: string }> {
  keys += 1;
  const apiKey = `metrics-key-${keys}`;
  binance.addAccount(apiKey, { secret: `secret-${keys}`, balances: { BTC: { free: '1' } } });
  const entity = await server.services.accounts.add({
    user_id: userId,
    market_code: 'binance',
    name: apiKey,
    api_key: apiKey,
    secret: `secret-${keys}`,
  });
  return { id: entity.id, apiKey };
}

const syncNow = async (id: number) =>
  server.services.onDemand.syncNow(await server.services.accounts.findAny(id));

const count = async (name: string, labels: Record<string, string> = {}) =>
  (await scrape(metricsUrl)).value(name, labels) ?? 0;

describe('the metrics listener', () => {
  it('serves Prometheus text on its own port, not on the API port', async () => {
    const response = await fetch(`${metricsUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect((await fetch(`${metricsUrl}/other`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });

  it('counts a signed request by route pattern and status, with a sub-millisecond histogram', async () => {
    const labels = { route: '/public/api/ver1/accounts', method: 'GET', status: '200' };
    const before = await count('opencommas_http_requests_total', labels);
    expect((await signedGet(server, LIST, caller)).status).toBe(200);
    const after = await scrape(metricsUrl);
    expect(after.value('opencommas_http_requests_total', labels)).toBe(before + 1);
    const histogram = { route: '/public/api/ver1/accounts', method: 'GET' };
    for (const le of ['0.0001', '0.00025', '0.0005', '0.001', '+Inf']) {
      expect(
        after.value('opencommas_http_request_duration_seconds_bucket', { ...histogram, le }),
      ).toBeDefined();
    }
    expect(after.value('opencommas_http_request_duration_seconds_count', histogram)).toBe(
      before + 1,
    );
  });

  it('labels by the pattern, never the raw URL', async () => {
    const { id } = await connected();
    expect((await signedGet(server, `/public/api/ver1/accounts/${id}`, caller)).status).toBe(200);
    expect((await fetch(`${server.url}/no/such/${randomBytes(4).toString('hex')}`)).status).toBe(
      404,
    );
    const after = await scrape(metricsUrl);
    expect(
      after.value('opencommas_http_requests_total', {
        route: '/public/api/ver1/accounts/:account_id',
        status: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      after.value('opencommas_http_requests_total', { route: 'unmatched', status: '404' }),
    ).toBeGreaterThanOrEqual(1);
    expect(after.text).not.toContain(`/public/api/ver1/accounts/${id}"`);
    expect(after.text).not.toContain('/no/such/');
  });

  it('counts cache lookups: a repeated request is a hit in the key, signature and page caches', async () => {
    const lookups = (cache: string, result: string) =>
      count('opencommas_cache_lookups_total', { cache, result });
    const target = `${LIST}?per_page=7`;
    expect((await signedGet(server, target, caller)).status).toBe(200);
    const before = {
      keys: await lookups('keys', 'hit'),
      signatures: await lookups('signatures', 'hit'),
      pages: await lookups('pages', 'hit'),
    };
    expect((await signedGet(server, target, caller)).status).toBe(200);
    expect(await lookups('keys', 'hit')).toBe(before.keys + 1);
    expect(await lookups('signatures', 'hit')).toBe(before.signatures + 1);
    expect(await lookups('pages', 'hit')).toBe(before.pages + 1);
  });

  it('reports each cache’s bytes against its byte budget', async () => {
    const response = await signedGet(server, `${LIST}?per_page=11`, caller);
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    const after = await scrape(metricsUrl);
    // The new page is held (its bytes and then some for its key and bookkeeping).
    expect(after.value('opencommas_cache_bytes', { cache: 'pages' })).toBeGreaterThan(body.length);
    for (const cache of ['keys', 'signatures', 'pages']) {
      const budget = after.value('opencommas_cache_budget_bytes', { cache }) ?? 0;
      expect(budget, cache).toBeGreaterThan(0);
      expect(after.value('opencommas_cache_bytes', { cache }), cache).toBeLessThanOrEqual(budget);
    }
  });

  it('counts refusals by status, and exposes the cache and limit counters', async () => {
    const labels = { route: '/public/api/ver1/accounts', status: '401' };
    const before = await count('opencommas_http_requests_total', labels);
    const stranger = { apiKey: randomBytes(32).toString('hex'), secret: 'nope' };
    expect((await signedGet(server, LIST, stranger)).status).toBe(401);
    const after = await scrape(metricsUrl);
    expect(after.value('opencommas_http_requests_total', labels)).toBe(before + 1);
    for (const name of [
      'opencommas_cache_lookups_total',
      'opencommas_rate_limit_refusals_total',
      'opencommas_ip_bans_total',
    ]) {
      expect(after.text).toContain(`# TYPE ${name} counter`);
    }
  });

  it('reports the event loop, the process and the database', async () => {
    const metrics = await scrape(metricsUrl);
    expect(metrics.value('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(metrics.value('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(metrics.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(metrics.value('opencommas_database_up')).toBe(1);
    const total = metrics.value('opencommas_db_pool_connections', { state: 'total' });
    if (onPostgres) {
      expect(total).toBeGreaterThanOrEqual(1);
      expect(metrics.value('opencommas_db_pool_connections', { state: 'idle' })).toBeDefined();
      expect(
        metrics.value('opencommas_db_pool_connections', { state: 'waiting' }),
      ).toBeGreaterThanOrEqual(0);
    } else {
      expect(total).toBeUndefined(); // PGlite has one connection and no pool
    }
  });
});

describe('limit metrics', () => {
  it('counts a key over its rate as a refusal, and its 429', async () => {
    const limited = await startTestServer({ OPENCOMMAS_RATE_LIMIT: '2/1m' });
    try {
      const { credentials } = await userWithKey(limited.services);
      const refusals = { reason: 'key' };
      const answers = { route: '/public/api/ver1/accounts', status: '429' };
      const before = {
        refusals: await count('opencommas_rate_limit_refusals_total', refusals),
        answers: await count('opencommas_http_requests_total', answers),
      };
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await signedGet(limited, LIST, credentials)).status);
      expect(statuses).toEqual([200, 200, 429]);
      expect(await count('opencommas_rate_limit_refusals_total', refusals)).toBe(
        before.refusals + 1,
      );
      expect(await count('opencommas_http_requests_total', answers)).toBe(before.answers + 1);
    } finally {
      await limited.close();
    }
  });
});

describe('sync metrics', () => {
  it('counts on-demand syncs by outcome', async () => {
    const synced = { outcome: 'synced', trigger: 'on_demand' };
    const failed = { outcome: 'failed', trigger: 'on_demand' };
    const before = { synced: await count('opencommas_sync_accounts_total', synced) };
    const { id, apiKey } = await connected();
    expect((await syncNow(id)).status).toBe('synced');
    const failedBefore = await count('opencommas_sync_accounts_total', failed);
    binance.fail({ kind: 'status500', path: '/api/v3/account', apiKey, times: 3 });
    expect((await syncNow(id)).status).toBe('failed');
    expect(await count('opencommas_sync_accounts_total', synced)).toBe(before.synced + 1);
    expect(await count('opencommas_sync_accounts_total', failed)).toBe(failedBefore + 1);
  });

  it.each([
    ['rateLimit429', '429'],
    ['ban418', '418'],
  ] as const)('counts an exchange %s by market', async (kind, status) => {
    const labels = { market: 'binance', status };
    const before = await count('opencommas_exchange_rate_limited_total', labels);
    const { id, apiKey } = await connected();
    binance.fail({ kind, path: '/api/v3/account', apiKey, times: 1, retryAfterSeconds: 1 });
    // Retried after the exchange's Retry-After, within the same sync.
    expect((await syncNow(id)).status).toBe('synced');
    expect(await count('opencommas_exchange_rate_limited_total', labels)).toBe(before + 1);
  });

  it('reports the backlog: accounts due and how late the oldest is', async () => {
    const { id } = await connected();
    const hourAgo = new Date(Date.now() - 3600_000);
    await server.services.storage.db
      .updateTable('accounts')
      .set({ next_sync_at: hourAgo, claimed_until: null, claimed_by: null })
      .where('id', '=', id)
      .execute();
    const metrics = await scrape(metricsUrl);
    expect(metrics.value('opencommas_sync_accounts_due')).toBeGreaterThanOrEqual(1);
    expect(metrics.value('opencommas_sync_lag_seconds')).toBeGreaterThanOrEqual(3600);
  });

  it('counts scheduled syncs and times the worker round; the backlog empties', async () => {
    const synced = { outcome: 'synced', trigger: 'scheduled' };
    const before = await count('opencommas_sync_accounts_total', synced);
    server.services.worker.start();
    try {
      // Every account made due by the tests above is synced by the worker in one round.
      for (;;) {
        const metrics = await scrape(metricsUrl);
        if (
          (metrics.value('opencommas_sync_accounts_total', synced) ?? 0) > before &&
          metrics.value('opencommas_sync_accounts_due') === 0
        ) {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await server.services.worker.stop();
    }
    const metrics = await scrape(metricsUrl);
    expect(metrics.value('opencommas_sync_last_round_duration_seconds')).toBeGreaterThan(0);
    expect(metrics.value('opencommas_sync_lag_seconds')).toBe(0);
  }, 30_000);
});

describe('metrics without a database', () => {
  it('still answers a scrape, reporting the database down and the backlog unknown', async () => {
    const cut = await startTestServer({}, { metrics: true });
    const outage = await cutStorage(cut);
    try {
      const metrics = await scrape(cut.metricsUrl ?? '');
      expect(metrics.value('opencommas_database_up')).toBe(0);
      expect(metrics.value('opencommas_sync_accounts_due')).toBeNaN();
      expect(metrics.value('opencommas_sync_lag_seconds')).toBeNaN();
      expect(metrics.value('opencommas_http_requests_total')).toBeGreaterThan(0);
    } finally {
      await outage.restore();
      // PGlite's storage is closed for good: the usual teardown fails partway.
      await cut.close().catch(() => undefined);
      await dropDatabaseAt(cut.databaseUrl);
    }
  });
});

describe('the production wiring', () => {
  it('binds metrics to 127.0.0.1:9464 unless told otherwise, or not at all when off', () => {
    expect(loadConfig({}).metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(loadConfig({ OPENCOMMAS_METRICS_HOST: '0.0.0.0' }).metrics?.host).toBe('0.0.0.0');
    expect(loadConfig({ OPENCOMMAS_METRICS_PORT: 'off' }).metrics).toBeNull();
  });

  it('starts the listener with the server, on loopback, and closes it on stop', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'opencommas-metrics-'));
    const database = await createTestDatabase();
    try {
      const running = await startServer(
        loadConfig({
          PORT: '0',
          OPENCOMMAS_DATA_DIR: dataDir,
          OPENCOMMAS_METRICS_PORT: '0',
          OPENCOMMAS_DEMO: 'off',
          LOG_LEVEL: 'silent',
          ...(database.url
            ? { DATABASE_URL: database.url, OPENCOMMAS_MASTER_KEY: randomBytes(32).toString('hex') }
            : {}),
        }),
        { worker: false },
      );
      const url = running.metricsUrl ?? '';
      try {
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(url).not.toBe(running.url);
        expect((await fetch(`${url}/metrics`)).status).toBe(200);
        expect((await fetch(`${running.url}/livez`)).status).toBe(200);
      } finally {
        await running.stop();
      }
      await expect(fetch(`${url}/metrics`)).rejects.toThrow();
    } finally {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  // A separate worker process exists only on PostgreSQL (PGlite is one process).
  if (onPostgres) {
    it('serves metrics from a separate worker process too', async () => {
      const worker = spawn(process.execPath, [OPENCOMMAS, 'worker'], {
        cwd: ROOT,
        env: childEnv({
          DATABASE_URL: server.databaseUrl ?? '',
          OPENCOMMAS_MASTER_KEY: server.masterKey.toString('base64'),
          OPENCOMMAS_METRICS_PORT: '0',
          LOG_LEVEL: 'info',
        }),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let buffered = '';
          worker.stdout.on('data', (chunk: Buffer) => {
            buffered += chunk.toString();
            for (const line of buffered.split('\n')) {
              if (line.includes('"metrics listening"')) {
                resolve((JSON.parse(line) as { url: string }).url);
              }
            }
          });
          worker.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
        });
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
        const metrics = await scrape(url.replace(/\/metrics$/, ''));
        expect(metrics.value('opencommas_database_up')).toBe(1);
        expect(metrics.value('opencommas_sync_accounts_due')).toBeGreaterThanOrEqual(0);
      } finally {
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        worker.kill('SIGTERM');
        await exited;
      }
    }, 30_000);
  }
});
