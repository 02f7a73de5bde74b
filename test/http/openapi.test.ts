// The OpenAPI document at /openapi.json: a valid OpenAPI 3.1 document (checked by an independent
// validator), the same bytes as the committed openapi.json, and saying what a client must know:
// which endpoints are SIGNED, which errors each can answer, the list's example answer.
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDocument } from '../../src/http/openapi.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  requestBody?: { required?: boolean; content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { example?: unknown }> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown> };
}

const committed = new URL('../../openapi.json', import.meta.url);
const seed: unknown = JSON.parse(
  readFileSync(new URL('../fixtures/seed-accounts-response.json', import.meta.url), 'utf8'),
);

let server: TestServer;
let document: Document;

beforeAll(async () => {
  server = await startTestServer();
  const answer = await fetch(`${server.url}/openapi.json`);
  expect(answer.status).toBe(200);
  document = (await answer.json()) as Document;
});
afterAll(() => server?.close());

const operation = (path: string, method: string): Operation => {
  const found = document.paths[`/public/api${path}`]?.[method];
  if (!found) throw new Error(`${method} ${path} is not in the document`);
  return found;
};

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(document as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('is the committed openapi.json, byte for byte', () => {
    const served = renderDocument(document);
    const onDisk = readFileSync(committed, 'utf8');
    // A schema changed without regenerating the committed document.
    expect(served === onDisk, 'openapi.json is stale: run `npm run openapi` and commit it').toBe(
      true,
    );
  });

  it('asks SIGNED endpoints for the Apikey and Signature headers, and NONE endpoints for nothing', () => {
    expect(document.components.securitySchemes).toEqual({
      Apikey: { type: 'apiKey', in: 'header', name: 'Apikey' },
      Signature: { type: 'apiKey', in: 'header', name: 'Signature' },
    });
    const both = [{ Apikey: [], Signature: [] }];
    expect(operation('/ver1/accounts', 'get').security).toEqual(both);
    expect(operation('/ver1/accounts/{account_id}', 'get').security).toEqual(both);
    expect(operation('/ver1/accounts/new', 'post').security).toEqual(both);
    expect(operation('/ver1/ping', 'get').security).toBeUndefined();
    expect(operation('/ver1/time', 'get').security).toBeUndefined();
  });

  it('lists the errors each endpoint can answer', () => {
    const statuses = (path: string, method: string) =>
      Object.keys(operation(path, method).responses).filter((s) => s.startsWith('4'));
    // Signed, with parameters, about one account: every refusal applies.
    expect(statuses('/ver1/accounts/{account_id}', 'get')).toEqual(
      expect.arrayContaining(['400', '401', '403', '404', '418', '429']),
    );
    // No account in the path: no 404.
    expect(statuses('/ver1/accounts', 'get')).not.toContain('404');
    // NONE security: no key, no signature, no request limit to refuse on.
    expect(statuses('/ver1/ping', 'get')).toEqual([]);
    const throttled = operation('/ver1/accounts', 'get').responses['429'] as {
      headers?: Record<string, unknown>;
      content?: Record<string, { schema?: { required?: string[] } }>;
    };
    expect(Object.keys(throttled.headers ?? {})).toEqual(['Retry-After']);
    // The 3Commas error body: `error` always there.
    expect(throttled.content?.['application/json']?.schema?.required).toContain('error');
  });

  it('an actual refusal has the documented error shape', async () => {
    const answer = await fetch(`${server.url}/public/api/ver1/accounts`, {
      headers: { Apikey: 'no-such-key', Signature: 'f'.repeat(64) },
    });
    expect(answer.status).toBe(401);
    const body = (await answer.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
    const described = JSON.stringify(operation('/ver1/accounts', 'get').responses['401']);
    expect(described).toContain(`\`${String(body.error)}\``);
  });

  it('shows the documentation’s own list answer as the example of the list', () => {
    const ok = operation('/ver1/accounts', 'get').responses['200'];
    expect(ok?.content?.['application/json']?.example).toEqual(seed);
  });

  it('documents every parameter, and a POST’s parameters in a JSON or form body too', () => {
    const list = operation('/ver1/accounts', 'get').parameters?.map((p) => `${p.in}:${p.name}`);
    expect(list).toEqual(expect.arrayContaining(['query:page', 'query:per_page', 'query:api_key']));
    const one = operation('/ver1/accounts/{account_id}', 'get').parameters;
    expect(one).toEqual([expect.objectContaining({ in: 'path', name: 'account_id' })]);
    const created = operation('/ver1/accounts/new', 'post').requestBody;
    expect(created?.required).toBe(false);
    expect(Object.keys(created?.content ?? {})).toEqual([
      'application/json',
      'application/x-www-form-urlencoded',
    ]);
  });

  it('leaves out the probes, the document itself and the reference page', () => {
    const paths = Object.keys(document.paths);
    for (const hidden of ['/livez', '/readyz', '/openapi.json', '/docs', '/docs/json']) {
      expect(paths).not.toContain(hidden);
    }
    expect(paths.every((path) => path.startsWith('/public/api/'))).toBe(true);
  });
});
