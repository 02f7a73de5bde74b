// `npm run openapi`: writes openapi.json at the repository root, the OpenAPI document the server
// serves at /openapi.json. CI compares the two (test/http/openapi.test.ts): run this after any
// change to a route or a schema, and commit the result.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config.ts';
import { buildApp } from '../src/http/app.ts';
import { DOCUMENT_PATH, renderDocument } from '../src/http/openapi.ts';
import { createServices } from '../src/services.ts';
import { openStorage } from '../src/storage/database.ts';

const target = new URL('../openapi.json', import.meta.url);

// The document depends only on the routes, not on data: an empty in-memory database serves.
const config = loadConfig({});
const storage = await openStorage({ databaseUrl: undefined });
const services = await createServices(storage, randomBytes(32), {
  sync: config.sync,
  limits: config.limits,
});
try {
  const app = await buildApp(services, {});
  const answer = await app.inject({ method: 'GET', url: DOCUMENT_PATH });
  if (answer.statusCode !== 200) throw new Error(`${DOCUMENT_PATH} answered ${answer.statusCode}`);
  writeFileSync(target, renderDocument(answer.json()));
  process.stdout.write(`wrote ${target.pathname}\n`);
  await app.close();
} finally {
  await services.close();
}
