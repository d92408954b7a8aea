/**
 * The REQUEST authorizer as API Gateway runs it — identity sources and result cache, the trade-off:
 *
 * A credential arrives in `Authorization` *or* `X-API-Key`. With API Gateway's authorizer cache on, every identity
 * source must be present and non-empty or API Gateway answers 401 without calling the authorizer, so no choice of
 * sources lets both headers work with caching on (keying the cache on something always present, such as the source
 * IP, would share one principal's policy with every caller behind that address).
 *
 * - Default (`gatewayCacheTtlSeconds: 0`): API Gateway's cache OFF and no identity source. The authorizer is invoked
 *   for every request and caches decisions itself, per container, for at most `cacheTtlSeconds`. Both headers work;
 *   every request is billed an authorizer invocation.
 * - Gateway cache mode (`gatewayCacheTtlSeconds` > 0, lambdas/core/gateway-cache.ts): API Gateway keeps the answer for
 *   that TTL, keyed on `Authorization` alone; requests with the same header within it skip the invocation. Credentials
 *   must then travel as `Authorization: Bearer …` (the 401 says so), and the two caches together stay within the
 *   revocation window (checked when the configuration is read).
 * Either way the policy covers every route the principal's scopes permit, so a cached one is right on every route.
 * With the feature flag `@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId` (cdk.json), a change of mode
 * creates a new deployment of the stage, so it takes effect on deploy.
 */
import { Duration } from 'aws-cdk-lib';
import { IdentitySource, RequestAuthorizer, type CfnAuthorizer } from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { GATEWAY_CACHE_HEADER, type AuthorizerCaching } from '../../lambdas/core/gateway-cache.js';

export function gatehouseRequestAuthorizer(scope: Construct, id: string, handler: IFunction, caching: AuthorizerCaching): RequestAuthorizer {
  const cached = caching.ttlSeconds > 0;
  const authorizer = new RequestAuthorizer(scope, id, {
    authorizerName: 'gatehouse',
    handler,
    identitySources: cached ? [IdentitySource.header(GATEWAY_CACHE_HEADER)] : [],
    resultsCacheTtl: Duration.seconds(caching.ttlSeconds),
  });
  // Caching off: no identity source is required, so either credential header may be the one present.
  if (!cached) (authorizer.node.defaultChild as CfnAuthorizer).addPropertyDeletionOverride('IdentitySource');
  return authorizer;
}
