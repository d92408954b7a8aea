/** GET /v1/whoami: the principal the authorizer established (CONTRACT §3). */
import { createApiHandler } from '../http/api-handler.js';
import { json } from '../http/types.js';
import { httpOptions, type Services } from '../services.js';

export function createWhoamiHandler(services: Services) {
  return createApiHandler(
    'whoami',
    {
      'GET /v1/whoami': {
        handle: ({ principal }) =>
          Promise.resolve(
            json(200, {
              principalId: principal.principalId,
              authMethod: principal.authMethod,
              tenant: principal.tenant,
              scopes: principal.scopes,
              plan: services.plans.forPrincipal(principal).name,
              admin: principal.admin,
              ...(principal.keyId === undefined ? {} : { keyId: principal.keyId }),
              ...(principal.certificate === undefined ? {} : { certificate: principal.certificate }),
            }),
          ),
      },
    },
    httpOptions(services),
  );
}

