/**
 * The reports service's stack: the team's own REST API (created here, as it was before Gatehouse: its stage, logs
 * and tracing), with Gatehouse in front of it. Gatehouse adds its authorizer, the team's methods (a Lambda target and
 * an HTTP target), its own routes under /gatehouse, its gateway responses and its WAF, and everything behind them:
 * the network, the table, the pepper, the Cognito user pool.
 */
import { Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat, LogGroupLogDestination, MethodLoggingLevel, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { Gatehouse, GATEHOUSE_ACCESS_LOG_FIELDS, gatehouseConfig, type GatehouseApp, type HandlerGroup } from 'gatehouse/cdk';

export interface ReportsStackProps extends StackProps {
  /** The declaration (gatehouse.app.ts). */
  readonly app: GatehouseApp;
  /** Gatehouse's handler groups the app mounts: `await loadAppGroups(app)`. */
  readonly groups: ReadonlyMap<string, HandlerGroup>;
  /** The declaration's folder: its Lambda entries are relative to it. */
  readonly baseDir: string;
}

export class ReportsStack extends Stack {
  readonly restApi: RestApi;
  readonly gatehouse: Gatehouse;

  constructor(scope: Construct, id: string, props: ReportsStackProps) {
    super(scope, id, props);

    const accessLogs = new LogGroup(this, 'ReportsAccessLogs', { retention: RetentionDays.ONE_YEAR });
    this.restApi = new RestApi(this, 'ReportsApi', {
      restApiName: 'reports',
      description: 'The reports service, behind Gatehouse',
      cloudWatchRole: true,
      deployOptions: {
        stageName: 'prod',
        tracingEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        // Gatehouse's access log line: who called (principal, tenant, key id), never a header or a body.
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(GATEHOUSE_ACCESS_LOG_FIELDS)),
      },
    });
    // cdk-nag findings about the team's own REST API are the team's to decide; these are this example's decisions.
    Validations.of(this.restApi).acknowledge({ id: 'AwsSolutions-APIG2', reason: 'The reports service validates its requests itself' });
    Validations.of(this.restApi.node.findChild('CloudWatchRole')).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The account-level role API Gateway writes execution logs with',
    });

    this.gatehouse = new Gatehouse(this, 'Gatehouse', {
      app: props.app,
      groups: props.groups,
      existingRestApi: this.restApi,
      baseDir: props.baseDir,
      // The same keys and validation as Gatehouse's cdk.json context; anonymousScopes would be checked against the app.
      config: gatehouseConfig({ stackPrefix: 'Reports', authMode: 'enforce' }, props.app),
    });
  }
}
