/**
 * Builds the authorizer's dependencies from settings. Shared by the Lambda entry point (handler.ts) and the
 * local gateway, which passes its own clients (dynalite endpoint, local pepper) through the same path.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DecisionCache } from '../core/decision-cache.js';
import { AuditStore } from '../core/audit-store.js';
import { refusalLine, stdoutLineWriter, usageLine, type LineWriter } from '../core/bookkeeping-channel.js';
import { ClientCertificateVerifier } from '../core/client-certificate.js';
import { resolveClientCertificates } from '../core/client-certificate-config.js';
import { ConfigError } from '../core/errors.js';
import { BoundedJwksFetcher } from '../core/jwks-fetcher.js';
import { StoreJwksFetcher } from '../core/jwks-store.js';
import { DynamoKeyStore } from '../core/key-store.js';
import { ApiKeyVerifier } from '../core/key-verifier.js';
import { errorSummary, type Log } from '../core/log.js';
import { NO_METRICS, type MetricsSink } from '../core/metrics.js';
import { NO_PREVIOUS_MODE, trackAuthMode, type ModeTrackResult } from '../core/mode-tracker.js';
import { PepperProvider, SecretsManagerPepperSource, StaticPepperSource, type PepperSource } from '../core/pepper.js';
import { readSettings, resolveAnonymousScopes, SETTINGS, type SettingsValues } from '../core/settings.js';
import type { Api } from '../core/api-definition.js';
import { deploymentApi } from '../deployment.js';
import { TokenVerifier } from '../core/token-verifier.js';
import type { AuthorizerDeps, AuthorizerPlans } from './authorizer.js';
import { PlanLimiter } from '../core/plan-limiter.js';
import { PlanCatalog, type PlanConfig } from '../core/plans.js';
import { QuotaStore } from '../core/quota-store.js';

export const AUTHORIZER_SETTINGS = [
  'authMode',
  'keyEnvironment',
  'anonymousScopes',
  'cacheTtlSeconds',
  'negativeCacheTtlSeconds',
  'cacheMaxEntries',
  'jwksSource',
  'jwksTimeoutMs',
  'oidcIssuers',
  'cognito',
  'tableName',
  'pepperSecretId',
  'localPepper',
  'pepperRefreshSeconds',
  'auditRetentionDays',
  'plans',
  'usageKeys',
  'clientCertificates',
] as const;

export type AuthorizerSettings = Pick<SettingsValues, (typeof AUTHORIZER_SETTINGS)[number]>;

/**
 * The authorizer's settings from the environment, with the anonymous scopes resolved against the deployment's
 * catalog: an undeclared or credential scope fails here, at cold start, naming the variable.
 */
export function readAuthorizerSettings(
  env: Readonly<Record<string, string | undefined>>,
  api: Api = deploymentApi(),
): AuthorizerSettings & { readonly anonymousScopes: string[] } {
  const settings = readSettings(AUTHORIZER_SETTINGS, env);
  return { ...settings, anonymousScopes: [...resolveAnonymousScopes(settings.anonymousScopes, api.scopes)] };
}

export interface AuthorizerClients {
  /** The deployment's API (default: the bundled declaration, else Gatehouse's own). */
  readonly api?: Api;
  readonly dynamo?: DynamoDBDocumentClient;
  readonly secrets?: SecretsManagerClient;
  readonly pepperSource?: PepperSource;
  /**
   * Where the bookkeeping lines go (usage of allowed keys, refused credentials): default stdout, which Lambda ships
   * to CloudWatch Logs, whose subscription filter hands them to the bookkeeper. The local stack passes its feed.
   */
  readonly bookkeeping?: LineWriter;
  /** Where decisions are counted (default: nowhere; the Lambda entry passes its EMF sink and flushes it). */
  readonly metrics?: MetricsSink;
}

export function pepperSourceFor(settings: Pick<SettingsValues, 'pepperSecretId' | 'localPepper'>, secrets?: SecretsManagerClient): PepperSource {
  if (settings.pepperSecretId) return new SecretsManagerPepperSource(secrets ?? new SecretsManagerClient({}), settings.pepperSecretId);
  if (settings.localPepper) return new StaticPepperSource(settings.localPepper);
  throw new ConfigError('GATEHOUSE_PEPPER_SECRET_ID', 'a Secrets Manager secret id (or GATEHOUSE_LOCAL_PEPPER for the local stack)');
}

export function createDocumentClient(client?: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client ?? new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
}

/** Tuning of the authorizer's recording (tests inject a clock). */
export interface RecordingOptions {
  readonly now?: () => number;
}

/**
 * What the authorizer still writes itself: the mode change at cold start (never awaited by a decision). Usage and
 * refusals leave it as bookkeeping lines (core/bookkeeping-channel.ts), written before the decision returns, so a
 * frozen or reaped container loses none of them; the bookkeeper function stores them.
 */
export interface AuthorizerRecording {
  readonly audit: AuditStore;
  /** Cold start: records a changed auth mode (one `mode.changed` event across all containers). Never rejects. */
  trackMode(): Promise<ModeTrackResult | undefined>;
}

export type AuthorizerDepsWithRecording = AuthorizerDeps & { readonly recording: AuthorizerRecording };

/** Settings as before, with the settings that have defaults optional so existing callers keep working. */
export type AuthorizerDepsSettings = Omit<AuthorizerSettings, 'auditRetentionDays' | 'jwksSource' | 'plans' | 'usageKeys' | 'clientCertificates'> &
  Partial<Pick<AuthorizerSettings, 'auditRetentionDays' | 'jwksSource' | 'plans' | 'usageKeys' | 'clientCertificates'>>;

