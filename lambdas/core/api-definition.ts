/**
 * What an API protected by Gatehouse is: its scopes and its routes, declared once. Gatehouse's own declaration is
 * `lambdas/routes.ts`; a team adds its own route groups there (the template path) or declares its own API and
 * mounts Gatehouse's routes beside it (the library path). Everything else — the authorizer's policy, the handlers'
 * route checks, key-scope validation, OpenAPI, the local gateway, the local OIDC provider, the Cognito resource
 * server and groups, CDK methods, functions and grants, and the client — is derived from an {@link Api}.
 *
 * Pure: no I/O. {@link defineApi} checks a declaration completely, so a bad one fails at synth, at `npm start`
 * and at every cold start — never on a request.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { assertRouteTableIsPolicySafe } from './policy.js';
import { ScopeCatalog, ScopeDefinitionError, type Scope, type ScopeDefinition } from './scopes.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
export const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

/**
 * - `public`: no authorizer.
 * - `token`: the Gatehouse REQUEST authorizer (API key or JWT).
 * - `iam`: API Gateway IAM auth (SigV4).
 */
export type AuthKind = 'public' | 'token' | 'iam';

export interface Route {
  readonly method: HttpMethod;
  /** API Gateway resource path; path parameters as `{name}` (never greedy). */
  readonly path: string;
  /**
   * What serves the route: a handler group (`lambdas/api/<handler>/`, one Lambda function each) or, in a team's
   * own API, one of its declared targets (a Lambda entry or an HTTP endpoint).
   */
  readonly handler: string;
  readonly auth: AuthKind;
  /** Scope the principal must hold; absent means any authenticated principal. Only on `token` routes. */
  readonly scope?: Scope;
  /** One line for the OpenAPI document. */
  readonly summary: string;
}

export interface ApiDefinition {
  /** Every scope the API's routes (and keys) may use, with who holds it. */
  readonly scopes: Readonly<Record<Scope, ScopeDefinition>>;
  readonly routes: readonly Route[];
}

/** A checked declaration, with its scope catalog. */
export interface Api {
  readonly definition: ApiDefinition;
  readonly routes: readonly Route[];
  readonly scopes: ScopeCatalog;
}

export class ApiDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiDefinitionError';
  }
}

const HANDLER_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const MAX_SUMMARY = 200;

export const routeKeyOf = (route: Pick<Route, 'method' | 'path'>): string => `${route.method} ${route.path}`;

function describe(route: Route): string {
  return routeKeyOf(route);
}

/** Checks a declaration and builds its catalog; throws {@link ApiDefinitionError} naming what is wrong. */
export function defineApi(definition: ApiDefinition): Api {
  let scopes: ScopeCatalog;
  try {
    scopes = new ScopeCatalog(definition.scopes);
  } catch (error) {
    if (error instanceof ScopeDefinitionError) throw new ApiDefinitionError(error.message);
    throw error;
  }
  const seen = new Set<string>();
  for (const route of definition.routes) {
    if (!HTTP_METHODS.includes(route.method)) throw new ApiDefinitionError(`Route ${describe(route)}: method must be one of ${HTTP_METHODS.join(', ')}`);
    if (!HANDLER_NAME.test(route.handler)) {
      throw new ApiDefinitionError(`Route ${describe(route)}: handler "${route.handler}" must be lower-case letters, digits and -, starting with a letter`);
    }
    if (!['public', 'token', 'iam'].includes(route.auth)) throw new ApiDefinitionError(`Route ${describe(route)}: auth must be public, token or iam`);
    if (route.scope !== undefined) {
      if (route.auth !== 'token') throw new ApiDefinitionError(`Route ${describe(route)}: only token routes have a scope (this one is ${route.auth})`);
      if (!scopes.has(route.scope)) {
        throw new ApiDefinitionError(`Route ${describe(route)} needs scope ${route.scope}, which is not declared: add it to the scopes with its description and groups`);
      }
    }
    if (typeof route.summary !== 'string' || route.summary.trim() === '' || route.summary.length > MAX_SUMMARY) {
      throw new ApiDefinitionError(`Route ${describe(route)} needs a summary of 1–${MAX_SUMMARY} characters (it is the OpenAPI summary)`);
    }
    const key = routeKeyOf(route);
    if (seen.has(key)) throw new ApiDefinitionError(`Route ${key} is declared twice`);
    seen.add(key);
  }
  try {
    // Path shapes, routes API Gateway could not tell apart, and layouts no IAM-glob policy can separate.
    assertRouteTableIsPolicySafe(definition.routes);
  } catch (error) {
    throw new ApiDefinitionError(error instanceof Error ? error.message : String(error));
  }
  return { definition, routes: definition.routes, scopes };
}

