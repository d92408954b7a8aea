/**
 * `gatehouse` (the package root): the declaration of an API behind Gatehouse — its scopes, routes and targets —
 * shared by the CDK constructs (`gatehouse/cdk`), the local stack (`gatehouse-local --app <file>`) and the runtime.
 *
 *   import { defineApp } from 'gatehouse';
 *   export default defineApp({ scopes, routes, targets, gatehouse: { basePath: '/gatehouse' } });
 *
 * Pure data and checks: nothing here imports CDK, the local stack or an AWS SDK client, so a declaration file
 * loads anywhere (a CDK app, `gatehouse-local`, a test). Other entry points: `gatehouse/cdk` (the constructs),
 * `gatehouse/runtime` (for a team's own Lambda functions and services), `gatehouse/client` (the typed client),
 * `gatehouse/local` (startLocalStack).
 */

// A team's app: its routes and targets, and Gatehouse's own routes mounted beside them.
export { defineApp, extendGatehouseApp, gatehouseRoutes, DEFAULT_MOUNTED_GROUPS, GATEHOUSE_APP } from './app.js';
export type { AppDefinition, GatehouseApp, GatehouseMount, HttpTarget, LambdaTarget, Target } from './app.js';

// API declarations: checking, merging and mounting route tables.
export {
  ApiDefinitionError,
  defineApi,
  HTTP_METHODS,
  mergeApiDefinitions,
  mountApiDefinition,
  normaliseBasePath,
  routeKeyOf,
} from './core/api-definition.js';
export type { Api, ApiDefinition, AuthKind, HttpMethod, Route } from './core/api-definition.js';

// Scopes.
export { ADMIN_GROUP } from './core/scopes.js';
export type { Scope, ScopeCatalog, ScopeDefinition } from './core/scopes.js';

// Gatehouse's own API (its route table), for mounting parts of it or extending it.
export { GATEHOUSE_API } from './routes.js';

// Handler groups (the template path: a folder `lambdas/api/<name>/` in a Gatehouse checkout).
export { bundleValues, defineHandlerGroup } from './api/group.js';
export type { AccessStatement, BundleContext, DeploymentValues, HandlerAccess, HandlerGroup, TableAction } from './api/group.js';

// How the principal reaches an HTTP target (header → authorizer context key).
export { PRINCIPAL_HEADERS } from './core/principal-headers.js';
export type { Principal } from './core/principal.js';
