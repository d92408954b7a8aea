/**
 * <prefix>Api: the REST API, its authorizer, one function per handler group and the WAF association
 * (GatehouseApi, which documents the authorizer's cache trade-off), the API URL, and the deployment's dashboard and
 * alarms (GatehouseMonitoring: this stack is the last, so it can see every other stack's resources). The API
 * construct's id is `Default`, which CDK leaves out of logical ids: resources keep the logical ids they were created
 * with.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';
import type { HandlerGroup } from '../lambdas/api/group.js';
import type { GatehouseApp } from '../lambdas/app.js';
import type { GatehouseConfig } from './config.js';
import { GatehouseApi, type GatehouseDataResources } from './constructs/api.js';
import type { TokenIssuers } from './constructs/identity.js';
import { GatehouseMonitoring, type GatehouseMonitoringProps } from './constructs/monitoring.js';
import type { FunctionNetwork, GatehouseFunction } from './function.js';

export { AUTHORIZER_TABLE_ACTIONS } from './constructs/api.js';
export { STAGE_NAME } from './constructs/rest-api.js';

export interface ApiStackProps extends StackProps {
  readonly config: GatehouseConfig;
  readonly app: GatehouseApp;
  readonly groups: ReadonlyMap<string, HandlerGroup>;
  readonly network: FunctionNetwork;
  readonly data: GatehouseDataResources;
  readonly identity: TokenIssuers;
  readonly webAclArn: string;
  readonly handlerEntries?: Readonly<Record<string, string>>;
  /** GatehouseApiProps.bookkeeperEntry. */
  readonly bookkeeperEntry?: string | false;
  /** What the dashboard and alarms watch in the other stacks. */
  readonly monitoring?: Pick<GatehouseMonitoringProps, 'waf' | 'jwksMirror' | 'tableIndexName'> & { readonly functions?: GatehouseMonitoringProps['functions'] };
}

export class ApiStack extends Stack {
  readonly gatehouse: GatehouseApi;
  readonly monitoring: GatehouseMonitoring;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, app, groups, network, data, identity, webAclArn, handlerEntries, bookkeeperEntry } = props;
    this.gatehouse = new GatehouseApi(this, 'Default', { config, app, groups, network, data, identity, webAclArn, handlerEntries, bookkeeperEntry });
    const domain = this.gatehouse.domain;
    new CfnOutput(this, 'ApiUrl', {
      value: domain ? `${domain.url}/` : this.api.url,
      description: domain ? 'Gatehouse API base URL on the custom domain (the execute-api endpoint is disabled)' : 'Gatehouse API base URL (routes start with /health, /v1/…)',
    });
    if (domain && !domain.aliasRecord) {
      new CfnOutput(this, 'DomainTarget', { value: domain.regionalDomainName, description: `Point a CNAME for ${domain.hostname} at this regional domain name` });
    }
    if (this.gatehouse.consoleUrl !== undefined) {
      new CfnOutput(this, 'ConsoleUrl', { value: this.gatehouse.consoleUrl, description: 'The browser console: sign in with a user of the pool (admins or users group)' });
    }
    if (this.gatehouse.consoleClient) {
      new CfnOutput(this, 'ConsoleClientId', { value: this.gatehouse.consoleClient.userPoolClientId, description: "The console's public app client (authorization code + PKCE)" });
    }
    this.monitoring = new GatehouseMonitoring(this, 'Monitoring', {
      config,
      functions: [...this.gatehouse.functions.map((f) => f.fn), ...(props.monitoring?.functions ?? [])],
      table: data.table,
      tableIndexName: props.monitoring?.tableIndexName,
      stage: this.gatehouse.stage,
      waf: props.monitoring?.waf,
      jwksMirror: props.monitoring?.jwksMirror,
      ...(this.gatehouse.bookkeeper && this.gatehouse.bookkeeperDeadLetters
        ? { bookkeeper: { fn: this.gatehouse.bookkeeper.fn, deadLetters: this.gatehouse.bookkeeperDeadLetters } }
        : {}),
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'SNS topic the alarms notify (subscribe with alarmEmail, or aws sns subscribe)' });
  }

  /** The REST API this stack creates. */
  get api(): RestApi {
    return this.gatehouse.restApi as RestApi;
  }

  get authorizerFunction(): GatehouseFunction {
    return this.gatehouse.authorizerFunction;
  }

  get handlers(): Readonly<Record<string, GatehouseFunction>> {
    return this.gatehouse.handlers;
  }
}
