// The real server on a copy, as an operator starts it: `opencommas serve --no-worker`, the request
// limiter at its default (100 requests a minute per key), timed from spawn to its first signed
// answer.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { signHmac } from '../../src/auth/signature.ts';
import {
  BIN,
  freePort,
  memoryOf,
  spawnGroup,
  stopGroup,
  type Memory,
} from '../startup/processes.ts';
import { BENCH_SECRET } from './build.ts';
import type { Client } from './clients.ts';
import { BENCH_MASTER_KEY } from './template.ts';

export interface Server {
  url: string;
  /** Spawn to the first 200 on a signed accounts page, in seconds. */
  startSeconds: number;
  /** Memory of each API process: the server itself, or the children of `--processes N`. */
  memory(): Array<Memory & { pid: number }>;
  /** Bytes held and budget of each cache of the (first) API process, from its metrics. */
  caches(): Promise<CacheFill[]>;
  stop(): Promise<void>;
}

export interface CacheFill {
  cache: string;
  bytes: number;
  budget: number;
}

const READY_TIMEOUT_MS = 120_000;

/** `opencommas_cache_bytes` and `opencommas_cache_budget_bytes` by cache, from a scrape. */
async function scrapeCaches(metricsUrl: string): Promise<CacheFill[]> {
  const text = await (await fetch(metricsUrl)).text();
  const fills = new Map<string, CacheFill>();
  for (const match of text.matchAll(
    /^opencommas_cache_(bytes|budget_bytes)\{cache="([a-z_]+)"\} (\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/gm,
  )) {
    const [, what, cache = '', value] = match;
    const fill = fills.get(cache) ?? { cache, bytes: 0, budget: 0 };
    if (what === 'bytes') fill.bytes = Number(value);
    else fill.budget = Number(value);
    fills.set(cache, fill);
  }
  return [...fills.values()];
}

function signedAnswer(url: string, apiKey: string): Promise<boolean> {
  const path = '/public/api/ver1/accounts';
  return new Promise((resolve) => {
    const request = http.get(
      `${url}${path}`,
      { agent: false, headers: { Apikey: apiKey, Signature: signHmac(BENCH_SECRET, path) } },
      (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      },
    );
    request.once('error', () => resolve(false));
    request.setTimeout(5_000, () => request.destroy());
  });
}

/** The pids a process started (the children of `serve --processes N`'s primary). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Starts the server on `databaseUrl` and waits for a signed answer for `probe` (whose page is then
 * rendered: pick a client the measurement does not use first, or accept one warm user).
 */
export async function startServer(
  databaseUrl: string,
  probe: Client,
  processes = 1,
): Promise<Server> {
  const port = await freePort();
  const metricsPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [...BIN, 'serve', '--no-worker'];
  if (processes > 1) args.push('--processes', String(processes));
  const started = process.hrtime.bigint();
  const child: ChildProcess = spawnGroup(process.execPath, args, {
    DATABASE_URL: databaseUrl,
    OPENCOMMAS_MASTER_KEY: BENCH_MASTER_KEY.toString('base64'),
    HOST: '127.0.0.1',
    PORT: String(port),
    // Child i of `--processes N` serves on metricsPort + i; the first child's is scraped.
    OPENCOMMAS_METRICS_PORT: String(metricsPort),
    OPENCOMMAS_DEMO: 'off',
    // Request logs go nowhere either way; `warn` keeps the bench's output to its own lines.
    LOG_LEVEL: 'warn',
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await signedAnswer(url, probe.apiKey))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before answering`);
    }
    if (Date.now() > deadline) {
      await stopGroup(child);
      throw new Error(`server did not answer in ${READY_TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const startSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const pid = child.pid ?? 0;
  return {
    url,
    startSeconds,
    memory: () =>
      (processes > 1 ? childrenOf(pid) : [pid]).map((each) => ({ pid: each, ...memoryOf(each) })),
    caches: () => scrapeCaches(`http://127.0.0.1:${metricsPort}/metrics`),
    stop: () => stopGroup(child),
  };
}
