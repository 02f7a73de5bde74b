// `npm run sdk:types`: regenerates packages/sdk/src/schema.ts from the OpenAPI document.
import { writeFileSync } from 'node:fs';
import { SCHEMA_FILE, openApiDocument, schemaSource } from './schema-source.ts';

writeFileSync(SCHEMA_FILE, await schemaSource(openApiDocument()));
console.log(`wrote ${SCHEMA_FILE}`);
