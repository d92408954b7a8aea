/**
 * A team's own API behind Gatehouse (the library path, docs/your-api.md): its scopes, its routes, what serves each
 * route (a Lambda entry or an HTTP endpoint), and optionally Gatehouse's own routes mounted under a base path. One
 * declaration serves CDK (the `gatehouse/cdk` constructs) and the local stack (`npm start -- --app <file>`).
 *
 * Pure data and checks: no CDK, no I/O.
 */
import { ApiDefinitionError, defineApi, mergeApiDefinitions, mountApiDefinition, normaliseBasePath, type Api, type ApiDefinition, type Route } from './core/api-definition.js';
import type { ScopeDefinition } from './core/scopes.js';
import type { HandlerAccess } from './api/group.js';
import { GATEHOUSE_API } from './routes.js';

/** A Lambda function of the team's: its entry file exports a handler (see `gatehouse/runtime` to read the principal). */
export interface LambdaTarget {
  readonly kind: 'lambda';
  /** The entry file, relative to the app declaration's folder (or absolute). */
  readonly entry: string;
  /** The exported handler's name (default `handler`). */
  readonly handler?: string;
  /** What it needs from AWS beyond its own code (see HandlerAccess; the Gatehouse table is not granted). */
  readonly access?: Pick<HandlerAccess, 'statements' | 'network' | 'endpoints'>;
  readonly memorySize?: number;
  readonly timeoutSeconds?: number;
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * An HTTP endpoint of the team's (an existing service). Requests are proxied to `url` + the route's path
 * parameters; the principal travels in `X-Gatehouse-*` request headers that Gatehouse sets (any such header from
 * the client is replaced), so the service must be reachable only through the gateway.
 */
export interface HttpTarget {
  readonly kind: 'http';
  /** Base URL; the route's path (after any base path) is appended, with its parameters filled in. */
  readonly url: string;
  /** Integration timeout (default 29 s, API Gateway's maximum for REST APIs by default). */
  readonly timeoutMs?: number;
}

export type Target = LambdaTarget | HttpTarget;

export interface GatehouseMount {
  /** Where Gatehouse's own routes go, e.g. `/gatehouse` (→ `/gatehouse/v1/keys`). */
  readonly basePath: string;
  /**
   * Which of Gatehouse's handler groups to mount (default: every group but `items`, the sample resource).
   */
  readonly groups?: readonly string[];
}

export interface AppDefinition {
  /** Shown in OpenAPI. */
  readonly title?: string;
  readonly scopes: Readonly<Record<string, ScopeDefinition>>;
  /** The team's routes; each route's `handler` names one of `targets`. */
  readonly routes: readonly Route[];
  readonly targets: Readonly<Record<string, Target>>;
  /** Mount Gatehouse's routes (keys, whoami, usage, audit, verify, OpenAPI, health) beside the team's. */
  readonly gatehouse?: GatehouseMount;
}

/** A checked app: the deployment's whole API (the team's routes and the mounted ones) and the team's targets. */
export interface GatehouseApp {
  readonly definition: AppDefinition;
  readonly api: Api;
  readonly targets: Readonly<Record<string, Target>>;
  readonly title: string;
}

/** Gatehouse's handler groups mounted by default: everything but the sample resource. */
export const DEFAULT_MOUNTED_GROUPS: readonly string[] = [...new Set(GATEHOUSE_API.routes.map((r) => r.handler))].filter((g) => g !== 'items');

/** Gatehouse's own routes of the given groups, with exactly the scopes they (and key management) need. */
export function gatehouseRoutes(groups: readonly string[] = DEFAULT_MOUNTED_GROUPS): ApiDefinition {
  const known = new Set(GATEHOUSE_API.routes.map((r) => r.handler));
  for (const group of groups) if (!known.has(group)) throw new ApiDefinitionError(`Gatehouse has no handler group ${group} (it has ${[...known].join(', ')})`);
  const routes = GATEHOUSE_API.routes.filter((r) => groups.includes(r.handler));
  const used = new Set(routes.flatMap((r) => (r.scope ? [r.scope] : [])));
  const scopes = Object.fromEntries(Object.entries(GATEHOUSE_API.definition.scopes).filter(([name]) => used.has(name)));
  return { scopes, routes };
}

/** Gatehouse's own app: its routes at the root, served by its handler groups. */
export const GATEHOUSE_APP: GatehouseApp = { definition: { ...GATEHOUSE_API.definition, targets: {} }, api: GATEHOUSE_API, targets: {}, title: 'Gatehouse' };

/**
 * Gatehouse's own app with more route groups beside its own (served by handler groups: folders `lambdas/api/<name>/`,
 * or groups handed to CDK and the local stack as objects). This is the template path in one call, without editing
 * `lambdas/routes.ts`; tests use it to add a fixture group.
 */
export function extendGatehouseApp(extra: ApiDefinition, title = 'Gatehouse'): GatehouseApp {
  const api = defineApi(mergeApiDefinitions(GATEHOUSE_API.definition, extra));
  return { definition: { ...api.definition, targets: {} }, api, targets: {}, title };
}

/** Checks a team's declaration completely (names, scopes, targets, the merged route table) and builds its API. */
export function defineApp(definition: AppDefinition): GatehouseApp {
  for (const route of definition.routes) {
    const target = definition.targets[route.handler];
    if (!target) throw new ApiDefinitionError(`Route ${route.method} ${route.path} names target "${route.handler}", which targets does not declare`);
  }
  for (const [name, target] of Object.entries(definition.targets)) {
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(name)) throw new ApiDefinitionError(`Target "${name}": lower-case letters, digits and -, starting with a letter`);
    if (target.kind === 'http') {
      let url: URL;
      try {
        url = new URL(target.url);
      } catch {
        throw new ApiDefinitionError(`Target ${name}: url must be an absolute http(s) URL`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ApiDefinitionError(`Target ${name}: url must be http(s)`);
      if (url.search !== '' || url.hash !== '') throw new ApiDefinitionError(`Target ${name}: url takes no query or fragment`);
    } else if (target.kind === 'lambda') {
      if (typeof target.entry !== 'string' || target.entry === '') throw new ApiDefinitionError(`Target ${name}: entry must name the handler's file`);
    } else {
      throw new ApiDefinitionError(`Target ${name}: kind must be lambda or http`);
    }
  }
  const own: ApiDefinition = { scopes: definition.scopes, routes: definition.routes };
  const mounted = definition.gatehouse ? [mountApiDefinition(gatehouseRoutes(definition.gatehouse.groups), normaliseBasePath(definition.gatehouse.basePath))] : [];
  const mountedGroups = new Set(mounted.flatMap((m) => m.routes.map((r) => r.handler)));
  for (const name of Object.keys(definition.targets)) {
    if (mountedGroups.has(name)) throw new ApiDefinitionError(`Target ${name} has the name of a mounted Gatehouse handler group: rename it`);
  }
  const api = defineApi(mergeApiDefinitions(own, ...mounted));
  return { definition, api, targets: definition.targets, title: definition.title ?? 'API' };
}
