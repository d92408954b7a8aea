/**
 * GatehouseMonitoring: one CloudWatch dashboard and a set of alarms per deployment, and the SNS topic the alarms
 * notify (encrypted with a key of its own, TLS only; an e-mail subscription when `alarmEmail` is configured).
 *
 * Gatehouse's own metrics are read exactly as lambdas/core/metrics-catalog.ts declares them (namespace, names,
 * dimensions), filtered to this deployment by the `deployment` dimension (the stack prefix, which every function gets
 * as GATEHOUSE_DEPLOYMENT). They are queried, never named by their `service` or value dimensions:
 * - alarms and counts use CloudWatch Metrics Insights (`SELECT SUM(m) FROM SCHEMA(ns, <the catalog's dimensions>)
 *   WHERE deployment = '<prefix>'`), which sums every series of the schema whatever its dimension values;
 * - percentiles (p50/p99 decision latency), which Metrics Insights does not compute, use SEARCH on the dashboard.
 * AWS's own metrics (API Gateway stage, WAF, Lambda, DynamoDB, SQS) are read by their documented dimensions.
 *
 * The thresholds ({@link ALARM_THRESHOLDS}) and why each is what it is are documented there and in the README.
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  SearchExpression,
  Stats,
  TextWidget,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_DIMENSIONS, METRICS, METRICS_NAMESPACE, type MetricName } from '../../lambdas/core/metrics-catalog.js';
import type { GatehouseConfig } from '../config.js';
import { defaultConfig } from './defaults.js';
import { JWKS_MIRROR_PERIOD } from './identity.js';

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The alarms' thresholds. Each alarm's period is five minutes unless said otherwise.
 * - dependencyFailures: decisions that failed on the table, the JWKS copy or the pepper. The authorizer fails closed,
 *   so each is a caller refused for Gatehouse's own fault; a few in five minutes means a dependency is failing.
 * - serverErrorRate: the share of the stage's requests answered 5xx (API Gateway's 5XXError average), above 1 % in two
 *   of three periods: a single failing request in a quiet period does not page, a failing route does.
 * - jwksCopyAgePeriods: the JWKS copy may be this many mirror periods old before the alarm fires (the mirror retries
 *   within a period; one missed run is not an incident, three are). Its period is that long too, and no data at all
 *   (the mirror not running, or not reporting) counts as breaching.
 * - mirrorErrors: failed JWKS mirror runs (Lambda errors) in two of three periods; one transient failure that the
 *   next run repairs does not page. The dead-letter queue alarm fires on its first message.
 * - wafBlocks: requests the web ACL blocked, per period, two periods in a row: a flood, or a rule blocking real
 *   traffic. Ordinary scanning noise stays below it.
 * - lambdaThrottles / dynamoThrottles: any throttle. A throttled authorizer is a refused caller; on a new account the
 *   concurrency quota can be as low as 10 (README "Lambda concurrency"), and on-demand tables throttle past twice their
 *   previous peak.
 */
export const ALARM_THRESHOLDS = {
  dependencyFailures: { threshold: 5, evaluationPeriods: 1, datapointsToAlarm: 1 },
  serverErrorRate: { threshold: 0.01, evaluationPeriods: 3, datapointsToAlarm: 2 },
  jwksCopyAgePeriods: 3,
  mirrorErrors: { threshold: 1, evaluationPeriods: 3, datapointsToAlarm: 2 },
  wafBlocks: { threshold: 500, evaluationPeriods: 2, datapointsToAlarm: 2 },
  lambdaThrottles: { threshold: 1, evaluationPeriods: 1, datapointsToAlarm: 1 },
  dynamoThrottles: { threshold: 1, evaluationPeriods: 1, datapointsToAlarm: 1 },
} as const;

/** CloudWatch alarms accept at most this many metrics in one math expression. */
const MAX_ALARM_METRICS = 10;

/** The Metrics Insights schema of a catalog metric: its namespace and exactly its dimension keys. */
export function metricsInsightsSchema(name: MetricName): string {
  return `SCHEMA("${METRICS_NAMESPACE}", ${[...DEFAULT_DIMENSIONS, ...METRICS[name].dimensions].join(', ')})`;
}

/** The dimension keys of a catalog metric, for SEARCH: `{Gatehouse,deployment,service,…}`. */
function searchSchema(name: MetricName): string {
  return `{${[METRICS_NAMESPACE, ...DEFAULT_DIMENSIONS, ...METRICS[name].dimensions].join(',')}}`;
}

