/**
 * <prefix>Waf: the regional web ACL and its logging (GatehouseWaf; rules and their limits are documented there). The
 * association lives in the API stack, on the stage itself. The construct's id is `Default`, which CDK leaves out of
 * logical ids.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import type { GatehouseApp } from '../lambdas/app.js';
import type { GatehouseConfig } from './config.js';
import { freeFormBodyPaths, GatehouseWaf } from './constructs/waf.js';

export { CREDENTIAL_HEADERS, CREDENTIAL_KEY_TRANSFORMATIONS, MANAGED_RULE_GROUPS, WAF_REQUEST_ID } from './constructs/waf.js';

export interface WafStackProps extends StackProps {
  readonly config: GatehouseConfig;
  /** The deployment's app: its free-form body routes (freeFormBodyPaths). @default Gatehouse's own */
  readonly app?: GatehouseApp;
}

export class WafStack extends Stack {
  readonly waf: GatehouseWaf;

  constructor(scope: Construct, id: string, props: WafStackProps) {
    super(scope, id, props);
    this.waf = new GatehouseWaf(this, 'Default', { config: props.config, ...(props.app ? { freeFormBodyPaths: freeFormBodyPaths(props.app) } : {}) });
    new CfnOutput(this, 'WebAclArn', { value: this.waf.webAclArn });
  }

  get webAcl(): CfnWebACL {
    return this.waf.webAcl;
  }
}
