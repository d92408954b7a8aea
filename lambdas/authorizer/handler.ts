/**
 * Lambda entry point of the REQUEST authorizer. Configuration is read once per container; if it is unusable
 * every invocation fails (API Gateway answers its authorizer-failure response): closed, never open.
 *
 * Bookkeeping never delays a decision and is never lost to a frozen container: usage of allowed keys and refused
 * credentials leave as one short line each on stdout, written before the decision returns (wiring.ts,
 * core/bookkeeping-channel.ts); the bookkeeper function stores them from CloudWatch Logs. The mode check starts at
 * cold start without being awaited. The decision's metrics are written as EMF lines once per invocation, at its end.
 */
import { createLogger } from '../core/logger.js';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createEmfMetrics } from '../core/metrics.js';
import { METRIC_SERVICES } from '../core/metrics-catalog.js';
import { createAuthorizer, UNAUTHORIZED, type Authorizer } from './authorizer.js';
import { buildAuthorizerDeps, errorSummary, readAuthorizerSettings } from './wiring.js';

export const AUTHORIZER_SERVICE = METRIC_SERVICES.authorizer;

const logger = createLogger(AUTHORIZER_SERVICE);
const metrics = createEmfMetrics({ service: AUTHORIZER_SERVICE });

let authorizer: Authorizer | undefined;
let initError: Error | undefined;

function init(): Authorizer {
  if (authorizer) return authorizer;
  if (initError !== undefined) throw initError;
  try {
    const settings = readAuthorizerSettings(process.env);
    if (settings.authMode !== 'enforce') {
      logger.warn(
        `GATEHOUSE AUTH MODE IS "${settings.authMode.toUpperCase()}": requests without a valid credential are served as anonymous` +
          (settings.authMode === 'off' ? ' and NO credential is checked at all' : ' (and recorded)'),
        { authMode: settings.authMode },
      );
    }
    const deps = buildAuthorizerDeps(settings, logger, { metrics });
    // Fire-and-forget: a changed mode becomes one audit event; its failure is logged and never delays a decision.
    void deps.recording.trackMode();
    authorizer = createAuthorizer(deps);
    return authorizer;
  } catch (error) {
    initError = error instanceof Error ? error : new Error(String(error));
    logger.error('authorizer configuration is unusable; denying every request', { error: errorSummary(error) });
    throw initError;
  }
}

export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  try {
    const decide = init();
    return await decide(event);
  } catch (error) {
    if (error instanceof Error && error.message === UNAUTHORIZED) throw error;
    if (error === initError) throw error;
    logger.error('authorizer failed; request denied', { error: errorSummary(error) });
    throw new Error('AuthorizerFailure', { cause: error });
  } finally {
    // Once per invocation, as Powertools' logMetrics does: one EMF line per set of dimension values.
    metrics.flush();
  }
}