/**
 * Several declarations as one API (Gatehouse's own routes and a team's). A scope declared by more than one must be
 * declared identically; a route may appear once.
 */
export function mergeApiDefinitions(...definitions: readonly ApiDefinition[]): ApiDefinition {
  const scopes: Record<Scope, ScopeDefinition> = Object.create(null) as Record<Scope, ScopeDefinition>;
  for (const def of definitions) {
    for (const [name, scope] of Object.entries(def.scopes)) {
      const existing = scopes[name];
      if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(scope)) {
        throw new ApiDefinitionError(`Scope ${name} is declared twice, differently`);
      }
      scopes[name] = scope;
    }
  }
  return { scopes: { ...scopes }, routes: definitions.flatMap((d) => d.routes) };
}

/** The same declaration under a base path (`/gatehouse` + `/v1/keys` = `/gatehouse/v1/keys`). */
export function mountApiDefinition(definition: ApiDefinition, basePath: string): ApiDefinition {
  const base = normaliseBasePath(basePath);
  if (base === '') return definition;
  return { scopes: definition.scopes, routes: definition.routes.map((r) => ({ ...r, path: r.path === '/' ? base : base + r.path })) };
}

/** `gatehouse`, `/gatehouse/` → `/gatehouse`; `''` and `/` → `''` (the root). Each segment a literal. */
export function normaliseBasePath(basePath: string): string {
  const trimmed = basePath.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  for (const segment of trimmed.split('/')) {
    if (!/^[A-Za-z0-9._~-]+$/.test(segment)) throw new ApiDefinitionError(`Base path segment "${segment}" must be a plain literal (letters, digits, . _ ~ -)`);
  }
  return `/${trimmed}`;
}

// ------------------------------------------------------------------------------------------------------------------
// The declaration inside a Lambda bundle
// ------------------------------------------------------------------------------------------------------------------

/**
 * The variable a deployment's declaration reaches its functions under. CDK bundles it into every Gatehouse function
 * (esbuild `define` replaces `process.env.GATEHOUSE_API_DEFINITION` with the encoded text), so the declaration is
 * part of the code version: a deploy that changes routes changes the functions, and no warm container keeps an old
 * table. Unset, the functions serve Gatehouse's own declaration (`lambdas/routes.ts`).
 */
export const API_DEFINITION_ENV = 'GATEHOUSE_API_DEFINITION';

/** deflate-raw + base64url of the JSON: small, and plain ASCII wherever it is passed. */
export function encodeApiDefinition(definition: ApiDefinition): string {
  return deflateRawSync(Buffer.from(JSON.stringify(definition), 'utf8')).toString('base64url');
}

export function decodeApiDefinition(encoded: string): ApiDefinition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(inflateRawSync(Buffer.from(encoded, 'base64url')).toString('utf8'));
  } catch {
    throw new ApiDefinitionError(`${API_DEFINITION_ENV} is not an encoded API definition`);
  }
  if (typeof parsed !== 'object' || parsed === null || !('scopes' in parsed) || !('routes' in parsed) || !Array.isArray(parsed.routes)) {
    throw new ApiDefinitionError(`${API_DEFINITION_ENV} is not an encoded API definition`);
  }
  return parsed as ApiDefinition;
}