export interface GatehouseMonitoringProps {
  /** @default gatehouseConfig() (every default): stackPrefix and alarmEmail are read */
  readonly config?: GatehouseConfig;
  /** The `deployment` dimension to read. @default config.stackPrefix */
  readonly deployment?: string;
  /** Every function whose throttles count (the authorizer first). */
  readonly functions: readonly IFunction[];
  /** The Gatehouse table (its and its index's throttles). */
  readonly table?: ITable;
  /** The index of the table whose throttles count too. */
  readonly tableIndexName?: string;
  /** The API's stage (4XX/5XX, the 5xx rate alarm). @default none: no stage widgets or alarm */
  readonly stage?: Stage;
  /** The web ACL (GatehouseWaf): blocks by rule, the block spike alarm. @default none */
  readonly waf?: { readonly webAclName: string; readonly ruleMetricNames: readonly string[] };
  /** The JWKS mirror (GatehouseIdentity): errors and dead letters. @default none */
  readonly jwksMirror?: { readonly fn: IFunction; readonly deadLetters: IQueue };
  /** The bookkeeper (GatehouseApi): errors and dead letters (a batch of usage counts or refusal events lost). @default none */
  readonly bookkeeper?: { readonly fn: IFunction; readonly deadLetters: IQueue };
  /** Subscribe this address to the alarm topic. @default config.alarmEmail (none) */
  readonly alarmEmail?: string;
  /** @default <stackPrefix>-<region> */
  readonly dashboardName?: string;
}

export class GatehouseMonitoring extends Construct {
  readonly topic: Topic;
  readonly topicKey: Key;
  readonly dashboard: Dashboard;
  /** Every alarm, by construct id. */
  readonly alarms: Readonly<Record<string, Alarm>>;

  private readonly deployment: string;

