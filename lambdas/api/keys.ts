/**
 * Key lifecycle: create, list, get, revoke, rotate. A tenant only ever sees its own keys (another tenant's key
 * answers 404 exactly like a missing one). The plaintext is in the create and rotate responses only; no
 * response carries a hash. Every change writes exactly one audit event.
 *
 * Revoking twice: DELETE is idempotent — a key that is already revoked answers 204 again, and no second audit
 * event is written (nothing changed). Revoking a rotated key inside its grace period ends the grace at once.
 */
import { isKeyId, KEY_PREFIX } from '../core/api-key.js';
import { NotFoundError, PermissionError, ValidationError } from '../core/errors.js';
import { issueKey } from '../core/key-issuer.js';
import { keyState, type KeyRecord } from '../core/key-record.js';
import type { Principal } from '../core/principal.js';
import { isSubset, sortScopes } from '../core/scopes.js';
import { createApiHandler } from './http/api-handler.js';
import { json, noContent, type ApiRequest } from './http/types.js';
import { createKeyBody, listKeysQuery, rotateKeyBody } from './schemas/keys.js';
import type { z } from 'zod';
import { lambdaEntry, type Services } from './services.js';

export function keyView(record: KeyRecord, nowMs: number) {
  return {
    id: record.id,
    prefix: `${KEY_PREFIX}${record.env}_${record.id}`,
    name: record.name,
    scopes: record.scopes,
    status: keyState(record, nowMs),
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
    ...(record.revokedAt === undefined ? {} : { revokedAt: record.revokedAt }),
    ...(record.graceUntil === undefined ? {} : { graceUntil: record.graceUntil }),
    ...(record.rotatedTo === undefined ? {} : { rotatedTo: record.rotatedTo }),
    ...(record.rotatedFrom === undefined ? {} : { rotatedFrom: record.rotatedFrom }),
  };
}

function createdView(key: string, record: KeyRecord) {
  return {
    id: record.id,
    key,
    name: record.name,
    scopes: record.scopes,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt ?? null,
    ...(record.rotatedFrom === undefined ? {} : { rotatedFrom: record.rotatedFrom }),
  };
}

/** The path's key id; a string that cannot be a key id names no key (404, like another tenant's). */
function keyIdOf(req: ApiRequest): string {
  const id = req.pathParameters.keyId ?? '';
  if (!isKeyId(id)) throw new NotFoundError('No such key.');
  return id;
}

