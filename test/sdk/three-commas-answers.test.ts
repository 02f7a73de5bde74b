import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RateLimitedError,
  ThreeCommasClient,
  ThreeCommasError,
} from '../../packages/sdk/src/index.ts';

// Answers only 3Commas itself gives, replayed by a stand-in on loopback: bodies from recorded
// 3Commas traffic (the contract's account-family.md §8: recomma/3commas-sdk-go testdata), sent as
// Cloudflare sends them — JSON, no Retry-After — and an edge page that is not JSON at all.

const PLAN_429 = {
  error:
    "The request type 'read' is not available with your current subscription plan. Please upgrade your plan to use this type of request.",
};

let stand: http.Server;
let baseUrl: string;
let next: { status: number; type: string; body: string };
const seen: string[] = [];

beforeAll(async () => {
  stand = http.createServer((request, response) => {
    seen.push(`${request.method} ${request.url} ${request.headers.signature ? 'signed' : ''}`);
    response.writeHead(next.status, { 'content-type': next.type, server: 'cloudflare' });
    response.end(next.body);
  });
  await new Promise<void>((resolve) => stand.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(stand.address() as AddressInfo).port}/public/api`;
});
afterAll(() => new Promise<void>((resolve) => stand.close(() => resolve())));

const sdk = () => new ThreeCommasClient({ apiKey: 'k', secret: 's', baseUrl, onRateLimit: 'wait' });

describe('answers recorded from 3Commas', () => {
  it('the subscription-plan 429 is thrown at once, even in wait mode: waiting would not help', async () => {
    next = { status: 429, type: 'application/json', body: JSON.stringify(PLAN_429) };
    seen.length = 0;
    const error = await sdk()
      .listAccounts()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).bySubscriptionPlan).toBe(true);
    expect((error as RateLimitedError).retryAfterMs).toBeUndefined();
    expect(seen).toEqual(['GET /public/api/ver1/accounts?page=1&per_page=100 signed']);
  });

  it('an error page that is not JSON still becomes a typed error with its status', async () => {
    next = { status: 502, type: 'text/html', body: '<html>Bad gateway</html>' };
    const error = await sdk()
      .account(1)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreeCommasError);
    expect(error).toMatchObject({ status: 502, code: 'http_502', description: undefined });
  });

  it('the recorded 500 keeps its code and description', async () => {
    const body = {
      error: 'unknown_error',
      error_description: 'Unknown error occurred#ActiveRecord::StatementInvalid',
    };
    next = { status: 500, type: 'application/json', body: JSON.stringify(body) };
    const error = await sdk()
      .account(1)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 500, code: 'unknown_error' });
    expect((error as ThreeCommasError).description).toBe(body.error_description);
  });
});
