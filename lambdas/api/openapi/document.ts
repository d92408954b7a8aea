/**
 * The OpenAPI 3.1 document of a deployment, generated from its route table and the very zod schemas the handlers
 * validate with, so it cannot drift from what the API accepts. Routes of handler groups are described in full (the
 * group's docs); a team's own routes (Lambda or HTTP targets Gatehouse does not validate) by their summary, scope
 * and the errors Gatehouse itself may answer. Built at synth (CDK bundles it into the openapi function) and at
 * `npm start`.
 */
import * as z from 'zod';
import type { Api, Route } from '../../core/api-definition.js';
import { ERROR_CODES, PROBLEM_CONTENT_TYPE, type ErrorCode } from '../../core/errors.js';
import { scopeSchema, type GroupDoc, type OperationDoc } from '../http/schemas.js';

type JsonObject = Record<string, unknown>;

/** JSON Schema of a zod schema; a scope name becomes an enum of the deployment's declared scopes. */
function toSchema(schema: z.ZodType, io: 'input' | 'output', scopes: readonly string[]): JsonObject {
  const out = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
    override: (ctx) => {
      if (ctx.zodSchema === scopeSchema) ctx.jsonSchema.enum = [...scopes];
    },
  }) as JsonObject;
  delete out.$schema;
  return out;
}

/** Errors every route can answer, besides its own: the gateway and WAF ones included. */
function errorResponses(route: Route, doc: OperationDoc | undefined): JsonObject {
  const ref = { content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } };
  const statuses: ErrorCode[] = ['RATE_LIMITED', 'INTERNAL_ERROR', 'SERVICE_UNAVAILABLE'];
  if (route.auth !== 'public') statuses.push('AUTHENTICATION_FAILED', 'PERMISSION_DENIED');
  if (route.path.includes('{')) statuses.push('NOT_FOUND');
  if (doc?.body || doc?.query) statuses.push('VALIDATION_ERROR');
  if (doc?.body) statuses.push('PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE');
  statuses.push(...(doc?.errors ?? []));
  return Object.fromEntries(statuses.map((code) => [String(ERROR_CODES[code].status), { description: ERROR_CODES[code].title, ...ref }]));
}

function security(route: Route): JsonObject[] {
  if (route.auth === 'public') return [];
  if (route.auth === 'iam') return [{ sigv4: [] }];
  const scopes = route.scope ? [route.scope] : [];
  return [{ apiKey: [] }, { bearer: scopes }];
}

function operationId(route: Route): string {
  const words = route.path.replace(/[{}.]/g, '').split(/[/_-]/);
  return route.method.toLowerCase() + words.map((s) => (s ? s[0]!.toUpperCase() + s.slice(1) : '')).join('');
}

function operation(route: Route, doc: OperationDoc | undefined, scopes: readonly string[]): JsonObject {
  const parameters: JsonObject[] = [...route.path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (doc?.query) {
    const q = toSchema(doc.query, 'input', scopes) as { properties?: Record<string, JsonObject>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
    }
  }
  for (const header of doc?.headers ?? []) {
    parameters.push({ name: header.name, in: 'header', required: false, schema: { type: 'string' }, description: header.description });
  }
  const responses: JsonObject = {};
  for (const [status, description] of Object.entries(doc?.responses ?? { 200: 'Answered by the API behind Gatehouse' })) {
    responses[status] =
      doc?.response && status !== '204' ? { description, content: { 'application/json': { schema: toSchema(doc.response, 'output', scopes) } } } : { description };
  }
  return {
    operationId: operationId(route),
    summary: route.summary,
    tags: [route.handler],
    security: security(route),
    ...(route.scope ? { 'x-gatehouse-scope': route.scope } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc?.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(doc.body, 'input', scopes) } } } } : {}),
    responses: { ...responses, ...errorResponses(route, doc) },
  };
}

/** The group's description of the operation a route serves: its key is the route's, or the route's without a base path. */
function docFor(route: Route, docs: GroupDoc | undefined): OperationDoc | undefined {
  if (!docs) return undefined;
  for (const [key, doc] of Object.entries(docs)) {
    const space = key.indexOf(' ');
    const path = key.slice(space + 1);
    if (key.slice(0, space) === route.method && (route.path === path || (path !== '/' && route.path.endsWith(path) && route.path[route.path.length - path.length] === '/'))) {
      return doc;
    }
  }
  return undefined;
}

export interface OpenApiOptions {
  /** Operation docs per handler group (the groups' `docs`). A route whose group has none is described generically. */
  readonly docs: Readonly<Record<string, GroupDoc>>;
  readonly title?: string;
  readonly description?: string;
}

export function buildOpenApiDocument(api: Api, options: OpenApiOptions): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of api.routes) {
    const groupDocs = options.docs[route.handler];
    const doc = docFor(route, groupDocs);
    if (groupDocs && !doc) throw new Error(`Handler group ${route.handler} has no OpenAPI description for ${route.method} ${route.path}`);
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, doc, api.scopes.all);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'Gatehouse',
      version: '1',
      description:
        options.description ??
        'API keys, tokens and SigV4 in front of a serverless API. Every error is application/problem+json (RFC 9457) with a stable `code`.',
    },
    // Every scope a credential may hold, with what it is for: a route's own scope is its `x-gatehouse-scope`.
    'x-gatehouse-scopes': Object.fromEntries(api.scopes.all.map((s) => [s, api.scopes.describe(s)])),
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
