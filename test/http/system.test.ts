import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import path from 'node:path';
import { listenTestAdmin, type TestAdmin } from '../support/admin.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let admin: TestAdmin;
beforeAll(async () => {
  server = await startTestServer();
  admin = await listenTestAdmin(server);
});
afterAll(async () => {
  await admin.close();
  await server.close();
});

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

  it('serves no admin API on the public port, whatever the token', async () => {
    for (const operation of ['user.create', 'key.create', 'balance.import', 'nothing']) {
      const response = await fetch(`${server.url}/admin/v1/${operation}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${server.adminToken}`,
        },
        body: JSON.stringify({ email: 'intruder@example.com' }),
      });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: string }).error).toBe('not_found');
    }
    expect(await server.services.users.findByEmail('intruder@example.com')).toBeUndefined();
  });

  it('listens for the admin API on a socket only its owner may reach', () => {
    expect(statSync(admin.socket).isSocket()).toBe(true);
    expect(statSync(admin.socket).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(admin.socket)).mode & 0o777).toBe(0o700);
  });

  it('keeps the admin socket closed without the admin token, and writes nothing', async () => {
    for (const authorization of [null, 'Bearer wrong', `Bearer ${server.adminToken}x`]) {
      const answer = await admin.post(
        'user.create',
        { email: 'intruder@example.com' },
        authorization,
      );
      expect(answer.status).toBe(401);
      expect((answer.body as { error: string }).error).toBe('unauthorized');
    }
    expect(await server.services.users.findByEmail('intruder@example.com')).toBeUndefined();
  });

  it('validates admin input with the same schemas, naming the field', async () => {
    const answer = await admin.post('key.create', { user_id: 'one', permissions: [] });
    expect(answer.status).toBe(400);
    const body = answer.body as { error: string; error_attributes: Record<string, string[]> };
    expect(body.error).toBe('record_invalid');
    expect(Object.keys(body.error_attributes)).toEqual(
      expect.arrayContaining(['user_id', 'permissions']),
    );
  });

  it('rejects a malformed JSON body on the admin socket with a 400, not a 500', async () => {
    const answer = await admin.post('user.create', '{"email": ');
    expect(answer.status).toBe(400);
    expect((answer.body as { error: string }).error).toBe('bad_request');
  });

  it('refuses prototype poisoning on the admin socket too', async () => {
    const answer = await admin.post(
      'user.create',
      '{"email": "p@example.com", "__proto__": {"x": 1}}',
    );
    expect(answer.status).toBe(400);
    expect(await server.services.users.findByEmail('p@example.com')).toBeUndefined();
  });

  it('takes an admin import far beyond the public body limit, in one go', async () => {
    const owner = await server.services.users.create({ email: 'big@example.com' });
    const { id } = await server.services.accounts.add({
      user_id: owner.id,
      market_code: 'kraken',
      name: 'Big',
    });
    const assets = Array.from({ length: 150 }, (_, i) => ({
      asset: `COIN${i}`,
      amount: '1.25',
      usd_price: '2',
    }));
    const records = Array.from({ length: 450 }, (_, i) => ({
      account_id: id,
      at: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString(),
      btc_usd_price: '60000',
      assets,
    }));
    const body = JSON.stringify({ records });
    // The public listener refuses bodies over 1 MiB by default.
    expect(body.length).toBeGreaterThan(3 * 1024 * 1024);
    const answer = await admin.post('balance.import', body);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ imported: 450, accounts: [id] });
  });
});
