/** GET /health: public liveness. Deliberately touches no dependency, so it can never leak or amplify anything. */
import { createApiHandler } from './http/api-handler.js';
import { json } from './http/types.js';
import { lambdaEntry, type Services } from './services.js';

export function createHealthHandler(services: Services) {
  return createApiHandler(
    'health',
    { 'GET /health': { handle: () => Promise.resolve(json(200, { status: 'ok' })) } },
    { logger: services.logger, corsOrigins: services.settings.corsOrigins, maxBodyBytes: services.settings.maxBodyBytes },
  );
}

export const handler = lambdaEntry('health', createHealthHandler);
