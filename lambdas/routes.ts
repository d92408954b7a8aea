/**
 * Gatehouse's own API: the one route table and the scopes its routes need (the contract's routes and scopes,
 * docs/contract.md). CDK builds the REST API from it, the local gateway routes by it, the authorizer derives its
 * policy from it, the handlers check it and the OpenAPI document, the local OIDC provider, the Cognito resource
 * server and the client are generated from it. Nothing else lists routes or scopes.
 *
 * Adding a route group (docs/your-api.md): declare its scopes here (with the groups that hold them), its routes
 * here, and write its handler folder `lambdas/api/<handler>/`. Nothing else changes.
 */
import { defineApi, type Api, type Route } from './core/api-definition.js';
import { ADMIN_GROUP, type Scope, type ScopeDefinition } from './core/scopes.js';

export type { AuthKind, HttpMethod, Route } from './core/api-definition.js';

const USERS = 'users';

export const SCOPES = {
  'keys:read': { description: "List and read the tenant's API keys (never their secrets)", groups: [ADMIN_GROUP, USERS], credential: true },
  'keys:write': { description: "Create, rotate and revoke the tenant's API keys", groups: [ADMIN_GROUP, USERS], credential: true },
  'items:read': { description: 'Read items (the sample resource)', groups: [ADMIN_GROUP, USERS], anonymous: true },
  'items:write': { description: 'Create, replace and delete items (the sample resource)', groups: [ADMIN_GROUP, USERS], anonymous: true },
  'usage:read': { description: "Read request counts of the tenant's keys", groups: [ADMIN_GROUP, USERS], anonymous: true },
  'audit:read': { description: "Read the tenant's audit trail", groups: [ADMIN_GROUP] },
} as const satisfies Record<string, ScopeDefinition>;

/** Gatehouse's own scope names (the type of its own routes' scopes). */
export type GatehouseScope = keyof typeof SCOPES;

type GatehouseRoute = Route & { readonly scope?: GatehouseScope };

export const ROUTES: readonly GatehouseRoute[] = [
  { method: 'GET', path: '/health', handler: 'health', auth: 'public', summary: 'Liveness and readiness' },
  { method: 'GET', path: '/openapi.json', handler: 'openapi', auth: 'public', summary: 'This API as OpenAPI 3.1' },
  { method: 'GET', path: '/v1/whoami', handler: 'whoami', auth: 'token', summary: 'The calling principal' },
  { method: 'POST', path: '/v1/keys', handler: 'keys', auth: 'token', scope: 'keys:write', summary: 'Create an API key' },
  { method: 'GET', path: '/v1/keys', handler: 'keys', auth: 'token', scope: 'keys:read', summary: "List the tenant's API keys" },
  { method: 'GET', path: '/v1/keys/{keyId}', handler: 'keys', auth: 'token', scope: 'keys:read', summary: 'Get an API key' },
  { method: 'DELETE', path: '/v1/keys/{keyId}', handler: 'keys', auth: 'token', scope: 'keys:write', summary: 'Revoke an API key' },
  { method: 'POST', path: '/v1/keys/{keyId}/rotate', handler: 'keys', auth: 'token', scope: 'keys:write', summary: 'Rotate an API key' },
  { method: 'PUT', path: '/v1/keys/{keyId}/plan', handler: 'keys', auth: 'token', scope: 'keys:write', summary: "Put an API key on another plan" },
  { method: 'GET', path: '/v1/usage', handler: 'usage', auth: 'token', scope: 'usage:read', summary: 'Usage per key' },
  { method: 'GET', path: '/v1/audit', handler: 'audit', auth: 'token', scope: 'audit:read', summary: 'Audit events' },
  { method: 'GET', path: '/v1/items', handler: 'items', auth: 'token', scope: 'items:read', summary: 'List items' },
  { method: 'POST', path: '/v1/items', handler: 'items', auth: 'token', scope: 'items:write', summary: 'Create an item' },
  { method: 'GET', path: '/v1/items/{itemId}', handler: 'items', auth: 'token', scope: 'items:read', summary: 'Get an item' },
  { method: 'PUT', path: '/v1/items/{itemId}', handler: 'items', auth: 'token', scope: 'items:write', summary: 'Replace an item' },
  { method: 'DELETE', path: '/v1/items/{itemId}', handler: 'items', auth: 'token', scope: 'items:write', summary: 'Delete an item' },
  { method: 'POST', path: '/v1/verify', handler: 'verify', auth: 'iam', summary: 'Verify an API key (for other services)' },
  // The browser console (lambdas/api/console/): public, like the page of a hosted login; everything it does goes
  // through the routes above with the person's own token.
  { method: 'GET', path: '/console', handler: 'console', auth: 'public', summary: 'The browser console: sign in, manage API keys, see usage and the audit trail' },
  { method: 'GET', path: '/console/{asset}', handler: 'console', auth: 'public', summary: "The console's configuration (config.json) and its script, stylesheet and icon" },
];

/**
 * Gatehouse's own API, checked when this module loads (a bad table fails every test and the local stack at start).
 * `@__PURE__` lets a bundle that never reads it leave it out: a deployed function carries its deployment's own API
 * (deployment.ts), checked at cold start instead, and would otherwise check this table too at every import.
 */
export const GATEHOUSE_API = /* @__PURE__ */ defineApi({ scopes: SCOPES, routes: ROUTES });

/** Every scope of Gatehouse's own API, in declaration order (derived: for tests, the CLI and docs). */
export const ALL_SCOPES = /* @__PURE__ */ scopesOf(GATEHOUSE_API);

function scopesOf(api: Api): readonly Scope[] {
  return api.scopes.all;
}
