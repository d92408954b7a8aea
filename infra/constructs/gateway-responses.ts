/**
 * The error envelope for everything API Gateway answers itself (lambdas/core/gateway-responses.ts, the local
 * gateway's definitions): Cache-Control no-store on every one, and CORS headers only when exactly one origin is
 * configured — a gateway response is static and cannot pick the request's origin out of several
 * (lambdas/core/cors.ts, staticCorsHeaders). Gateway responses belong to the whole REST API: with a team's API they
 * answer for its own routes too.
 */
import { GatewayResponse, ResponseType, RestApiBase, type IRestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';
import { GATEWAY_RESPONSES, gatewayResponseHeaders, gatewayResponseTemplate, templateVariablesOf, type GatewayResponseDefinition } from '../../lambdas/core/gateway-responses.js';

/** A gateway-response header value is a mapping expression: static text goes in single quotes. */
function staticValue(value: string): string {
  if (value.includes("'")) throw new Error(`Gateway response header value cannot contain a single quote: ${value}`);
  return `'${value}'`;
}

function responseOptions(def: GatewayResponseDefinition, corsOrigins: readonly string[]) {
  const body = gatewayResponseTemplate(def);
  // The template is VTL: no `$` or `#` may reach it from the static text, beyond the `$context` variables meant.
  const staticText = templateVariablesOf(body).reduce((text, variable) => text.replace(variable, ''), body);
  if (/[#$]/.test(staticText)) throw new Error(`Gateway response ${def.type} text would be read as VTL`);
  return {
    type: ResponseType.of(def.type),
    statusCode: String(def.status),
    // Static values, and the authorizer's own context values; never `method.request.header.…`, which would copy
    // client input into the response.
    responseHeaders: {
      ...Object.fromEntries(Object.entries(gatewayResponseHeaders(def, corsOrigins)).map(([name, value]) => [name, staticValue(value)])),
      ...Object.fromEntries(Object.entries(def.contextHeaders ?? {}).map(([name, key]) => [name, `context.authorizer.${key}`])),
    },
    templates: { 'application/json': body },
  };
}

/**
 * One gateway response per type (`definitions`: the deployment's, lambdas/core/gateway-cache.ts gatewayResponsesFor): children of the REST API construct (`Response-<type>`, also for an imported one), or
 * of `scope` for another IRestApi implementation.
 */
export function addGatewayResponses(
  scope: Construct,
  restApi: IRestApi,
  corsOrigins: readonly string[],
  definitions: readonly GatewayResponseDefinition[] = GATEWAY_RESPONSES,
): GatewayResponse[] {
  return definitions.map((def) => {
    const id = `Response-${def.type}`;
    const options = responseOptions(def, corsOrigins);
    if (restApi instanceof RestApiBase) return restApi.addGatewayResponse(id, options);
    return new GatewayResponse(scope, id, { restApi, ...options });
  });
}
