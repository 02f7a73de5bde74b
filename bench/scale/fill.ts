// Fills the key and signature caches past what the mix leaves in them, so the memory figure is
// taken with every cache at (or near) its byte budget: keys the mix never used, each asking for a
// few account pages it does not hold (a 404 after the key is loaded and the signature verified
// and remembered; no page is rendered).
import http from 'node:http';
import { signedGet } from './mix.ts';

/** Requests per fill key: each a distinct signature to remember. */
export const FILL_PATHS_PER_KEY = 3;
/** Account ids far past any identity value: valid ids that no user holds. */
const pathOf = (n: number) => `/public/api/ver1/accounts/${Number.MAX_SAFE_INTEGER - n}`;

export interface FillResult {
  requests: number;
  seconds: number;
  /** Answers other than the expected 404, by status. */
  unexpected: Map<number, number>;
}

export async function fillCaches(
  url: string,
  apiKeys: string[],
  connections: number,
): Promise<FillResult> {
  const base = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const unexpected = new Map<number, number>();
  let next = 0;
  let requests = 0;
  const ask = async (apiKey: string, path: string) => {
    const { status } = await signedGet(agent, base, path, apiKey);
    requests += 1;
    if (status !== 404) unexpected.set(status, (unexpected.get(status) ?? 0) + 1);
  };
  const started = process.hrtime.bigint();
  const connection = async () => {
    for (let i = next++; i < apiKeys.length; i = next++) {
      const apiKey = apiKeys[i];
      if (apiKey === undefined) break;
      for (let n = 1; n <= FILL_PATHS_PER_KEY; n++) await ask(apiKey, pathOf(n));
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, connection));
  } finally {
    agent.destroy();
  }
  return { requests, seconds: Number(process.hrtime.bigint() - started) / 1e9, unexpected };
}
