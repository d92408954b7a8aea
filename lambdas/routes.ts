/**
 * The one route table (CONTRACT §3). CDK builds the REST API from it, the local gateway routes by it,
 * the authorizer derives its policy from it and the OpenAPI document is generated from it.
 * Nothing else lists routes.
 */
import type { Scope } from './core/scopes.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/**
 * - `public`: no authorizer.
 * - `token`: the Gatehouse REQUEST authorizer (API key or JWT).
 * - `iam`: API Gateway IAM auth (SigV4).
 */
export type AuthKind = 'public' | 'token' | 'iam';

/** Handler groups: one Lambda function and one file in `lambdas/api/` each. */
export type HandlerName = 'health' | 'openapi' | 'whoami' | 'keys' | 'usage' | 'audit' | 'items' | 'verify';

export interface Route {
  readonly method: HttpMethod;
  /** API Gateway resource path; path parameters as `{name}` (never greedy). */
  readonly path: string;
  readonly handler: HandlerName;
  readonly auth: AuthKind;
  /** Scope the principal must hold; absent means any authenticated principal. */
  readonly scope?: Scope;
  /** One line for the OpenAPI document. */
  readonly summary: string;
}

export const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/health', handler: 'health', auth: 'public', summary: 'Liveness and readiness' },
  { method: 'GET', path: '/openapi.json', handler: 'openapi', auth: 'public', summary: 'This API as OpenAPI 3.1' },
  { method: 'GET', path: '/v1/whoami', handler: 'whoami', auth: 'token', summary: 'The calling principal' },
  { method: 'POST', path: '/v1/keys', handler: 'keys', auth: 'token', scope: 'keys:write', summary: 'Create an API key' },
  { method: 'GET', path: '/v1/keys', handler: 'keys', auth: 'token', scope: 'keys:read', summary: "List the tenant's API keys" },
  { method: 'GET', path: '/v1/keys/{keyId}', handler: 'keys', auth: 'token', scope: 'keys:read', summary: 'Get an API key' },
  { method: 'DELETE', path: '/v1/keys/{keyId}', handler: 'keys', auth: 'token', scope: 'keys:write', summary: 'Revoke an API key' },
  { method: 'POST', path: '/v1/keys/{keyId}/rotate', handler: 'keys', auth: 'token', scope: 'keys:write', summary: 'Rotate an API key' },
  { method: 'GET', path: '/v1/usage', handler: 'usage', auth: 'token', scope: 'usage:read', summary: 'Usage per key' },
  { method: 'GET', path: '/v1/audit', handler: 'audit', auth: 'token', scope: 'audit:read', summary: 'Audit events' },
  { method: 'GET', path: '/v1/items', handler: 'items', auth: 'token', scope: 'items:read', summary: 'List items' },
  { method: 'POST', path: '/v1/items', handler: 'items', auth: 'token', scope: 'items:write', summary: 'Create an item' },
  { method: 'GET', path: '/v1/items/{itemId}', handler: 'items', auth: 'token', scope: 'items:read', summary: 'Get an item' },
  { method: 'PUT', path: '/v1/items/{itemId}', handler: 'items', auth: 'token', scope: 'items:write', summary: 'Replace an item' },
  { method: 'DELETE', path: '/v1/items/{itemId}', handler: 'items', auth: 'token', scope: 'items:write', summary: 'Delete an item' },
  { method: 'POST', path: '/v1/verify', handler: 'verify', auth: 'iam', summary: 'Verify an API key (for other services)' },
];
