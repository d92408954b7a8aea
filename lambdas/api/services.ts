/**
 * What handler Lambdas depend on, built once per container from the environment (or handed in by tests and the
 * local gateway). Handlers never construct clients themselves.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { createDocumentClient, pepperSourceFor, planCatalogOf } from '../authorizer/wiring.js';
import type { PlanCatalog } from '../core/plans.js';
import { QuotaStore } from '../core/quota-store.js';
import { AuditStore } from '../core/audit-store.js';
import { ConfigError, PROBLEM_CONTENT_TYPE, problemBody } from '../core/errors.js';
import { ItemStore } from '../core/item-store.js';
import { DynamoKeyStore } from '../core/key-store.js';
import { createLogger } from '../core/logger.js';
import { createEmfMetrics, type MetricsSink } from '../core/metrics.js';
import { handlerService } from '../core/metrics-catalog.js';
import { PepperProvider, type PepperSource } from '../core/pepper.js';
import { readSettings, type SettingsValues } from '../core/settings.js';
import { UsageStore } from '../core/usage-store.js';
import type { Api } from '../core/api-definition.js';
import { deploymentApi } from '../deployment.js';
import type { HandlerGroup } from './group.js';
import type { ApiHandlerOptions } from './http/api-handler.js';

export const API_SETTINGS = [
  'authMode',
  'keyEnvironment',
  'tableName',
  'pepperSecretId',
  'localPepper',
  'pepperRefreshSeconds',
  'corsOrigins',
  'maxBodyBytes',
  'auditRetentionDays',
  'plans',
] as const;

export type ApiSettings = Pick<SettingsValues, (typeof API_SETTINGS)[number]>;

export interface Services {
  /** The API this deployment serves: its routes and its scope catalog. */
  readonly api: Api;
  readonly settings: ApiSettings;
  readonly logger: Logger;
  /** The function's metrics (EMF on stdout in Lambda); the middleware stack counts requests into it. */
  readonly metrics: MetricsSink;
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly keys: DynamoKeyStore;
  readonly peppers: PepperProvider;
  readonly audit: AuditStore;
  readonly usage: UsageStore;
  /** The deployment's plans, and the quota counters of the current periods (plans.ts, quota-store.ts). */
  readonly plans: PlanCatalog;
  readonly quotas: QuotaStore;
  readonly items: ItemStore;
  readonly now: () => number;
}

export interface ServiceOverrides {
  /** Default: the deployment's API (bundled by CDK; Gatehouse's own declaration otherwise). */
  readonly api?: Api;
  readonly doc?: DynamoDBDocumentClient;
  readonly pepperSource?: PepperSource;
  readonly logger?: Logger;
  readonly metrics?: MetricsSink;
  readonly now?: () => number;
}

export function createServices(settings: ApiSettings, serviceName: string, overrides: ServiceOverrides = {}): Services {
  if (!settings.tableName) throw new ConfigError('GATEHOUSE_TABLE_NAME', 'a DynamoDB table name');
  const doc = overrides.doc ?? createDocumentClient();
  const logger = overrides.logger ?? createLogger(serviceName);
  const now = overrides.now ?? Date.now;
  const tableName = settings.tableName;
  return {
    api: overrides.api ?? deploymentApi(),
    settings,
    logger,
    metrics: overrides.metrics ?? createEmfMetrics({ service: serviceName }),
    doc,
    tableName,
    keys: new DynamoKeyStore(doc, tableName),
    peppers: new PepperProvider(overrides.pepperSource ?? pepperSourceFor(settings), {
      refreshSeconds: settings.pepperRefreshSeconds,
      maxStaleSeconds: settings.pepperRefreshSeconds * 12,
      now,
    }),
    audit: new AuditStore(doc, tableName, { retentionDays: settings.auditRetentionDays, now }),
    usage: new UsageStore(doc, tableName),
    plans: planCatalogOf(settings.plans),
    quotas: new QuotaStore(doc, tableName),
    items: new ItemStore(doc, tableName),
    now,
  };
}

export type LambdaHttpHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** What the shared middleware stack needs from the services (http/api-handler.ts). */
export function httpOptions(services: Services): ApiHandlerOptions {
  return {
    logger: services.logger,
    corsOrigins: services.settings.corsOrigins,
    maxBodyBytes: services.settings.maxBodyBytes,
    api: services.api,
    metrics: services.metrics,
  };
}

/**
 * A Lambda entry point whose services are built on first use from the environment. If they cannot be built
 * (bad configuration) every request gets a 500 envelope and the reason is logged — never a half-configured API.
 */
export function lambdaEntry(group: Pick<HandlerGroup, 'name' | 'create'>): LambdaHttpHandler {
  let handler: LambdaHttpHandler | undefined;
  return async (event, context) => {
    if (!handler) {
      try {
        handler = group.create(createServices(readSettings(API_SETTINGS, process.env), handlerService(group.name)));
      } catch (error) {
        createLogger(`gatehouse-${group.name}`).error('handler configuration is unusable', { error });
        const requestId = event.requestContext?.requestId ?? 'unknown';
        return {
          statusCode: 500,
          headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, 'Cache-Control': 'no-store' },
          body: JSON.stringify(problemBody('INTERNAL_ERROR', 'The service is misconfigured.', requestId)),
        };
      }
    }
    return handler(event, context);
  };
}
