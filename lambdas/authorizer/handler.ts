/**
 * Lambda entry point of the REQUEST authorizer. Configuration is read once per container; if it is unusable
 * every invocation fails (API Gateway answers its authorizer-failure response): closed, never open.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createAuthorizer, UNAUTHORIZED, type Authorizer } from './authorizer.js';
import { buildAuthorizerDeps, errorSummary, readAuthorizerSettings } from './wiring.js';

const logger = new Logger({ serviceName: 'gatehouse-authorizer' });

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
    authorizer = createAuthorizer(buildAuthorizerDeps(settings, logger));
    return authorizer;
  } catch (error) {
    initError = error instanceof Error ? error : new Error(String(error));
    logger.error('authorizer configuration is unusable; denying every request', { error: errorSummary(error) });
    throw initError;
  }
}

export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const decide = init();
  try {
    return await decide(event);
  } catch (error) {
    if (error instanceof Error && error.message === UNAUTHORIZED) throw error;
    logger.error('authorizer failed; request denied', { error: errorSummary(error) });
    throw new Error('AuthorizerFailure', { cause: error });
  }
}
