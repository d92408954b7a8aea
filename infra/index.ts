/**
 * `gatehouse/cdk`: Gatehouse as CDK constructs, to put in front of a team's own REST API (docs/your-api.md).
 *
 *   import { Gatehouse, defineApp, loadAppGroups, gatehouseConfig } from 'gatehouse/cdk';
 *
 *   const app = defineApp({ scopes, routes, targets, gatehouse: { basePath: '/gatehouse' } });
 *   const groups = await loadAppGroups(app);
 *   new Gatehouse(stack, 'Gatehouse', { app, groups, existingRestApi: api, baseDir: import.meta.dirname, config: gatehouseConfig({ … }) });
 *
 * Or the parts on their own: GatehouseNetwork, GatehouseData, GatehouseIdentity, GatehouseWaf, GatehouseApi.
 * Register cdk-nag's AwsSolutionsChecks as Gatehouse's own app does: the constructs carry their acknowledgements.
 */

// The declaration (pure data, shared with the local stack and the runtime).
export { defineApp, gatehouseRoutes, DEFAULT_MOUNTED_GROUPS, GATEHOUSE_APP } from '../lambdas/app.js';
export type { AppDefinition, GatehouseApp, GatehouseMount, HttpTarget, LambdaTarget, Target } from '../lambdas/app.js';
export type { Api, ApiDefinition, AuthKind, HttpMethod, Route } from '../lambdas/core/api-definition.js';
export type { Scope, ScopeDefinition } from '../lambdas/core/scopes.js';
export { ADMIN_GROUP } from '../lambdas/core/scopes.js';
export type { AccessStatement, BundleContext, DeploymentValues, HandlerAccess, HandlerGroup, TableAction } from '../lambdas/api/group.js';
export { PRINCIPAL_HEADERS } from '../lambdas/core/principal-headers.js';

// Configuration.
export { gatehouseConfig, readConfig, cognitoDomainPrefix, DEPLOYMENT_PROFILES } from './config.js';
export type { DeploymentProfile, GatehouseConfig, GatehouseConfigInput, OidcIssuerInput } from './config.js';

// Loading the handler groups an app's routes name.
export { loadAppGroups } from './groups.js';
export { requiredEndpoints } from './endpoints.js';

// The constructs.
export { Gatehouse, type GatehouseProps } from './constructs/gatehouse.js';
export { GatehouseNetwork, DEFAULT_AZ_IDS, PROFILE_AZ_COUNT, type GatehouseNetworkProps } from './constructs/network.js';
export { GatehouseData, ADMIN_KEY_SECRET_ENV, type GatehouseDataProps, type GatehouseTableProps } from './constructs/data.js';
export {
  GatehouseIdentity,
  RESOURCE_SERVER_ID,
  JWKS_MIRROR_PERIOD,
  JWKS_MIRROR_RETRIES,
  JWKS_MIRROR_MAX_EVENT_AGE,
  cognitoSettingOf,
  type CognitoTokenIssuer,
  type GatehouseIdentityProps,
  type TokenIssuers,
} from './constructs/identity.js';
export { GatehouseConsoleSignIn, type GatehouseConsoleSignInProps } from './constructs/console.js';
export { GatehouseDomain, type GatehouseDomainProps } from './constructs/domain.js';
export { customDomainSchema, securityPolicyOf, DEFAULT_SECURITY_POLICY, MTLS_SECURITY_POLICY, SECURITY_POLICIES, type CustomDomainConfig, type DomainSecurityPolicy } from './domain-config.js';
export { checkTruststore, MAX_TRUSTSTORE_BYTES, MAX_TRUSTSTORE_CERTIFICATES, TruststoreError, type TruststoreSummary } from './truststore.js';
export {
  GatehouseWaf,
  MANAGED_RULE_GROUPS,
  FREE_FORM_BODY_RULES,
  FREE_FORM_BODY_GROUPS,
  freeFormBodyPaths,
  type GatehouseWafProps,
} from './constructs/waf.js';
export {
  GatehouseApi,
  AUTHORIZER_TABLE_ACTIONS,
  BOOKKEEPER_ENTRY,
  BOOKKEEPER_TABLE_ACTIONS,
  OPENAPI_GROUP,
  CONSOLE_GROUP,
  type GatehouseApiProps,
  type GatehouseDataResources,
} from './constructs/api.js';
export { GatehouseMonitoring, ALARM_THRESHOLDS, metricsInsightsSchema, type GatehouseMonitoringProps } from './constructs/monitoring.js';
export { GATEHOUSE_ACCESS_LOG_FIELDS, STAGE_NAME } from './constructs/rest-api.js';
export { principalHeaderMappings, httpTargetUri } from './constructs/http-target.js';
export {
  GatehouseFunction,
  assertLocalEsbuild,
  defaultProjectRoot,
  findProjectRoot,
  FUNCTION_DESCRIPTION_PREFIX,
  GATEHOUSE_CODE_ROOT,
  type FunctionNetwork,
  type GatehouseBundling,
  type AsyncInvokeSettings,
  type GatehouseFunctionProps,
  type ProjectRoot,
} from './function.js';
export { NAG_REASONS, type NagReason } from './nag.js';
