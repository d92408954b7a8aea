/**
 * The whole of Gatehouse as one CDK app: five env-agnostic stacks (no lookups), deployed in dependency order by
 * `cdk deploy --all`, each a thin composition of one construct of the library (infra/index.ts).
 *
 *   <prefix>Network  GatehouseNetwork: VPC (isolated subnets, no NAT), VPC endpoints, flow logs, security groups
 *   <prefix>Data     GatehouseData: DynamoDB table, pepper and admin-key secrets, bootstrap admin key
 *   <prefix>Identity GatehouseIdentity: Cognito user pool, managed login, clients, resource server, groups; JWKS mirror
 *   <prefix>Waf      GatehouseWaf: the regional web ACL and its logging
 *   <prefix>Api      GatehouseApi: REST API from the route table, authorizer and handler functions, WAF association;
 *                    GatehouseMonitoring: the dashboard, the alarms and their topic
 *
 * Cross-stack references are strong (CloudFormation exports and Fn::ImportValue; cdk.json sets
 * @aws-cdk/core:defaultCrossStackReferences to "strong", and this module refuses anything else): CloudFormation then
 * deploys producers first, refuses to delete a producer or change an exported value while a consumer imports it, and
 * every consumer reads the value current at its own deployment. Weak references (Fn::GetStackOutput) let a consumer
 * keep a value its producer no longer has (CDK skips a consumer whose template did not change) and let a producer be
 * deleted under it. README "Cross-stack references" says what to do when an exported value must change.
 *
 * The handler groups are loaded first (dynamic import, {@link loadAppGroups}); building the stacks is synchronous.
 */
import type { App } from 'aws-cdk-lib';
import { DEFAULT_CROSS_STACK_REFERENCES } from 'aws-cdk-lib/cx-api';
import { ConfigError } from '../lambdas/core/errors.js';
import { GSI1 } from '../lambdas/core/table.js';
import type { HandlerGroup } from '../lambdas/api/group.js';
import { GATEHOUSE_APP, type GatehouseApp } from '../lambdas/app.js';
import { ApiStack } from './api-stack.js';
import { readConfig, type GatehouseConfig } from './config.js';
import { DataStack } from './data-stack.js';
import { requiredEndpoints } from './endpoints.js';
import { IdentityStack } from './identity-stack.js';
import { NetworkStack } from './network-stack.js';
import { WafStack } from './waf-stack.js';

export interface GatehouseStacks {
  readonly config: GatehouseConfig;
  readonly app: GatehouseApp;
  readonly groups: ReadonlyMap<string, HandlerGroup>;
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly identity: IdentityStack;
  readonly waf: WafStack;
  readonly api: ApiStack;
}

export interface BuildGatehouseOptions {
  /** The handler groups the app's routes name: `await loadAppGroups(app)`. */
  readonly groups: ReadonlyMap<string, HandlerGroup>;
  /** @default GATEHOUSE_APP (the repository's own route table, lambdas/routes.ts) */
  readonly app?: GatehouseApp;
  /** Entry files of groups not in lambdas/api/<name>/ (GatehouseApiProps.handlerEntries). */
  readonly handlerEntries?: Readonly<Record<string, string>>;
  /** GatehouseApiProps.bookkeeperEntry. @default lambdas/bookkeeper/handler when it exists */
  readonly bookkeeperEntry?: string | false;
}

/** Weak references would leave consumers on stale values; see the file comment. */
function assertStrongReferences(cdkApp: App): void {
  const strength: unknown = cdkApp.node.tryGetContext(DEFAULT_CROSS_STACK_REFERENCES);
  if (strength !== undefined && strength !== 'strong') {
    throw new ConfigError(DEFAULT_CROSS_STACK_REFERENCES, `"strong" (it is ${JSON.stringify(strength)}): Gatehouse's stacks reference each other through exports`);
  }
}

export function buildGatehouse(cdkApp: App, options: BuildGatehouseOptions): GatehouseStacks {
  const app = options.app ?? GATEHOUSE_APP;
  assertStrongReferences(cdkApp);
  const config = readConfig(cdkApp.node.getAllContext() as Record<string, unknown>, app.api);
  const { groups } = options;
  const prefix = config.infra.stackPrefix;
  const description = (what: string) => `Gatehouse ${what}`;

  const network = new NetworkStack(cdkApp, `${prefix}Network`, {
    config,
    endpoints: requiredEndpoints(groups.values(), app.targets),
    description: description('network: isolated VPC and endpoints'),
  });
  const data = new DataStack(cdkApp, `${prefix}Data`, { config, network: network.functionNetwork, api: app.api, description: description('data: table, secrets, bootstrap admin key') });
  const identity = new IdentityStack(cdkApp, `${prefix}Identity`, { config, table: data.table, api: app.api, description: description('identity: Cognito and the JWKS mirror') });
  const waf = new WafStack(cdkApp, `${prefix}Waf`, { config, app, description: description('WAF web ACL') });
  const api = new ApiStack(cdkApp, `${prefix}Api`, {
    config,
    app,
    groups,
    network: network.functionNetwork,
    data: data.data,
    identity: identity.identity,
    webAclArn: waf.waf.webAclArn,
    handlerEntries: options.handlerEntries,
    bookkeeperEntry: options.bookkeeperEntry,
    monitoring: {
      waf: { webAclName: waf.waf.webAclName, ruleMetricNames: waf.waf.ruleMetricNames },
      jwksMirror: { fn: identity.identity.jwksMirror.fn, deadLetters: identity.identity.jwksMirrorDeadLetters },
      functions: [identity.identity.jwksMirror.fn],
      tableIndexName: GSI1.name,
    },
    description: description('API: REST API, authorizer and handlers; dashboard and alarms'),
  });
  return { config, app, groups, network, data, identity, waf, api };
}
