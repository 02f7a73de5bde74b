import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi, { type FastifySwaggerUiOptions } from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import type { Permission } from '../auth/permissions.ts';
import { errorStatus, type ErrorCode } from '../errors.ts';
import listAccountsExample from './openapi-examples/list-accounts.json' with { type: 'json' };
import { ErrorSchema } from './schemas.ts';
import { signedPermission } from './signed.ts';

/**
 * The OpenAPI 3.1 document of the public API, built from each route's TypeBox schemas: a route
 * needs nothing else to appear in it. What the schemas cannot say is derived here from the
 * route itself: SIGNED security from its `signed(...)` hook, the errors every route of its kind
 * can answer, the body form of a POST's parameters. Routes with `hide: true` (health) are left
 * out; the admin API is another app on another socket.
 */

export const OPENAPI_VERSION = '3.1.0';
export const DOCUMENT_PATH = '/openapi.json';
export const REFERENCE_PAGE_PATH = '/docs';

/** Registers the document and the reference page; before the routes, so it sees them all. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, documentOptions());
  await app.register(swaggerUi, referencePageOptions());
  app.get(DOCUMENT_PATH, { schema: { hide: true } }, async () => app.swagger());
}

/** The committed `openapi.json`'s bytes for a document: what `npm run openapi` writes. */
export const renderDocument = (document: unknown): string =>
  `${JSON.stringify(document, null, 2)}\n`;

export function documentOptions(): FastifyDynamicSwaggerOptions {
  return {
    // Components keep their schema's $id (AccountEntity) instead of def-N.
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
    openapi: {
      // 3.1: schemas are JSON Schema 2020-12, as TypeBox writes them (null types, const, examples).
      openapi: OPENAPI_VERSION,
      info: {
        title: 'opencommas',
        description:
          '3Commas-compatible accounts API. SIGNED endpoints take the `Apikey` header and a ' +
          '`Signature` header: HMAC-SHA256 (hex) of the path with its query string, followed ' +
          'by the request body, under the key’s secret, or an RSA signature for RSA keys.',
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          Apikey: { type: 'apiKey', in: 'header', name: 'Apikey' },
          Signature: { type: 'apiKey', in: 'header', name: 'Signature' },
        },
      },
    },
    transform: ({ schema, url, route }) => ({ url, schema: documentedSchema(schema, route) }),
    transformObject: (built) =>
      'openapiObject' in built
        ? withBodyForms(built.openapiObject as Document)
        : built.swaggerObject,
  };
}

/**
 * Swagger UI from node_modules (@fastify/swagger-ui bundles swagger-ui-dist): no CDN, no fonts
 * from the web, and no validator badge (which would send the document to validator.swagger.io).
 * The policy tells the browser the same: nothing but this origin.
 */
export function referencePageOptions(): FastifySwaggerUiOptions {
  return {
    routePrefix: REFERENCE_PAGE_PATH,
    // Written into the page as `validatorUrl: null`: swagger-ui's badge off.
    validatorUrl: false,
    uiConfig: { deepLinking: true },
    staticCSP:
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
      "script-src 'self'; connect-src 'self'; font-src 'self' data:; object-src 'none'; " +
      "base-uri 'self'; form-action 'self'; frame-ancestors 'self'",
  };
}

const SIGNED_SECURITY = [{ Apikey: [], Signature: [] }];

/** A route's schema as documented: the route's own, plus what its kind implies. */
function documentedSchema(schema: FastifySchema | undefined, route: RouteOptions): FastifySchema {
  if (!schema || (schema as { hide?: boolean }).hide) return schema ?? {};
  const permission = signedPermission(route.preValidation);
  const declared = (schema.response ?? {}) as Record<string, unknown>;
  return {
    ...schema,
    ...(permission ? { security: SIGNED_SECURITY } : {}),
    // Integer-like keys sort themselves: 200, 201, 400, 401, … then 4XX, 5XX.
    response: {
      ...errorResponses(schema, permission),
      ...withExamples(route, declared),
    },
  };
}