export function createKeysHandler(services: Services) {
  const { keys, audit, peppers, settings } = services;
  const issuer = { store: keys, peppers, environment: settings.keyEnvironment, now: services.now };
  const iso = (ms: number) => new Date(ms).toISOString();
  const actor = (p: Principal) => p.principalId;

  return createApiHandler(
    'keys',
    {
      'POST /v1/keys': {
        body: createKeyBody,
        async handle(req: ApiRequest<z.output<typeof createKeyBody>>) {
          const { name, scopes, expiresAt } = req.body;
          if (!isSubset(scopes, req.principal.scopes)) {
            const missing = scopes.filter((s) => !req.principal.scopes.includes(s));
            throw new PermissionError(`A key cannot hold scopes its creator lacks: ${missing.join(', ')}.`);
          }
          let expires: string | undefined;
          if (expiresAt !== undefined) {
            const at = Date.parse(expiresAt);
            if (at <= services.now()) throw new ValidationError('Invalid body: expiresAt.', [{ field: 'expiresAt', message: 'must be in the future' }]);
            expires = iso(at);
          }
          const { key, record } = await issueKey(issuer, {
            tenant: req.principal.tenant,
            name,
            scopes: sortScopes(scopes),
            createdBy: actor(req.principal),
            ...(expires === undefined ? {} : { expiresAt: expires }),
          });
          await audit.record({
            type: 'key.created',
            tenant: record.tenant,
            actor: actor(req.principal),
            keyId: record.id,
            ...(req.sourceIp ? { sourceIp: req.sourceIp } : {}),
            details: { scopes: record.scopes.join(' '), name: record.name },
          });
          return { status: 201, body: createdView(key, record), headers: { Location: `/v1/keys/${record.id}` } };
        },
      },

      'GET /v1/keys': {
        query: listKeysQuery,
        async handle(req: ApiRequest & { queryParams: z.output<typeof listKeysQuery> }) {
          const page = await keys.listForTenant(req.principal.tenant, req.queryParams.limit, req.queryParams.nextToken);
          const now = services.now();
          return json(200, { keys: page.records.map((r) => keyView(r, now)), ...(page.nextToken ? { nextToken: page.nextToken } : {}) });
        },
      },

      'GET /v1/keys/{keyId}': {
        async handle(req) {
          const record = await keys.getForTenant(keyIdOf(req), req.principal.tenant);
          if (!record) throw new NotFoundError('No such key.');
          return json(200, keyView(record, services.now()));
        },
      },

      'DELETE /v1/keys/{keyId}': {
        async handle(req) {
          const result = await keys.revoke(keyIdOf(req), req.principal.tenant, iso(services.now()), { mayTouchAdminKey: req.principal.admin });
          if (!result) throw new NotFoundError('No such key.');
          if ('forbidden' in result) throw new PermissionError('Only an administrator can revoke the bootstrap admin key.');
          if (result.changed) {
            await audit.record({
              type: 'key.revoked',
              tenant: result.record.tenant,
              actor: actor(req.principal),
              keyId: result.record.id,
              ...(req.sourceIp ? { sourceIp: req.sourceIp } : {}),
            });
          }
          return noContent();
        },
      },

      'POST /v1/keys/{keyId}/rotate': {
        body: rotateKeyBody,
        async handle(req: ApiRequest<z.output<typeof rotateKeyBody>>) {
          const id = keyIdOf(req);
          const old = await keys.getForTenant(id, req.principal.tenant);
          if (!old) throw new NotFoundError('No such key.');
          if (old.admin === true && !req.principal.admin) throw new PermissionError('Only an administrator can rotate the bootstrap admin key.');
          const now = services.now();
          assertRotatable(old, now);
          // Create the successor first, then retire the old key conditionally; if that loses a race (revoked or
          // rotated meanwhile), revoke the successor so no orphan key stays usable.
          const { key, record } = await issueKey(issuer, {
            tenant: old.tenant,
            name: old.name,
            scopes: old.scopes,
            createdBy: actor(req.principal),
            rotatedFrom: old.id,
            // The bootstrap admin key's successor stays the admin key (only an administrator gets this far).
            ...(old.admin === true ? { admin: true as const } : {}),
            ...(old.expiresAt === undefined ? {} : { expiresAt: old.expiresAt }),
          });
          const graceUntil = iso(now + req.body.gracePeriodSeconds * 1000);
          const marked = await keys.markRotated(old.id, old.tenant, record.id, graceUntil, iso(now));
          if ('refused' in marked) {
            await keys.revoke(record.id, record.tenant, iso(now), { mayTouchAdminKey: true });
            throw rotationRefused(marked.refused);
          }
          await audit.record({
            type: 'key.rotated',
            tenant: old.tenant,
            actor: actor(req.principal),
            keyId: old.id,
            ...(req.sourceIp ? { sourceIp: req.sourceIp } : {}),
            details: { successorId: record.id, gracePeriodSeconds: req.body.gracePeriodSeconds, graceUntil },
          });
          return { status: 201, body: createdView(key, record), headers: { Location: `/v1/keys/${record.id}` } };
        },
      },
    },
    { logger: services.logger, corsOrigins: settings.corsOrigins, maxBodyBytes: settings.maxBodyBytes },
  );
}

/** Only an active key that has not been rotated yet can be rotated; the errors say what to do instead. */
function assertRotatable(record: KeyRecord, nowMs: number): void {
  if (record.rotatedTo !== undefined) throw rotationRefused('already_rotated');
  const state = keyState(record, nowMs);
  if (state !== 'active') throw rotationRefused(state);
}

function rotationRefused(reason: 'absent' | 'revoked' | 'expired' | 'already_rotated'): Error {
  if (reason === 'absent') return new NotFoundError('No such key.');
  if (reason === 'already_rotated') {
    return new ValidationError('This key was already rotated; rotate its successor instead.', [{ field: 'keyId', message: 'already rotated' }]);
  }
  return new ValidationError(`This key is ${reason}; create a new key instead.`, [{ field: 'keyId', message: reason }]);
}

export const handler = lambdaEntry('keys', createKeysHandler);

