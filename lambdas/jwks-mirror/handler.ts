/**
 * Lambda entry point of the JWKS mirror. It runs outside the VPC (it must reach the issuers' public JWKS
 * endpoints) and is invoked two ways:
 * - every 5 minutes by an EventBridge schedule;
 * - once per deployment by a CloudFormation custom resource (CDK Provider framework, onEvent), so the first JWKS is
 *   stored before the API takes traffic. A Delete does nothing (the items are harmless and tiny).
 * Any URI that fails makes the invocation fail (after the others were mirrored), so the failure shows up as a
 * Lambda error, an EventBridge retry, or a failed deployment naming the URI — never silently.
 *
 * Metrics per run and issuer (the JWKS URI's host): JwksFetches, JwksFetchFailures (0 or 1 per URI) and JwksCopyAge,
 * the age of the stored copy after the run — about 0 after a success; after a failure, read from the table (one
 * GetItem, only on that path), so an alarm sees a copy that stopped being refreshed.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { Fetcher } from 'aws-jwt-verify/https';
import { createDocumentClient } from '../authorizer/wiring.js';
import { ConfigError } from '../core/errors.js';
import { BoundedJwksFetcher } from '../core/jwks-fetcher.js';
import { readJwks } from '../core/jwks-store.js';
import type { Log } from '../core/log.js';
import { createLogger } from '../core/logger.js';
import { createEmfMetrics, deploymentName, issuerValue, type MetricsSink } from '../core/metrics.js';
import { METRIC_SERVICES } from '../core/metrics-catalog.js';
import { readSettings } from '../core/settings.js';
import { jwksUris, MIRROR_SETTINGS, mirrorJwks } from './mirror.js';

export const PHYSICAL_ID = 'gatehouse-jwks-mirror';

export interface MirrorHandlerOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly doc?: DynamoDBDocumentClient;
  readonly fetcher?: Fetcher;
  readonly now?: () => number;
  readonly log?: Log;
  /** Default: EMF lines on stdout (service `gatehouse-jwks-mirror`), flushed once per invocation. */
  readonly metrics?: MetricsSink;
}

export interface CustomResourceResult {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

function isCustomResourceEvent(event: unknown): event is CloudFormationCustomResourceEvent {
  return typeof event === 'object' && event !== null && 'RequestType' in event && 'ResourceProperties' in event;
}

export function createMirrorHandler(options: MirrorHandlerOptions = {}) {
  const logger = options.log ?? createLogger('gatehouse-jwks-mirror');
  const metrics = options.metrics ?? createEmfMetrics({ service: METRIC_SERVICES.jwksMirror, deployment: deploymentName(options.env ?? process.env) });
  const now = options.now ?? Date.now;
  let ready: { uris: string[]; run: () => ReturnType<typeof mirrorJwks>; storedAt: (uri: string) => Promise<number | undefined> } | undefined;

  const init = () => {
    if (ready) return ready;
    const settings = readSettings(MIRROR_SETTINGS, options.env ?? process.env);
    if (!settings.tableName) throw new ConfigError('GATEHOUSE_TABLE_NAME', 'a DynamoDB table name');
    const uris = jwksUris(settings);
    const deps = {
      doc: options.doc ?? createDocumentClient(),
      tableName: settings.tableName,
      fetcher: options.fetcher ?? new BoundedJwksFetcher(settings.jwksTimeoutMs),
      ...(options.now ? { now: options.now } : {}),
    };
    ready = {
      uris,
      run: () => mirrorJwks(deps, uris),
      // Only after a failure: the copy the authorizer is left with. Unreadable → no age (the failure metric says enough).
      storedAt: async (uri) => {
        try {
          const stored = await readJwks(deps.doc, deps.tableName, uri);
          const at = stored ? Date.parse(stored.fetchedAt) : NaN;
          return Number.isFinite(at) ? at : undefined;
        } catch {
          return undefined;
        }
      },
    };
    return ready;
  };

  const measure = async (outcomes: Awaited<ReturnType<typeof mirrorJwks>>, storedAt: (uri: string) => Promise<number | undefined>, ranAt: number) => {
    for (const outcome of outcomes) {
      const issuer = { issuer: issuerValue(outcome.uri) };
      metrics.add('JwksFetches', 1, issuer);
      metrics.add('JwksFetchFailures', outcome.ok ? 0 : 1, issuer);
      const at = outcome.ok ? ranAt : await storedAt(outcome.uri);
      if (at !== undefined) metrics.add('JwksCopyAge', Math.max(0, (now() - at) / 1000), issuer);
    }
  };

  return async (event: unknown): Promise<CustomResourceResult | { mirrored: number }> => {
    const custom = isCustomResourceEvent(event) ? event : undefined;
    if (custom?.RequestType === 'Delete') return { PhysicalResourceId: custom.PhysicalResourceId };
    const { uris, run, storedAt } = init();
    const ranAt = now();
    const outcomes = await run();
    try {
      await measure(outcomes, storedAt, ranAt);
    } finally {
      metrics.flush();
    }
    for (const outcome of outcomes) {
      if (outcome.ok) logger.info('JWKS mirrored', { uri: outcome.uri, keys: outcome.keys, stored: outcome.stored });
      else logger.error('JWKS refused or unreachable; the previous copy is kept', { uri: outcome.uri, error: outcome.error });
    }
    const failed = outcomes.filter((o) => !o.ok);
    if (failed.length > 0) {
      throw new Error(`JWKS mirror failed for ${failed.map((f) => `${f.uri} (${f.ok ? '' : f.error})`).join('; ')}`);
    }
    if (custom) return { PhysicalResourceId: PHYSICAL_ID, Data: { Mirrored: String(uris.length) } };
    return { mirrored: uris.length };
  };
}

export const handler = createMirrorHandler();
