/**
 * Lambda entry point of the REQUEST authorizer. Configuration is read once per container; if it is unusable
 * every invocation fails (API Gateway answers its authorizer-failure response): closed, never open.
 *
 * Bookkeeping (wiring.ts `recording`) never delays a decision: the mode check starts at cold start without being
 * awaited, and every invocation ends by starting whatever usage/refusal writes have come due. Lambda freezes the
 * container once the response is sent, so such a write may finish only at the next invocation.
 */
import { createLogger } from '../core/logger.js';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createAuthorizer, UNAUTHORIZED, type Authorizer } from './authorizer.js';
import { buildAuthorizerDeps, errorSummary, readAuthorizerSettings, type AuthorizerRecording } from './wiring.js';

const logger = createLogger('gatehouse-authorizer');

let authorizer: Authorizer | undefined;
let recording: AuthorizerRecording | undefined;
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
    const deps = buildAuthorizerDeps(settings, logger);
    recording = deps.recording;
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
  const decide = init();
  try {
    return await decide(event);
  } catch (error) {
    if (error instanceof Error && error.message === UNAUTHORIZED) throw error;
    logger.error('authorizer failed; request denied', { error: errorSummary(error) });
    throw new Error('AuthorizerFailure', { cause: error });
  } finally {
    // Writes whatever bookkeeping has come due (quiet keys' usage, ended refusal windows) without waiting for it.
    recording?.tick();
  }
}
