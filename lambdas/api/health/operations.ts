/** GET /health: public liveness. Deliberately touches no dependency, so it can never leak or amplify anything. */
import * as z from 'zod';
import { createApiHandler } from '../http/api-handler.js';
import { json } from '../http/types.js';
import { httpOptions, type Services } from '../services.js';

export const healthView = z.object({ status: z.literal('ok') });

export function createHealthHandler(services: Services) {
  return createApiHandler(
    'health',
    { 'GET /health': { handle: () => Promise.resolve(json(200, { status: 'ok' })) } },
    httpOptions(services),
  );
}

