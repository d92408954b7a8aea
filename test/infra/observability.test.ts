/**
 * Issue 13, "See it": a dashboard and alarms per deployment, built from the metric catalog
 * (lambdas/core/metrics-catalog.ts), alarms to an encrypted SNS topic with an optional e-mail subscription, the
 * deployment dimension on every function, the JWKS mirror's async retries and dead-letter queue (checked with
 * cdk-nag's Serverless pack as well), and the bookkeeper subscribed to the authorizer's log group.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { BOOKKEEPING_FILTER_PATTERN } from '../../lambdas/core/bookkeeping-channel.js';
import { ConfigError } from '../../lambdas/core/errors.js';
import { DEFAULT_DIMENSIONS, DEPLOYMENT_ENV, METRICS, METRICS_NAMESPACE, type MetricName } from '../../lambdas/core/metrics-catalog.js';
import { JWKS_MIRROR_PERIOD } from '../../infra/constructs/identity.js';
import { ALARM_THRESHOLDS, metricsInsightsSchema } from '../../infra/constructs/monitoring.js';
import { FUNCTION_DESCRIPTION_PREFIX, GATEHOUSE_CODE_ROOT } from '../../infra/function.js';
import { buildDefault, createApp, resourcesOf, STACK_KEYS, synthGatehouse, type StackKey, type SynthResult } from './synth.js';
import { json, logicalId, props, type Props } from './template.js';

process.env.CDK_VALIDATION = 'false';

let synth: SynthResult;
let t: Record<StackKey, Template>;

beforeAll(() => {
  synth = synthGatehouse();
  t = synth.templates;
});

const alarms = () => Object.entries(resourcesOf(t.api, 'AWS::CloudWatch::Alarm')).map(([id, a]) => ({ id, p: props(a) }));
const alarm = (name: string) => {
  const found = alarms().filter((a) => a.id.includes(name));
  expect(found.map((a) => a.id), name).toHaveLength(1);
  return found[0]!.p;
};
const schemaOf = (name: MetricName) => metricsInsightsSchema(name);

describe('the dashboard', () => {
  it('shows decisions, refusals, dependency failures, p50/p99 latency, 4xx/5xx, WAF blocks by rule, throttles and JWKS copy age', () => {
    const dashboards = Object.values(resourcesOf(t.api, 'AWS::CloudWatch::Dashboard')).map(props);
    expect(dashboards).toHaveLength(1);
    const body = json(dashboards[0]!.DashboardBody);
    expect(json(dashboards[0]!.DashboardName)).toContain('Gatehouse');
    // Gatehouse's own metrics, named and dimensioned by the catalog, filtered to this deployment.
    for (const name of ['Decisions', 'Refusals', 'DependencyFailures', 'Requests', 'JwksCopyAge'] as const) {
      expect(body, name).toContain(schemaOf(name).replace(/"/g, '\\\\\\"'));
    }
    expect(body).toContain(`deployment = '${synth.stacks.config.infra.stackPrefix}'`);
    expect(body).toMatch(/MetricName=\\\\\\"DecisionLatency\\\\\\"[^)]*'p50'/);
    expect(body).toMatch(/MetricName=\\\\\\"DecisionLatency\\\\\\"[^)]*'p99'/);
    // AWS metrics: API Gateway 4XX/5XX, WAF blocks per rule, Lambda and DynamoDB throttles.
    for (const metric of ['4XXError', '5XXError', 'BlockedRequests', 'Throttles', 'ReadThrottleEvents', 'WriteThrottleEvents']) expect(body, metric).toContain(metric);
    for (const rule of ['RateLimitPerIp', 'RateLimitPerApiKey', 'AWSManagedRulesCommonRuleSet']) expect(body, rule).toContain(`Gatehouse${rule}`);
  });
});

describe('the alarms', () => {
  it('go to one encrypted topic that only accepts TLS, and the topic has no subscription unless alarmEmail is set', () => {
    const [topicId, topic] = Object.entries(resourcesOf(t.api, 'AWS::SNS::Topic'))[0]!;
    expect(json(props(topic).KmsMasterKeyId)).toContain('Fn::GetAtt');
    const [, key] = Object.entries(resourcesOf(t.api, 'AWS::KMS::Key'))[0]!;
    expect(props(key).EnableKeyRotation).toBe(true);
    // CloudWatch must be able to use the key, or alarms cannot publish to the encrypted topic.
    expect(json(props(key).KeyPolicy)).toContain('cloudwatch.amazonaws.com');
    const policy = json(props(Object.values(resourcesOf(t.api, 'AWS::SNS::TopicPolicy'))[0]!).PolicyDocument);
    expect(policy).toContain('"aws:SecureTransport":"false"');
    t.api.resourceCountIs('AWS::SNS::Subscription', 0);
    const all = alarms();
    expect(all.length).toBeGreaterThanOrEqual(7);
    for (const a of all) expect(a.p.AlarmActions, a.id).toEqual([{ Ref: topicId }]);
  });

  it('subscribes the alarmEmail address, and refuses one that is not an address', () => {
    const withEmail = synthGatehouse({ alarmEmail: 'ops@example.com' });
    withEmail.templates.api.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(() => buildDefault(createApp({ alarmEmail: 'ops at example' }))).toThrow(ConfigError);
    expect(() => buildDefault(createApp({ alarmEmail: 'ops at example' }))).toThrow(/Invalid configuration alarmEmail: expected an e-mail address/);
  });

  it('alarm on authorizer dependency failures (a Metrics Insights query over the catalog’s dimensions, this deployment only)', () => {
    const p = alarm('AuthorizerDependencyFailures');
    const metric = (p.Metrics as Props[])[0]!;
    expect(metric.Expression).toBe(`SELECT SUM(DependencyFailures) FROM ${schemaOf('DependencyFailures')} WHERE deployment = 'Gatehouse'`);
    expect(p).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: ALARM_THRESHOLDS.dependencyFailures.threshold, TreatMissingData: 'notBreaching' });
  });

  it('alarm on the handlers’ 5xx rate at the stage', () => {
    const p = alarm('Handler5xxRate');
    expect(p).toMatchObject({ MetricName: '5XXError', Namespace: 'AWS/ApiGateway', Statistic: 'Average', Threshold: ALARM_THRESHOLDS.serverErrorRate.threshold });
    expect(json(p.Dimensions)).toContain('"Stage"');
  });

  it('alarm when the JWKS copy is older than N mirror periods, missing data counting as breaching', () => {
    const p = alarm('JwksCopyStale');
    expect((p.Metrics as Props[])[0]!.Expression).toBe(`SELECT MAX(JwksCopyAge) FROM ${schemaOf('JwksCopyAge')} WHERE deployment = 'Gatehouse'`);
    expect(p.Threshold).toBe(ALARM_THRESHOLDS.jwksCopyAgePeriods * JWKS_MIRROR_PERIOD.toSeconds());
    expect(p.ComparisonOperator).toBe('GreaterThanThreshold');
    expect(p.TreatMissingData).toBe('breaching');
  });

  it('alarm on JWKS mirror errors (the README’s promise) and on anything reaching its dead-letter queue', () => {
    const mirrorFn = logicalId(synth.stacks.identity.identity.jwksMirror.fn.node.defaultChild);
    const errors = alarm('JwksMirrorErrors');
    expect(errors).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Statistic: 'Sum' });
    expect(json(errors.Dimensions)).toContain(mirrorFn);
    const dead = alarm('JwksMirrorDeadLetters');
    expect(dead).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  it('alarm on bookkeeper errors and on any batch reaching its dead-letter queue (usage counts or refusal events lost)', () => {
    const bookkeeper = synth.stacks.api.gatehouse.bookkeeper;
    expect(bookkeeper).toBeDefined();
    const errors = alarm('BookkeeperErrors');
    expect(errors).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Statistic: 'Sum' });
    expect(json(errors.Dimensions)).toContain(logicalId(bookkeeper!.fn.node.defaultChild));
    expect(alarm('BookkeeperDeadLetters')).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Threshold: 1 });
  });

  it('alarm on WAF block spikes, Lambda throttles of every Gatehouse function and DynamoDB throttles', () => {
    expect(alarm('WafBlockSpike')).toMatchObject({ MetricName: 'BlockedRequests', Namespace: 'AWS/WAFV2', Threshold: ALARM_THRESHOLDS.wafBlocks.threshold });
    const throttles = alarms().filter((a) => a.id.includes('LambdaThrottles'));
    expect(throttles.length).toBeGreaterThan(0);
    const counted = json(throttles.map((a) => a.p.Metrics));
    const gatehouseFunctions = [synth.stacks.api.authorizerFunction, ...Object.values(synth.stacks.api.handlers), synth.stacks.identity.identity.jwksMirror];
    for (const fn of gatehouseFunctions) expect(counted).toContain(logicalId(fn.fn.node.defaultChild));
    for (const a of throttles) expect((a.p.Metrics as Props[]).filter((m) => m.MetricStat).length).toBeLessThanOrEqual(10);
    const dynamo = json(alarm('DynamoDbThrottles').Metrics);
    expect(dynamo).toContain('ReadThrottleEvents');
    expect(dynamo).toContain('WriteThrottleEvents');
  });
});

describe('the deployment dimension', () => {
  it(`sets ${DEPLOYMENT_ENV} = the stack prefix on every Gatehouse function`, () => {
    const check = (s: SynthResult, prefix: string) => {
      let count = 0;
      for (const key of STACK_KEYS) {
        for (const [id, fn] of Object.entries(resourcesOf(s.templates[key], 'AWS::Lambda::Function'))) {
          const description = props(fn).Description;
          if (typeof description !== 'string' || !description.startsWith(FUNCTION_DESCRIPTION_PREFIX)) continue;
          expect((props(fn).Environment as { Variables: Record<string, unknown> }).Variables[DEPLOYMENT_ENV], `${key}/${id}`).toBe(prefix);
          count++;
        }
      }
      expect(count).toBeGreaterThan(5);
    };
    check(synth, 'Gatehouse');
    check(synthGatehouse({ stackPrefix: 'Acme' }), 'Acme');
  });

  it('names every metric of the catalog with the deployment and service dimensions first', () => {
    for (const name of Object.keys(METRICS) as MetricName[]) {
      expect(schemaOf(name)).toBe(`SCHEMA("${METRICS_NAMESPACE}", ${[...DEFAULT_DIMENSIONS, ...METRICS[name].dimensions].join(', ')})`);
    }
  });
});

describe('the JWKS mirror’s asynchronous invocations', () => {
  it('retries explicitly within one mirror period, then sends the event to an encrypted, TLS-only dead-letter queue', () => {
    const mirror = synth.stacks.identity.identity;
    const fnId = logicalId(mirror.jwksMirror.fn.node.defaultChild);
    const queueId = logicalId(mirror.jwksMirrorDeadLetters.node.defaultChild);
    const config = props(Object.values(resourcesOf(t.identity, 'AWS::Lambda::EventInvokeConfig')).find((c) => json(props(c).FunctionName).includes(fnId))!);
    expect(config.MaximumRetryAttempts).toBe(2);
    expect(config.MaximumEventAgeInSeconds as number).toBeLessThanOrEqual(JWKS_MIRROR_PERIOD.toSeconds());
    expect(json((config.DestinationConfig as Props).OnFailure)).toContain(queueId);
    const fn = props(resourcesOf(t.identity, 'AWS::Lambda::Function')[fnId]!);
    expect(json(fn.DeadLetterConfig)).toContain(queueId);
    const rule = props(Object.values(resourcesOf(t.identity, 'AWS::Events::Rule'))[0]!);
    const target = (rule.Targets as Props[])[0]!;
    expect(json(target.DeadLetterConfig)).toContain(queueId);
    expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 2 });
    const queue = props(resourcesOf(t.identity, 'AWS::SQS::Queue')[queueId]!);
    expect(queue.SqsManagedSseEnabled ?? queue.KmsMasterKeyId).toBeTruthy();
    expect(json(Object.values(resourcesOf(t.identity, 'AWS::SQS::QueuePolicy')).map(props))).toContain('"aws:SecureTransport":"false"');
  });

  it('passes cdk-nag’s Serverless pack (function, async config, schedule; the bookkeeper too)', () => {
    const app = createApp();
    buildDefault(app, { bookkeeperEntry: join(GATEHOUSE_CODE_ROOT, 'test/infra/fixtures/bookkeeper.ts') });
    const report = new ServerlessChecks().validateScope(app);
    const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath ?? ''}`));
    // The check sees the rest of the app too: it must have looked at the mirror for its silence to mean anything.
    // (The dead-letter queues themselves draw Serverless-SQSRedrivePolicy: a dead-letter queue needs none.)
    expect(findings.some((line) => line.includes('/Handler-'))).toBe(true);
    const onAsync = findings.filter((line) => (/JwksMirror(\/|Schedule)/.test(line) && !line.includes('JwksMirrorProvider')) || line.includes('/Bookkeeper/'));
    expect(onAsync).toEqual([]);
  });
});

describe('the bookkeeper (durable bookkeeping channel)', () => {
  const entry = join(GATEHOUSE_CODE_ROOT, 'lambdas/bookkeeper/handler.ts');

  it.skipIf(!existsSync(entry))('subscribes to the authorizer’s log group with the channel’s filter pattern, and may only update and put table items', () => {
    const api = synth.stacks.api.gatehouse;
    expect(api.bookkeeper).toBeDefined();
    const filter = props(Object.values(resourcesOf(t.api, 'AWS::Logs::SubscriptionFilter'))[0]!);
    expect(filter.FilterPattern).toBe(BOOKKEEPING_FILTER_PATTERN);
    expect(filter.LogGroupName).toEqual({ Ref: logicalId(api.authorizerFunction.logGroup.node.defaultChild) });
    expect(json(filter.DestinationArn)).toContain(logicalId(api.bookkeeper!.fn.node.defaultChild));
  });

  it('is created from a given entry even before lambdas/bookkeeper exists (and is switched off without one)', () => {
    const fixture = synthGatehouse({}, { bookkeeperEntry: join(GATEHOUSE_CODE_ROOT, 'test/infra/fixtures/bookkeeper.ts') });
    const api = fixture.stacks.api.gatehouse;
    expect(api.bookkeeper).toBeDefined();
    const template = fixture.templates.api;
    const filter = props(Object.values(resourcesOf(template, 'AWS::Logs::SubscriptionFilter'))[0]!);
    expect(filter.FilterPattern).toBe(BOOKKEEPING_FILTER_PATTERN);
    const roleId = logicalId(api.bookkeeper!.role.node.defaultChild);
    const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
      .filter((p) => json(props(p).Roles).includes(`"${roleId}"`))
      .flatMap((p) => (props(p).PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement);
    const dynamo = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).filter((a) => a.startsWith('dynamodb:'));
    expect(dynamo.sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // Its own failures are kept: async retries, then a dead-letter queue.
    expect(json(Object.values(resourcesOf(template, 'AWS::Lambda::EventInvokeConfig')).map(props))).toContain(logicalId(api.bookkeeper!.fn.node.defaultChild));
    const none = synthGatehouse({}, { bookkeeperEntry: false });
    none.templates.api.resourceCountIs('AWS::Logs::SubscriptionFilter', 0);
  });
});
