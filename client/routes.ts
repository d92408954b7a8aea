/**
 * The client's view of the one route table: which route a method and path address (for the scope a 403 is about
 * and whether a call needs SigV4), and how a template becomes a path.
 */
import { ROUTES, type Route } from '../lambdas/routes.js';

export { ROUTES, type Route };

const segments = (path: string): string[] => path.replace(/^\/+/, '').split('/');
const isParam = (segment: string): boolean => segment.startsWith('{') && segment.endsWith('}');

/**
 * The route a request addresses, by the gateway's rule: among templates matching every segment, the one with a
 * literal where they first differ wins. Undefined for a path the table does not have.
 */
export function findRoute(method: string, path: string, routes: readonly Route[] = ROUTES): Route | undefined {
  const parts = segments(path.split('?')[0] ?? '');
  let best: { route: Route; segs: string[] } | undefined;
  for (const route of routes) {
    if (route.method !== method.toUpperCase()) continue;
    const segs = segments(route.path);
    if (segs.length !== parts.length) continue;
    if (!segs.every((s, i) => (isParam(s) ? (parts[i] ?? '') !== '' : s === parts[i]))) continue;
    if (!best) {
      best = { route, segs };
      continue;
    }
    const firstDiff = segs.findIndex((s, i) => isParam(s) !== isParam(best!.segs[i] ?? ''));
    if (firstDiff !== -1 && !isParam(segs[firstDiff] ?? '')) best = { route, segs };
  }
  return best?.route;
}

/** The route of an operation key (`METHOD /template`). */
export function routeOf(key: string, routes: readonly Route[] = ROUTES): Route {
  const space = key.indexOf(' ');
  const method = key.slice(0, space);
  const path = key.slice(space + 1);
  const route = routes.find((r) => r.method === method && r.path === path);
  if (!route) throw new Error(`The route table has no ${key}`);
  return route;
}

/** Fills `{name}` placeholders, each value percent-encoded as one segment (so `/` cannot add a level). */
export function expandPath(template: string, params: Readonly<Record<string, string>> = {}): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || value === '') throw new TypeError(`Missing path parameter ${name} for ${template}`);
    return encodeURIComponent(value);
  });
}
