/**
 * A team's HTTP endpoint behind Gatehouse (lambdas/app.ts HttpTarget): an HTTP proxy integration per route, to the
 * target's URL + the route's path with its path parameters mapped, and the principal in `X-Gatehouse-*` request
 * headers (lambdas/core/principal-headers.ts) mapped from the authorizer's context.
 *
 * A client's own `X-Gatehouse-*` header must never reach the service as if Gatehouse had set it. On token routes
 * every principal header is mapped from `context.authorizer.*`, which replaces what the client sent. Public and IAM
 * routes have no authorizer context, so there every principal header is set to the empty string: the service sees
 * "no principal", never a forged one.
 */
import { Duration } from 'aws-cdk-lib';
import { HttpIntegration } from 'aws-cdk-lib/aws-apigateway';
import type { HttpTarget } from '../../lambdas/app.js';
import type { Route } from '../../lambdas/core/api-definition.js';
import { GATEHOUSE_CREDENTIAL_HEADERS, PRINCIPAL_HEADERS } from '../../lambdas/core/principal-headers.js';

/** API Gateway's default ceiling for a REST integration (it can be raised by quota, not here). */
export const MAX_INTEGRATION_TIMEOUT_MS = 29_000;

/** `{name}` parameters of a route path, in order. */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => name!);
}

/**
 * Request parameter mappings that carry the principal (token routes) or blank it (other routes), and blank the
 * credential the gateway checked (token and IAM routes): see lambdas/core/principal-headers.ts.
 */
export function principalHeaderMappings(route: Pick<Route, 'auth'>): Record<string, string> {
  const mappings: Record<string, string> = Object.fromEntries(
    Object.entries(PRINCIPAL_HEADERS).map(([header, key]) => [`integration.request.header.${header}`, route.auth === 'token' ? `context.authorizer.${key}` : "''"]),
  );
  if (route.auth !== 'public') for (const header of GATEHOUSE_CREDENTIAL_HEADERS) mappings[`integration.request.header.${header}`] = "''";
  return mappings;
}

/** The method request parameters an HTTP target route declares (its path parameters, required). */
export function methodPathParameters(route: Pick<Route, 'path'>): Record<string, boolean> {
  return Object.fromEntries(pathParameters(route.path).map((name) => [`method.request.path.${name}`, true]));
}

/** The integration URI: the target's URL (no trailing slash) + the route's path, parameters as `{name}`. */
export function httpTargetUri(target: Pick<HttpTarget, 'url'>, route: Pick<Route, 'path'>): string {
  return target.url.replace(/\/+$/, '') + route.path;
}

export function httpTargetIntegration(target: HttpTarget, route: Route): HttpIntegration {
  const timeoutMs = target.timeoutMs ?? MAX_INTEGRATION_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 50 || timeoutMs > MAX_INTEGRATION_TIMEOUT_MS) {
    throw new Error(`HTTP target ${route.handler}: timeoutMs must be an integer from 50 to ${MAX_INTEGRATION_TIMEOUT_MS}`);
  }
  return new HttpIntegration(httpTargetUri(target, route), {
    httpMethod: route.method,
    proxy: true,
    options: {
      requestParameters: {
        ...Object.fromEntries(pathParameters(route.path).map((name) => [`integration.request.path.${name}`, `method.request.path.${name}`])),
        ...principalHeaderMappings(route),
      },
      timeout: Duration.millis(timeoutMs),
    },
  });
}
