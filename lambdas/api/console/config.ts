/**
 * `GET /console/config.json`: what the page needs to know about this deployment — how to sign in, where the console
 * and the routes it calls are (under whatever base path the deployment mounts them), the scope each route needs (so a
 * page the person may not use says which scope is missing), and the scope catalog. Derived from the route table at
 * cold start; the browser code imports these types only.
 */
import type { Api, Route } from '../../core/api-definition.js';
import { AUDIT_EVENT_TYPES } from '../../core/audit.js';
import { ADMIN_GROUP } from '../../core/scopes.js';
import { MAX_GRACE_SECONDS } from '../keys/schemas.js';
import type { ConsoleSignIn } from './sign-in.js';

/** The routes the console calls: which handler group serves each, and its key in that group. */
export const CONSOLE_OPERATIONS = {
  whoami: { handler: 'whoami', key: 'GET /v1/whoami' },
  listKeys: { handler: 'keys', key: 'GET /v1/keys' },
  createKey: { handler: 'keys', key: 'POST /v1/keys' },
  revokeKey: { handler: 'keys', key: 'DELETE /v1/keys/{keyId}' },
  rotateKey: { handler: 'keys', key: 'POST /v1/keys/{keyId}/rotate' },
  usage: { handler: 'usage', key: 'GET /v1/usage' },
  audit: { handler: 'audit', key: 'GET /v1/audit' },
} as const;

export type ConsoleOperation = keyof typeof CONSOLE_OPERATIONS;

export interface ConsoleRoute {
  readonly method: string;
  /** The route's path as deployed (path parameters as `{name}`), without the stage. */
  readonly path: string;
  readonly scope?: string;
}

export interface ConsoleConfig {
  /** Null when the deployment configured no sign-in for the console. */
  readonly signIn: ConsoleSignIn | null;
  /** The console page's own route path (e.g. `/console`, or `/gatehouse/console` when mounted). */
  readonly consolePath: string;
  /** The routes this deployment serves; an operation it does not serve is absent. */
  readonly routes: Partial<Record<ConsoleOperation, ConsoleRoute>>;
  /** Every scope of the deployment, with what it is for. */
  readonly scopes: Readonly<Record<string, string>>;
  readonly auditEventTypes: readonly string[];
  readonly maxGraceSeconds: number;
  /** The group whose members are administrators (shown on the whoami page; the API decides what it allows). */
  readonly adminGroup: string;
}

/** `route` serves the operation `key` (`METHOD /path`), at its path or mounted under a literal base path. */
function serves(route: Route, key: string): boolean {
  const space = key.indexOf(' ');
  const path = key.slice(space + 1);
  if (route.method !== key.slice(0, space)) return false;
  return route.path === path || (route.path.endsWith(path) && /^(\/[A-Za-z0-9._~-]+)+$/.test(route.path.slice(0, -path.length)));
}

export const CONSOLE_GROUP = 'console';
export const CONSOLE_PAGE_KEY = 'GET /console';

/** The path the console page is served at in `api`, or undefined when the deployment does not serve it. */
export function consolePathOf(api: Api): string | undefined {
  return api.routes.find((r) => r.handler === CONSOLE_GROUP && serves(r, CONSOLE_PAGE_KEY))?.path;
}

export function buildConsoleConfig(api: Api, signIn: ConsoleSignIn | null): ConsoleConfig {
  const consolePath = consolePathOf(api);
  if (consolePath === undefined) throw new Error(`The console group serves no ${CONSOLE_PAGE_KEY} route`);
  const routes: Partial<Record<ConsoleOperation, ConsoleRoute>> = {};
  for (const [operation, { handler, key }] of Object.entries(CONSOLE_OPERATIONS) as [ConsoleOperation, (typeof CONSOLE_OPERATIONS)[ConsoleOperation]][]) {
    const route = api.routes.find((r) => r.handler === handler && serves(r, key));
    if (route) routes[operation] = { method: route.method, path: route.path, ...(route.scope ? { scope: route.scope } : {}) };
  }
  return {
    signIn,
    consolePath,
    routes,
    scopes: Object.fromEntries(api.scopes.all.map((s) => [s, api.scopes.describe(s) ?? s])),
    auditEventTypes: [...AUDIT_EVENT_TYPES],
    maxGraceSeconds: MAX_GRACE_SECONDS,
    adminGroup: ADMIN_GROUP,
  };
}