/**
 * The plans to enforce, or undefined when none limits anything. Limits need the usage keys that carry a refusal to
 * API Gateway (the CDK app and the local stack set them): without them a limit could not be enforced, so that is a
 * configuration error, not a silent "unlimited".
 */
export function authorizerPlans(
  settings: Partial<Pick<AuthorizerSettings, 'plans' | 'usageKeys'>>,
  doc: DynamoDBDocumentClient,
  tableName: string,
  now?: () => number,
): AuthorizerPlans | undefined {
  const catalog = planCatalogOf(settings.plans);
  if (!catalog.limitsAnything) return undefined;
  if (!settings.usageKeys) throw new ConfigError(SETTINGS.usageKeys.env, `${SETTINGS.usageKeys.expected}; required when ${SETTINGS.plans.env} limits anything`);
  return { catalog, limiter: new PlanLimiter({ leases: new QuotaStore(doc, tableName), ...(now ? { now } : {}) }), usageKeys: settings.usageKeys };
}

/** The plan catalog of a setting value (default: none, every principal unlimited). */
export function planCatalogOf(config: PlanConfig | undefined): PlanCatalog {
  try {
    return new PlanCatalog(config);
  } catch (error) {
    throw new ConfigError(SETTINGS.plans.env, `${SETTINGS.plans.expected} (${(error as Error).message})`);
  }
}

export function buildAuthorizerDeps(
  settings: AuthorizerDepsSettings,
  log: Log,
  clients: AuthorizerClients = {},
  recordingOptions: RecordingOptions = {},
): AuthorizerDepsWithRecording {
  if (!settings.tableName) throw new ConfigError('GATEHOUSE_TABLE_NAME', 'a DynamoDB table name');
  const api = clients.api ?? deploymentApi();
  const anonymousScopes = resolveAnonymousScopes(settings.anonymousScopes, api.scopes);
  // Undeclared or credential scopes for a certificate principal fail here, at cold start, naming the variable.
  const clientCertificates = resolveClientCertificates(settings.clientCertificates ?? null, api.scopes);
  const doc = clients.dynamo ?? createDocumentClient();
  const store = new DynamoKeyStore(doc, settings.tableName);
  const recording = buildRecording(settings.tableName, settings.authMode, doc, log, {
    retentionDays: settings.auditRetentionDays ?? SETTINGS.auditRetentionDays.schema.parse(undefined),
    ...recordingOptions,
  });
  const now = recordingOptions.now ?? Date.now;
  const write = clients.bookkeeping ?? stdoutLineWriter;
  // A line that cannot be written (a closed stdout) is logged once per failure and never changes the decision.
  const writeLine = (line: string): void => {
    try {
      write(line);
    } catch (error) {
      log.error('bookkeeping line not written', { error: errorSummary(error) });
    }
  };
  const peppers = new PepperProvider(clients.pepperSource ?? pepperSourceFor(settings, clients.secrets), {
    refreshSeconds: settings.pepperRefreshSeconds,
    maxStaleSeconds: settings.pepperRefreshSeconds * 12,
    onRefreshError: (error) => log.error('pepper refresh failed', { error: errorSummary(error) }),
  });
  const plans = authorizerPlans(settings, doc, settings.tableName, recordingOptions.now);
  const tokens = new TokenVerifier({
    scopes: api.scopes,
    ...(plans ? { plans: plans.catalog } : {}),
    ...(settings.cognito ? { cognito: settings.cognito } : {}),
    issuers: settings.oidcIssuers,
    // In AWS the authorizer has no internet: it reads the JWKS copies the mirror function keeps in the table.
    fetcher: settings.jwksSource === 'store' ? new StoreJwksFetcher(doc, settings.tableName) : new BoundedJwksFetcher(settings.jwksTimeoutMs),
  });
  return {
    api,
    mode: settings.authMode,
    anonymousScopes,
    keys: new ApiKeyVerifier({ store, peppers, environment: settings.keyEnvironment, scopes: api.scopes }),
    tokens,
    ...(clientCertificates ? { certificates: new ClientCertificateVerifier({ config: clientCertificates, ...(recordingOptions.now ? { now: recordingOptions.now } : {}) }) } : {}),
    cache: new DecisionCache({
      maxEntries: settings.cacheMaxEntries,
      positiveTtlMs: settings.cacheTtlSeconds * 1000,
      negativeTtlMs: settings.negativeCacheTtlSeconds * 1000,
    }),
    log,
    metrics: clients.metrics ?? NO_METRICS,
    onRefusal: (event) => writeLine(refusalLine(event, now())),
    onKeyUse: (principal) => {
      if (principal.keyId !== undefined) writeLine(usageLine(principal.keyId, principal.tenant, now()));
    },
    recording,
    ...(plans ? { plans } : {}),
  };
}

function buildRecording(
  tableName: string,
  mode: AuthorizerSettings['authMode'],
  doc: DynamoDBDocumentClient,
  log: Log,
  options: RecordingOptions & { retentionDays: number },
): AuthorizerRecording {
  const now = options.now ?? Date.now;
  const audit = new AuditStore(doc, tableName, { retentionDays: options.retentionDays, now });
  return {
    audit,
    trackMode: async () => {
      try {
        const result = await trackAuthMode({ doc, tableName, audit, now }, mode);
        // The first mode a fresh table records is not a change anyone made: note it quietly.
        if (result.outcome === 'changed') {
          const facts = { from: result.from, to: result.to };
          if (result.from === NO_PREVIOUS_MODE) log.info('auth mode recorded', facts);
          else log.warn('auth mode changed', facts);
        }
        return result;
      } catch (error) {
        log.error('auth mode tracking failed', { mode, error: errorSummary(error) });
        return undefined;
      }
    },
  };
}

export { errorSummary };
