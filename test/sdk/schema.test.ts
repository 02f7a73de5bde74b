import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  SCHEMA_FILE,
  openApiDocument,
  schemaSource,
} from '../../packages/sdk/scripts/schema-source.ts';

// The SDK's types are generated from the OpenAPI document: a schema change that was not
// regenerated (`npm run sdk:types`) and committed would ship an SDK that lies about the API.

describe('packages/sdk/src/schema.ts', () => {
  it('is what `npm run sdk:types` generates from the OpenAPI document', async () => {
    const generated = await schemaSource(openApiDocument());
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(generated);
  });

  it('types every path relative to the 3Commas base URL', async () => {
    const source = readFileSync(SCHEMA_FILE, 'utf8');
    expect(source).toContain("'/ver1/accounts': {");
    expect(source).not.toContain("'/public/api/");
  });
});
