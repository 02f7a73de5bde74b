// One run of the request mix: every client's session — its accounts page twice (a first render,
// then the same page cached), the summary and one account's balance chart — over a fixed number
// of keep-alive connections, each connection taking the next session when its current one ends.
//
// The first render is a page the server has not rendered since it started. On a database with at
// least as many users as clients every session is a different user, so it is that user's first
// page, summary and chart. With fewer users (the small database: 170 for 10,000 clients) a user
// comes up again and again; each time its session asks for another page size (per_page, which
// renders the same accounts: no user has more than 30) and a chart ending a second earlier
// (date_to: the same 30 days), so those still render as on the large database rather than come
// from the cache. The summary has no such variant: a user's repeated summaries are counted as a
// class of their own ('cached summary'), which `mixThroughput` leaves out of the comparison.
// Those repeated renders find the user's other state warm, so if anything they flatter the small
// database.
import http from 'node:http';
import { signHmac } from '../../src/auth/signature.ts';
import { BENCH_SECRET } from './build.ts';
import type { Client } from './clients.ts';

export type RequestClass =
  'first render' | 'cached page' | 'summary' | 'cached summary' | 'balance chart';
export const CLASSES: RequestClass[] = [
  'first render',
  'cached page',
  'summary',
  'cached summary',
  'balance chart',
];

export interface MixResult {
  /** Latencies in ms per class. */
  latencies: Record<RequestClass, number[]>;
  requests: number;
  seconds: number;
  /** Bytes of the first renders' bodies: what the page cache was asked to hold. */
  renderedBytes: number;
  /** Answers other than 200 (a 429 would mean a key went over its limit), by status. */
  failures: Map<number, number>;
}

const LIST = '/public/api/ver1/accounts';
/** per_page values that list every account of any user, one distinct page each (≤ 64: the
 * pages a user keeps in the page cache). */
const PAGE_SIZES = Array.from({ length: 64 }, (_, i) => 100 - i);
const SUMMARY = '/public/api/ver1/accounts/summary';
/** A month of daily points: what a dashboard's default chart asks for, up to `to` (unix s). */
const chartPath = (accountId: number, from: string, to: number) =>
  `/public/api/ver1/accounts/${accountId}/balance_chart_data?date_from=${from}&date_to=${to}`;

/** One signed GET as a bench client of BENCH_SECRET's keys sends it: status, time, body bytes. */
export function signedGet(
  agent: http.Agent,
  base: URL,
  path: string,
  apiKey: string,
): Promise<{ status: number; ms: number; bytes: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const request = http.get(
      {
        agent,
        host: base.hostname,
        port: base.port,
        path,
        headers: { Apikey: apiKey, Signature: signHmac(BENCH_SECRET, path) },
      },
      (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        response.once('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
            bytes,
          }),
        );
      },
    );
    request.once('error', reject);
  });
}

/**
 * Runs every client's session once against `url`, `connections` at a time. Every page of the
 * users in `warmUsers` (the warm-up's) counts as cached from the start.
 */
export async function runMix(
  url: string,
  clients: Client[],
  connections: number,
  warmUsers: number[] = [],
): Promise<MixResult> {
  const base = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: MixResult['latencies'] = {
    'first render': [],
    'cached page': [],
    summary: [],
    'cached summary': [],
    'balance chart': [],
  };
  const failures = new Map<number, number>();
  const occurrences = new Map<number, number>();
  const pageOf = (size: number) => `${LIST}?per_page=${size}`;
  const rendered = new Set<string>(
    warmUsers.flatMap((user) => PAGE_SIZES.map((size) => `${user}|${pageOf(size)}`)),
  );
  const from = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  const to = Math.floor(Date.now() / 1000);
  let next = 0;
  let requests = 0;
  let renderedBytes = 0;
  const ask = async (what: RequestClass, path: string, apiKey: string) => {
    const { status, ms, bytes } = await signedGet(agent, base, path, apiKey);
    requests += 1;
    if (what === 'first render') renderedBytes += bytes;
    if (status === 200) latencies[what].push(ms);
    else failures.set(status, (failures.get(status) ?? 0) + 1);
  };
  const started = process.hrtime.bigint();
  const connection = async () => {
    for (let i = next++; i < clients.length; i = next++) {
      const client = clients[i];
      if (!client) break;
      // The n-th session of a user asks for the n-th page size; past the last one, its page is
      // already cached and counted so.
      const n = occurrences.get(client.userId) ?? 0;
      occurrences.set(client.userId, n + 1);
      const list = pageOf(PAGE_SIZES[n % PAGE_SIZES.length] ?? 100);
      const first = !rendered.has(`${client.userId}|${list}`);
      rendered.add(`${client.userId}|${list}`);
      await ask(first ? 'first render' : 'cached page', list, client.apiKey);
      await ask('cached page', list, client.apiKey);
      await ask(n === 0 ? 'summary' : 'cached summary', SUMMARY, client.apiKey);
      await ask('balance chart', chartPath(client.accountId, from, to - n), client.apiKey);
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, connection));
  } finally {
    agent.destroy();
  }
  return {
    latencies,
    requests,
    renderedBytes,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    failures,
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/**
 * The mix's throughput with the request classes in the shares `shares` (counts per class) rather
 * than its own: by Little's law a closed loop of `connections` answers connections / (mean
 * latency) requests a second, and the mean is taken over the classes weighted by those shares. So
 * both databases are compared on one mix: the large one's, where no summary comes from the cache.
 */
export function mixThroughput(
  result: MixResult,
  shares: Record<RequestClass, number>,
  connections: number,
): number {
  let weighted = 0;
  let total = 0;
  for (const what of CLASSES) {
    const share = shares[what];
    const values = result.latencies[what];
    if (share === 0) continue;
    if (values.length === 0) return NaN;
    weighted += (share * values.reduce((a, b) => a + b, 0)) / values.length;
    total += share;
  }
  return (connections * 1000 * total) / weighted;
}
