/**
 * Route matching as API Gateway (REST) does it, from the one route table.
 *
 * - API Gateway resolves a *resource* from the path first, then looks for the method on it: a path whose
 *   resource exists but lacks the method is as unknown as a path with no resource (both answer
 *   MISSING_AUTHENTICATION_TOKEN, which Gatehouse's definitions turn into a 404).
 * - Among resources whose template matches the whole path, the one with a literal segment at the first
 *   position where they differ wins (`/v1/keys/me` beats `/v1/keys/{keyId}`); this is the rule
 *   `lambdas/core/policy.ts` assumes when it proves its policies exact.
 * - A `{param}` matches one non-empty segment and never contains `/`; greedy `{proxy+}` does not exist here.
 * - Matching uses the raw (percent-encoded) path, as REST APIs deliver `path`; path parameters reach the
 *   integration URL-decoded.
 * - Every prefix of a route's path is a resource too (`/v1`, `/v1/keys/{keyId}`): API Gateway builds a tree,
 *   and CORS preflight (OPTIONS) is answered on every resource of it.
 */
import type { Route } from '../../lambdas/core/api-definition.js';
import { emptyRecord } from './records.js';

export interface Resource {
  /** The resource path template, e.g. `/v1/keys/{keyId}`. */
  readonly path: string;
  readonly segments: readonly string[];
  /** Methods that have a route on this resource (empty for intermediate resources such as `/v1`). */
  readonly methods: ReadonlyMap<string, Route>;
}

export interface ResourceMatch {
  readonly resource: Resource;
  /** Decoded path parameters (empty object when the template has none). */
  readonly pathParameters: Readonly<Record<string, string>>;
}

export interface RouteMatch extends ResourceMatch {
  readonly route: Route;
}

export interface Router {
  /** The resource a raw path resolves to, or undefined when no resource matches. */
  resource(rawPath: string): ResourceMatch | undefined;
  /** The route for a method and raw path, or undefined (unknown path, or known path without that method). */
  match(method: string, rawPath: string): RouteMatch | undefined;
}

const isParam = (segment: string): boolean => segment.startsWith('{') && segment.endsWith('}');

function segmentsOf(path: string): string[] {
  return path === '/' ? [''] : path.slice(1).split('/');
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // malformed escapes reach the integration as sent
  }
}

/** True when template `a` is more specific than `b` for a path both match (literal first where they differ). */
function moreSpecific(a: Resource, b: Resource): boolean {
  for (let i = 0; i < a.segments.length; i += 1) {
    const pa = isParam(a.segments[i] ?? '');
    const pb = isParam(b.segments[i] ?? '');
    if (pa !== pb) return !pa;
  }
  return false;
}

export function createRouter(routes: readonly Route[]): Router {
  const byPath = new Map<string, Map<string, Route>>();
  for (const route of routes) {
    const segments = segmentsOf(route.path);
    // Intermediate resources of the tree.
    for (let n = 1; n < segments.length; n += 1) {
      const prefix = `/${segments.slice(0, n).join('/')}`;
      if (!byPath.has(prefix)) byPath.set(prefix, new Map());
    }
    let methods = byPath.get(route.path);
    if (methods === undefined) {
      methods = new Map();
      byPath.set(route.path, methods);
    }
    if (methods.has(route.method)) throw new Error(`Route table lists ${route.method} ${route.path} twice`);
    methods.set(route.method, route);
  }
  const resources: Resource[] = [...byPath].map(([path, methods]) => ({ path, segments: segmentsOf(path), methods }));

  const resource = (rawPath: string): ResourceMatch | undefined => {
    if (!rawPath.startsWith('/')) return undefined;
    const parts = segmentsOf(rawPath);
    let best: Resource | undefined;
    for (const candidate of resources) {
      if (candidate.segments.length !== parts.length) continue;
      const matches = candidate.segments.every((segment, i) => {
        const part = parts[i] ?? '';
        return isParam(segment) ? part !== '' : segment === part;
      });
      if (matches && (best === undefined || moreSpecific(candidate, best))) best = candidate;
    }
    if (best === undefined) return undefined;
    const pathParameters = emptyRecord<string>();
    best.segments.forEach((segment, i) => {
      if (isParam(segment)) pathParameters[segment.slice(1, -1)] = decodeSegment(parts[i] ?? '');
    });
    return { resource: best, pathParameters };
  };

  return {
    resource,
    match(method, rawPath) {
      const found = resource(rawPath);
      const route = found?.resource.methods.get(method);
      return found && route ? { ...found, route } : undefined;
    },
  };
}