  constructor(scope: Construct, id: string, props: GatehouseMonitoringProps) {
    super(scope, id);
    const config = props.config ?? defaultConfig();
    this.deployment = props.deployment ?? config.infra.stackPrefix;
    if (!/^[A-Za-z0-9_-]+$/.test(this.deployment)) throw new Error(`GatehouseMonitoring: deployment ${this.deployment} must be letters, digits, - and _`);

    // Alarm notifications: encrypted at rest with a key CloudWatch may use (the AWS managed SNS key would refuse
    // CloudWatch), and the topic refuses plain-HTTP publishers. The key is deleted with the stack (after AWS's
    // waiting period): notifications are transient and a retained key would cost $1 a month for nothing.
    this.topicKey = new Key(this, 'AlarmTopicKey', {
      description: `Gatehouse ${this.deployment}: encrypts the alarm topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.topicKey.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'AlarmTopic', { displayName: `Gatehouse ${this.deployment} alarms`, masterKey: this.topicKey, enforceSSL: true });
    const email = props.alarmEmail ?? config.infra.alarmEmail;
    if (email) this.topic.addSubscription(new EmailSubscription(email));

    const alarms: Record<string, Alarm> = {};
    const action = new SnsAction(this.topic);
    const alarm = (alarmId: string, metric: IMetric, options: { threshold: number; evaluationPeriods: number; datapointsToAlarm: number; comparison?: ComparisonOperator; missing?: TreatMissingData; description: string }) => {
      const created = new Alarm(this, alarmId, {
        metric,
        threshold: options.threshold,
        evaluationPeriods: options.evaluationPeriods,
        datapointsToAlarm: options.datapointsToAlarm,
        comparisonOperator: options.comparison ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: options.missing ?? TreatMissingData.NOT_BREACHING,
        alarmDescription: `${this.deployment} (Gatehouse): ${options.description}`,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      alarms[alarmId] = created;
    };

    // --- Gatehouse's own metrics ------------------------------------------------------------------------------------
    alarm('AuthorizerDependencyFailures', this.insights('DependencyFailures', 'SUM', FIVE_MINUTES), {
      ...ALARM_THRESHOLDS.dependencyFailures,
      description: 'authorizer decisions failing on a dependency (table, JWKS copy, pepper): callers are refused',
    });
    const staleAfter = Duration.seconds(ALARM_THRESHOLDS.jwksCopyAgePeriods * JWKS_MIRROR_PERIOD.toSeconds());
    alarm('JwksCopyStale', this.insights('JwksCopyAge', 'MAX', staleAfter), {
      threshold: staleAfter.toSeconds(),
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No report of the copy's age means nobody knows it is fresh: the mirror stopped, or stopped reporting.
      missing: TreatMissingData.BREACHING,
      description: `a JWKS copy older than ${ALARM_THRESHOLDS.jwksCopyAgePeriods} mirror periods, or no report of its age: tokens of a rotated key are refused`,
    });

    // --- AWS metrics ---------------------------------------------------------------------------------------------------
    if (props.stage) {
      alarm('Handler5xxRate', props.stage.metricServerError({ statistic: Stats.AVERAGE, period: FIVE_MINUTES }), {
        ...ALARM_THRESHOLDS.serverErrorRate,
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: 'more than 1 % of requests answered 5xx',
      });
    }
    /** A background function's failures, and anything that reached its dead-letter queue after every retry. */
    const backgroundAlarms = (name: string, target: { fn: IFunction; deadLetters: IQueue }, failing: string, lost: string) => {
      alarm(`${name}Errors`, target.fn.metricErrors({ statistic: Stats.SUM, period: FIVE_MINUTES }), { ...ALARM_THRESHOLDS.mirrorErrors, description: failing });
      alarm(`${name}DeadLetters`, target.deadLetters.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, period: FIVE_MINUTES }), {
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        description: lost,
      });
    };
    if (props.jwksMirror) {
      backgroundAlarms(
        'JwksMirror',
        props.jwksMirror,
        'JWKS mirror runs failing (an issuer unreachable or serving an unusable JWKS)',
        'a JWKS mirror run failed every retry (its event is in the dead-letter queue)',
      );
    }
    if (props.bookkeeper) {
      backgroundAlarms(
        'Bookkeeper',
        props.bookkeeper,
        'bookkeeper batches failing (usage counts and refusal events are being retried)',
        'a bookkeeping batch failed every retry: its usage counts and refusal events are in the dead-letter queue',
      );
    }
    if (props.waf) {
      alarm('WafBlockSpike', this.wafBlocked(props.waf.webAclName, 'ALL'), {
        ...ALARM_THRESHOLDS.wafBlocks,
        description: `more than ${ALARM_THRESHOLDS.wafBlocks.threshold} requests blocked by the web ACL in 5 minutes, twice in a row`,
      });
    }
    const throttles = props.functions.map((fn) => fn.metricThrottles({ statistic: Stats.SUM, period: FIVE_MINUTES }));
    for (let i = 0; i < throttles.length; i += MAX_ALARM_METRICS) {
      const chunk = throttles.slice(i, i + MAX_ALARM_METRICS);
      const usingMetrics = Object.fromEntries(chunk.map((m, j) => [`t${j}`, m]));
      const n = i / MAX_ALARM_METRICS + 1;
      alarm(`LambdaThrottles${n}`, new MathExpression({ expression: Object.keys(usingMetrics).join(' + '), usingMetrics, label: 'Throttled invocations', period: FIVE_MINUTES }), {
        ...ALARM_THRESHOLDS.lambdaThrottles,
        description: `Lambda throttles of Gatehouse functions (group ${n}): requests refused for concurrency`,
      });
    }
    if (props.table) {
      const usingMetrics = Object.fromEntries(this.tableThrottles(props.table, props.tableIndexName).map((m, j) => [`d${j}`, m]));
      alarm('DynamoDbThrottles', new MathExpression({ expression: Object.keys(usingMetrics).join(' + '), usingMetrics, label: 'Throttled table requests', period: FIVE_MINUTES }), {
        ...ALARM_THRESHOLDS.dynamoThrottles,
        description: 'DynamoDB throttling the Gatehouse table or its index',
      });
    }
    this.alarms = alarms;

    // --- Dashboard -------------------------------------------------------------------------------------------------
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName ?? `${this.deployment}-${Aws.REGION}` });
    const graph = (title: string, left: IMetric[], extra: Partial<ConstructorParameters<typeof GraphWidget>[0]> = {}) =>
      new GraphWidget({ title, left, width: 8, height: 6, ...extra });
    this.dashboard.addWidgets(
      new TextWidget({ markdown: `# Gatehouse ${this.deployment}\nAlarms notify the topic ${this.topic.topicName}.`, width: 24, height: 2 }),
    );
    this.dashboard.addWidgets(
      graph('Decisions by outcome', [this.insights('Decisions', 'SUM', FIVE_MINUTES, 'outcome')]),
      graph('Refusals by reason', [this.insights('Refusals', 'SUM', FIVE_MINUTES, 'reason')]),
      graph('Dependency failures', [this.insights('DependencyFailures', 'SUM', FIVE_MINUTES, 'dependency')]),
    );
    const latency = (stat: string) =>
      new SearchExpression({
        expression: `SEARCH('${searchSchema('DecisionLatency')} MetricName="DecisionLatency" deployment="${this.deployment}"', '${stat}', ${FIVE_MINUTES.toSeconds()})`,
        label: `${stat} decision latency`,
        period: FIVE_MINUTES,
      });
    const stageWidgets = props.stage
      ? [
          graph('API 4XX and 5XX', [
            props.stage.metricClientError({ statistic: Stats.SUM, period: FIVE_MINUTES, label: '4XX' }),
            props.stage.metricServerError({ statistic: Stats.SUM, period: FIVE_MINUTES, label: '5XX' }),
          ]),
        ]
      : [];
    this.dashboard.addWidgets(
      graph('Decision latency (ms)', [latency('p50'), latency('p99')]),
      graph('Handled requests by status', [this.insights('Requests', 'SUM', FIVE_MINUTES, 'status')]),
      ...stageWidgets,
    );
    const wafWidgets = props.waf
      ? [graph('WAF blocks by rule', props.waf.ruleMetricNames.map((rule) => this.wafBlocked(props.waf!.webAclName, rule).with({ label: rule })))]
      : [];
    this.dashboard.addWidgets(
      ...wafWidgets,
      graph('Lambda throttles', throttles),
      graph('DynamoDB throttles', props.table ? this.tableThrottles(props.table, props.tableIndexName) : []),
    );
    const mirrorWidgets = props.jwksMirror
      ? [
          graph('JWKS mirror errors and dead letters', [
            props.jwksMirror.fn.metricErrors({ statistic: Stats.SUM, period: FIVE_MINUTES, label: 'Errors' }),
            props.jwksMirror.deadLetters.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, period: FIVE_MINUTES, label: 'Dead letters' }),
          ]),
        ]
      : [];
    this.dashboard.addWidgets(
      graph('JWKS copy age (s)', [this.insights('JwksCopyAge', 'MAX', FIVE_MINUTES, 'issuer')], {
        leftAnnotations: [{ value: staleAfter.toSeconds(), label: 'alarm' }],
      }),
      ...mirrorWidgets,
      graph('Bookkeeping records and failures', [this.insights('BookkeepingRecords', 'SUM', FIVE_MINUTES, 'kind'), this.insights('BookkeepingFailures', 'SUM', FIVE_MINUTES, 'kind')]),
    );
  }

  /** A Metrics Insights query over one catalog metric of this deployment, optionally one line per value of `groupBy`. */
  private insights(name: MetricName, fn: 'SUM' | 'MAX', period: Duration, groupBy?: string): MathExpression {
    if (groupBy && !(METRICS[name].dimensions as readonly string[]).includes(groupBy)) throw new Error(`${name} has no dimension ${groupBy}`);
    const query = `SELECT ${fn}(${name}) FROM ${metricsInsightsSchema(name)} WHERE deployment = '${this.deployment}'${groupBy ? ` GROUP BY ${groupBy}` : ''}`;
    return new MathExpression({ expression: query, usingMetrics: {}, label: name, period });
  }

  private wafBlocked(webAclName: string, rule: string): Metric {
    return new Metric({
      namespace: 'AWS/WAFV2',
      metricName: 'BlockedRequests',
      dimensionsMap: { WebACL: webAclName, Region: Aws.REGION, Rule: rule },
      statistic: Stats.SUM,
      period: FIVE_MINUTES,
    });
  }

  private tableThrottles(table: ITable, indexName: string | undefined): Metric[] {
    const metric = (metricName: string, dimensionsMap: Record<string, string>, label: string) =>
      new Metric({ namespace: 'AWS/DynamoDB', metricName, dimensionsMap, statistic: Stats.SUM, period: FIVE_MINUTES, label });
    const tableDims = { TableName: table.tableName };
    const out = [metric('ReadThrottleEvents', tableDims, 'table reads'), metric('WriteThrottleEvents', tableDims, 'table writes')];
    if (indexName) {
      const indexDims = { TableName: table.tableName, GlobalSecondaryIndexName: indexName };
      out.push(metric('ReadThrottleEvents', indexDims, `${indexName} reads`), metric('WriteThrottleEvents', indexDims, `${indexName} writes`));
    }
    return out;
  }
}
