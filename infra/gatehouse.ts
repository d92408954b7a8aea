/**
 * The whole of Gatehouse as one CDK app: five env-agnostic stacks (no lookups), deployed in dependency order by
 * `cdk deploy --all`.
 *
 *   <prefix>Network  VPC (isolated subnets, no NAT), VPC endpoints, flow logs, the functions' security group
 *   <prefix>Data     DynamoDB table, pepper and admin-key secrets, bootstrap admin key (custom resource)
 *   <prefix>Identity Cognito user pool, managed login, clients, resource server, groups; the JWKS mirror
 *   <prefix>Waf      the regional web ACL and its logging
 *   <prefix>Api      REST API from the route table, authorizer and handler functions, WAF association
 */
import type { App } from 'aws-cdk-lib';
import { ApiStack } from './api-stack.js';
import { readConfig, type GatehouseConfig } from './config.js';
import { DataStack } from './data-stack.js';
import { IdentityStack } from './identity-stack.js';
import { NetworkStack } from './network-stack.js';
import { WafStack } from './waf-stack.js';

export interface GatehouseStacks {
  readonly config: GatehouseConfig;
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly identity: IdentityStack;
  readonly waf: WafStack;
  readonly api: ApiStack;
}

export function buildGatehouse(app: App): GatehouseStacks {
  const config = readConfig(app.node.getAllContext() as Record<string, unknown>);
  const prefix = config.infra.stackPrefix;
  const description = (what: string) => `Gatehouse ${what}`;

  const network = new NetworkStack(app, `${prefix}Network`, { config, description: description('network: isolated VPC and endpoints') });
  const data = new DataStack(app, `${prefix}Data`, { config, network: network.functionNetwork, description: description('data: table, secrets, bootstrap admin key') });
  const identity = new IdentityStack(app, `${prefix}Identity`, { config, table: data.table, description: description('identity: Cognito and the JWKS mirror') });
  const waf = new WafStack(app, `${prefix}Waf`, { config, description: description('WAF web ACL') });
  const api = new ApiStack(app, `${prefix}Api`, {
    config,
    network: network.functionNetwork,
    table: data.table,
    pepper: data.pepper,
    cognitoSetting: identity.cognitoSetting,
    webAclArn: waf.webAcl.attrArn,
    description: description('API: REST API, authorizer and handlers'),
  });
  return { config, network, data, identity, waf, api };
}
