/**
 * Builds the authorizer's dependencies from settings. Shared by the Lambda entry point (handler.ts) and the
 * local gateway, which passes its own clients (dynalite endpoint, local pepper) through the same path.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DecisionCache } from '../core/decision-cache.js';
import { ConfigError } from '../core/errors.js';
import { BoundedJwksFetcher } from '../core/jwks-fetcher.js';
import { DynamoKeyStore } from '../core/key-store.js';
import { ApiKeyVerifier } from '../core/key-verifier.js';
import type { Log } from '../core/log.js';
import { PepperProvider, SecretsManagerPepperSource, StaticPepperSource, type PepperSource } from '../core/pepper.js';
import { readSettings, type SettingsValues } from '../core/settings.js';
import { TokenVerifier } from '../core/token-verifier.js';
import type { AuthorizerDeps } from './authorizer.js';

export const AUTHORIZER_SETTINGS = [
  'authMode',
  'keyEnvironment',
  'anonymousScopes',
  'cacheTtlSeconds',
  'negativeCacheTtlSeconds',
  'cacheMaxEntries',
  'jwksTimeoutMs',
  'oidcIssuers',
  'cognito',
  'tableName',
  'pepperSecretId',
  'localPepper',
  'pepperRefreshSeconds',
] as const;

export type AuthorizerSettings = Pick<SettingsValues, (typeof AUTHORIZER_SETTINGS)[number]>;

export function readAuthorizerSettings(env: Readonly<Record<string, string | undefined>>): AuthorizerSettings {
  return readSettings(AUTHORIZER_SETTINGS, env);
}

export interface AuthorizerClients {
  readonly dynamo?: DynamoDBDocumentClient;
  readonly secrets?: SecretsManagerClient;
  readonly pepperSource?: PepperSource;
}

export function pepperSourceFor(settings: Pick<SettingsValues, 'pepperSecretId' | 'localPepper'>, secrets?: SecretsManagerClient): PepperSource {
  if (settings.pepperSecretId) return new SecretsManagerPepperSource(secrets ?? new SecretsManagerClient({}), settings.pepperSecretId);
  if (settings.localPepper) return new StaticPepperSource(settings.localPepper);
  throw new ConfigError('GATEHOUSE_PEPPER_SECRET_ID', 'a Secrets Manager secret id (or GATEHOUSE_LOCAL_PEPPER for the local stack)');
}

export function createDocumentClient(client?: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client ?? new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
}

export function buildAuthorizerDeps(settings: AuthorizerSettings, log: Log, clients: AuthorizerClients = {}): AuthorizerDeps {
  if (!settings.tableName) throw new ConfigError('GATEHOUSE_TABLE_NAME', 'a DynamoDB table name');
  const store = new DynamoKeyStore(clients.dynamo ?? createDocumentClient(), settings.tableName);
  const peppers = new PepperProvider(clients.pepperSource ?? pepperSourceFor(settings, clients.secrets), {
    refreshSeconds: settings.pepperRefreshSeconds,
    maxStaleSeconds: settings.pepperRefreshSeconds * 12,
    onRefreshError: (error) => log.error('pepper refresh failed', { error: errorSummary(error) }),
  });
  const tokens = new TokenVerifier({
    ...(settings.cognito ? { cognito: settings.cognito } : {}),
    issuers: settings.oidcIssuers,
    fetcher: new BoundedJwksFetcher(settings.jwksTimeoutMs),
  });
  return {
    mode: settings.authMode,
    anonymousScopes: settings.anonymousScopes,
    keys: new ApiKeyVerifier({ store, peppers, environment: settings.keyEnvironment }),
    tokens,
    cache: new DecisionCache({
      maxEntries: settings.cacheMaxEntries,
      positiveTtlMs: settings.cacheTtlSeconds * 1000,
      negativeTtlMs: settings.negativeCacheTtlSeconds * 1000,
    }),
    log,
  };
}

/** Name and message of an error, for logs: SDK errors can carry request data, so nothing else is kept. */
export function errorSummary(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: typeof error, message: String(error) };
}
