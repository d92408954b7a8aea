/**
 * GET /openapi.json: OpenAPI 3.1, generated from the route table and the very zod schemas the validator uses, so
 * the document cannot drift from what the API accepts. Built once per container.
 */
import * as z from 'zod';
import { ERROR_CODES, PROBLEM_CONTENT_TYPE } from '../core/errors.js';
import { ROUTES, type Route } from '../routes.js';
import { createApiHandler } from './http/api-handler.js';
import { json } from './http/types.js';
import { auditOpenApi } from './schemas/audit.js';
import type { GroupDoc, OperationDoc } from './schemas/common.js';
import { identityOpenApi } from './schemas/identity.js';
import { itemsOpenApi } from './schemas/items.js';
import { keysOpenApi } from './schemas/keys.js';
import { usageOpenApi } from './schemas/usage.js';
import { lambdaEntry, type Services } from './services.js';

export const OPERATION_DOCS: GroupDoc = { ...identityOpenApi, ...keysOpenApi, ...itemsOpenApi, ...auditOpenApi, ...usageOpenApi };

type JsonObject = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonObject => {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonObject;
  delete out.$schema;
  return out;
};

/** Errors every route can answer, besides its own: the gateway and WAF ones included. */
function errorResponses(route: Route, doc: OperationDoc): JsonObject {
  const ref = { content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } };
  const statuses: (keyof typeof ERROR_CODES)[] = ['RATE_LIMITED', 'INTERNAL_ERROR', 'SERVICE_UNAVAILABLE'];
  if (route.auth !== 'public') statuses.push('AUTHENTICATION_FAILED', 'PERMISSION_DENIED');
  if (route.path.includes('{')) statuses.push('NOT_FOUND');
  if (doc.body || doc.query) statuses.push('VALIDATION_ERROR');
  if (doc.body) statuses.push('PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE');
  if (route.handler === 'items' && (route.method === 'PUT' || route.method === 'DELETE')) statuses.push('PRECONDITION_FAILED');
  return Object.fromEntries(statuses.map((code) => [String(ERROR_CODES[code].status), { description: ERROR_CODES[code].title, ...ref }]));
}

function security(route: Route): JsonObject[] {
  if (route.auth === 'public') return [];
  if (route.auth === 'iam') return [{ sigv4: [] }];
  const scopes = route.scope ? [route.scope] : [];
  return [{ apiKey: [] }, { bearer: scopes }];
}

function operation(route: Route, doc: OperationDoc): JsonObject {
  const parameters: JsonObject[] = [...route.path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (doc.query) {
    const q = toSchema(doc.query, 'input') as { properties?: Record<string, JsonObject>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
    }
  }
  if (route.handler === 'items' && (route.method === 'PUT' || route.method === 'DELETE')) {
    parameters.push({ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' }, description: 'The ETag last seen; 412 if it changed' });
  }
  const responses: JsonObject = {};
  for (const [status, description] of Object.entries(doc.responses)) {
    responses[status] =
      doc.response && status !== '204' ? { description, content: { 'application/json': { schema: toSchema(doc.response, 'output') } } } : { description };
  }
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[{}.]/g, '').split(/[/_-]/).map((s) => (s ? s[0]!.toUpperCase() + s.slice(1) : '')).join('')}`,
    summary: route.summary,
    tags: [route.handler],
    security: security(route),
    ...(route.scope ? { 'x-gatehouse-scope': route.scope } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(doc.body, 'input') } } } } : {}),
    responses: { ...responses, ...errorResponses(route, doc) },
  };
}

export function buildOpenApiDocument(routes: readonly Route[] = ROUTES): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const key = `${route.method} ${route.path}`;
    const doc = OPERATION_DOCS[key];
    if (!doc) throw new Error(`No OpenAPI description for ${key}`);
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, doc);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse',
      version: '1',
      description: 'API keys, tokens and SigV4 in front of a serverless API. Every error is application/problem+json (RFC 9457) with a stable `code`.',
    },
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'A Gatehouse API key (also accepted as Authorization: Bearer)' },
        bearer: { type: 'http', scheme: 'bearer', description: 'A Gatehouse API key, or a JWT from the Cognito user pool or a configured OIDC issuer' },
        sigv4: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'AWS Signature Version 4 (execute-api)', 'x-amazon-apigateway-authtype': 'awsSigv4' },
      },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail', 'code', 'requestId'],
          properties: {
            type: { type: 'string', format: 'uri' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string', enum: Object.keys(ERROR_CODES) },
            requestId: { type: 'string' },
            errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
  };
}

export function createOpenApiHandler(services: Services) {
  const document = buildOpenApiDocument();
  return createApiHandler(
    'openapi',
    { 'GET /openapi.json': { handle: () => Promise.resolve(json(200, document)) } },
    { logger: services.logger, corsOrigins: services.settings.corsOrigins, maxBodyBytes: services.settings.maxBodyBytes },
  );
}

export const handler = lambdaEntry('openapi', createOpenApiHandler);