/** Every error a route of its kind can answer, with the codes the body's `error` then holds. */
function errorResponses(
  schema: FastifySchema,
  permission: Permission | undefined,
): Record<string, unknown> {
  const takesInput = Boolean(schema.querystring ?? schema.body ?? schema.params);
  const statuses: (keyof typeof ERROR_RESPONSES)[] = [
    ...(takesInput ? (['400'] as const) : []),
    ...(permission ? (['401', '418', '429', '503'] as const) : []),
    ...(permission && permission !== 'NONE' ? (['403'] as const) : []),
    ...(schema.params ? (['404'] as const) : []),
  ];
  return Object.fromEntries(statuses.map((status) => [status, ERROR_RESPONSES[status]]));
}

const codesAnswered = (status: number): ErrorCode[] =>
  (Object.keys(errorStatus) as ErrorCode[]).filter((code) => errorStatus[code] === status);

/** The 3Commas error body, described for one status; `retry` adds the Retry-After header. */
function errorResponse(status: number, why: string, retry = false) {
  const codes = codesAnswered(status)
    .map((code) => `\`${code}\``)
    .join(', ');
  return {
    ...ErrorSchema,
    'x-response-description': `${why} \`error\` is one of ${codes}.`,
    ...(retry
      ? {
          headers: {
            'Retry-After': {
              type: 'integer',
              minimum: 1,
              description: 'Seconds after which the request may succeed.',
            },
          },
        }
      : {}),
  };
}

const ERROR_RESPONSES = {
  '400': errorResponse(400, 'Invalid parameters, named in `error_attributes`.'),
  '401': errorResponse(401, 'The key or the signature was not accepted.'),
  '403': errorResponse(403, 'The API key lacks the permission this endpoint needs.'),
  '404': errorResponse(404, 'No such account among the caller’s.'),
  '418': errorResponse(
    418,
    'The caller’s IP kept calling while refused: banned for a while.',
    true,
  ),
  '429': errorResponse(429, 'Over the request limit: wait for Retry-After.', true),
  '503': errorResponse(503, 'The database or an exchange is unreachable; nothing changed.', true),
} as const;

/** Response examples by route (`METHOD path`) and status: real answers, not made-up ones. */
const RESPONSE_EXAMPLES: Record<string, Record<string, unknown>> = {
  // The 3Commas documentation's own example answer of the list, which our entity reproduces.
  'GET /public/api/ver1/accounts': { '200': listAccountsExample },
};

function withExamples(route: RouteOptions, responses: Record<string, unknown>) {
  const examples = RESPONSE_EXAMPLES[`${String(route.method)} ${route.url}`] ?? {};
  return Object.fromEntries(
    Object.entries(responses).map(([status, schema]) =>
      status in examples
        ? [status, { ...(schema as object), examples: [examples[status]] }]
        : [status, schema],
    ),
  );
}

interface Parameter {
  in: string;
  name: string;
  required?: boolean;
  schema: unknown;
  description?: string;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: unknown;
}
type Document = { paths?: Record<string, Record<string, Operation>> };

/**
 * 3Commas takes a POST's parameters in the query string or in a JSON or form body (our routes
 * accept all three), so a route declares them once, as `querystring`, and the document shows
 * the body forms of the same parameters, optional since the query string may carry them.
 */
function withBodyForms(document: Document): Document {
  for (const operations of Object.values(document.paths ?? {})) {
    const post = operations.post;
    const query = (post?.parameters ?? []).filter((parameter) => parameter.in === 'query');
    if (!post || post.requestBody || query.length === 0) continue;
    const schema = {
      type: 'object',
      properties: Object.fromEntries(
        query.map(({ name, schema, description }) => [
          name,
          description ? { ...(schema as object), description } : schema,
        ]),
      ),
      required: query.filter((parameter) => parameter.required).map(({ name }) => name),
    };
    post.requestBody = {
      required: false,
      description: 'The same parameters as the query string; either may carry them.',
      content: {
        'application/json': { schema },
        'application/x-www-form-urlencoded': { schema },
      },
    };
  }
  return document;
}
