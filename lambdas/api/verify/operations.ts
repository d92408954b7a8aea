/**
 * POST /v1/verify (IAM/SigV4 only): lets other services check keys their own users present. Same verifier as the
 * authorizer, no cache (a caller asking is asking about now). `valid: false` never says why: a reason would turn
 * this route into an oracle for probing keys.
 */
import { ApiKeyVerifier } from '../../core/key-verifier.js';
import { createApiHandler } from '../http/api-handler.js';
import { json, type ApiRequest } from '../http/types.js';
import { verifyBody } from './schemas.js';
import { httpOptions, type Services } from '../services.js';
import type { z } from 'zod';

export function createVerifyHandler(services: Services) {
  const verifier = new ApiKeyVerifier({
    store: services.keys,
    peppers: services.peppers,
    environment: services.settings.keyEnvironment,
    scopes: services.api.scopes,
    now: services.now,
  });
  return createApiHandler(
    'verify',
    {
      'POST /v1/verify': {
        body: verifyBody,
        async handle(req: ApiRequest<z.output<typeof verifyBody>>) {
          const result = await verifier.verify(req.body.key.trim());
          if (!result.ok) return json(200, { valid: false });
          const { record, principal } = result;
          return json(200, { valid: true, keyId: record.id, tenant: record.tenant, scopes: principal.scopes, expiresAt: record.expiresAt ?? null });
        },
      },
    },
    httpOptions(services),
  );
}

