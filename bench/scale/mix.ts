// One run of the request mix: every client's session — its accounts page twice (the first render
// of a user not yet asked for since the server started, then the cached page), the summary and
// one account's balance chart — over a fixed number of keep-alive connections, each connection
// taking the next session when its current one ends.
import http from 'node:http';
import { signHmac } from '../../src/auth/signature.ts';
import { BENCH_SECRET } from './build.ts';
import type { Client } from './clients.ts';

export type RequestClass = 'first render' | 'cached page' | 'summary' | 'balance chart';
export const CLASSES: RequestClass[] = ['first render', 'cached page', 'summary', 'balance chart'];

export interface MixResult {
  /** Latencies in ms per class. */
  latencies: Record<RequestClass, number[]>;
  requests: number;
  seconds: number;
  /** Answers other than 200 (a 429 would mean a key went over its limit), by status. */
  failures: Map<number, number>;
}

const LIST = '/public/api/ver1/accounts';
const SUMMARY = '/public/api/ver1/accounts/summary';
/** A month of daily points: what a dashboard's default chart asks for. */
const chartPath = (accountId: number, from: string) =>
  `/public/api/ver1/accounts/${accountId}/balance_chart_data?date_from=${from}`;

function get(
  agent: http.Agent,
  base: URL,
  path: string,
  apiKey: string,
): Promise<{ status: number; ms: number }> {
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
        response.resume();
        response.once('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          }),
        );
      },
    );
    request.once('error', reject);
  });
}

/**
 * Runs every client's session once against `url`, `connections` at a time. Pages of the users in
 * `rendered` (the warm-up's) count as cached from the start.
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
    'balance chart': [],
  };
  const failures = new Map<number, number>();
  const rendered = new Set<number>(warmUsers);
  const from = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  let next = 0;
  let requests = 0;
  const ask = async (what: RequestClass, path: string, apiKey: string) => {
    const { status, ms } = await get(agent, base, path, apiKey);
    requests += 1;
    if (status === 200) latencies[what].push(ms);
    else failures.set(status, (failures.get(status) ?? 0) + 1);
  };
  const started = process.hrtime.bigint();
  const connection = async () => {
    for (let i = next++; i < clients.length; i = next++) {
      const client = clients[i];
      if (!client) break;
      // Users repeat only on a database with fewer users than clients: there, a user's page is
      // a first render once, cached for every later client of the same user.
      const first = !rendered.has(client.userId);
      rendered.add(client.userId);
      await ask(first ? 'first render' : 'cached page', LIST, client.apiKey);
      await ask('cached page', LIST, client.apiKey);
      await ask('summary', SUMMARY, client.apiKey);
      await ask('balance chart', chartPath(client.accountId, from), client.apiKey);
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
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    failures,
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
