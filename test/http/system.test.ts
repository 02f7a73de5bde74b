import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('the rest of the HTTP surface', () => {
  it('publishes an OpenAPI document generated from the same schemas', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      openapi: string;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
      paths: Record<
        string,
        { get?: { parameters?: Array<{ name: string }>; responses: Record<string, unknown> } }
      >;
    };
    expect(document.openapi).toMatch(/^3\./);
    const list = document.paths['/public/api/ver1/accounts']?.get;
    expect(list?.parameters?.map((p) => p.name).sort()).toEqual(['api_key', 'page', 'per_page']);
    expect(JSON.stringify(list?.responses['200'])).toContain('#/components/schemas/AccountEntity');
    const entity = document.components.schemas.AccountEntity;
    expect(Object.keys(entity?.properties ?? {})).toHaveLength(61);
    expect(Object.keys(document.paths).some((p) => p.startsWith('/admin'))).toBe(false);
  });

  it('answers ping and time without signing, as 3Commas does', async () => {
    expect(await (await fetch(`${server.url}/public/api/ver1/ping`)).json()).toEqual({
      pong: 'pong',
    });
    const { server_time } = (await (await fetch(`${server.url}/public/api/ver1/time`)).json()) as {
      server_time: number;
    };
    expect(Math.abs(server_time - Date.now() / 1000)).toBeLessThan(600);
  });

  it('answers unknown routes with a 404 in the 3Commas error shape', async () => {
    const response = await fetch(`${server.url}/public/api/ver1/nothing?x=1`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: 'not_found',
      error_description: 'No route for GET /public/api/ver1/nothing',
    });
  });

  it('keeps the admin API closed without the admin token, and writes nothing', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${server.adminToken}x`]) {
      const response = await fetch(`${server.url}/admin/v1/user.create`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ email: 'intruder@example.com' }),
      });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: string }).error).toBe('unauthorized');
    }
    expect(await server.services.users.findByEmail('intruder@example.com')).toBeUndefined();
  });

  it('validates admin input with the same schemas, naming the field', async () => {
    const response = await fetch(`${server.url}/admin/v1/key.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ user_id: 'one', permissions: [] }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: string;
      error_attributes: Record<string, string[]>;
    };
    expect(body.error).toBe('record_invalid');
    expect(Object.keys(body.error_attributes)).toEqual(
      expect.arrayContaining(['user_id', 'permissions']),
    );
  });

  it('rejects a malformed JSON body with a 400, not a 500', async () => {
    const response = await fetch(`${server.url}/admin/v1/user.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
      body: '{"email": ',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('bad_request');
  });
});
