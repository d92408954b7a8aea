/**
 * Key lifecycle: create, list, get, revoke, rotate. A tenant only ever sees its own keys (another tenant's key
 * answers 404 exactly like a missing one). The plaintext is in the create and rotate responses only; no
 * response carries a hash. Every change writes exactly one audit event.
 *
 * Who may write (CONTRACT amendment of 2026-12-02), decided by one rule, {@link issueRefusal}: a key made by
 * create, and a rotation successor, is something the caller could have created — scopes ⊆ the caller's and, for a
 * caller that is itself an API key, an expiry no later than the caller's own end (its expiry, or the end of its
 * rotation grace period). Holding `keys:write` is not enough to rotate a broader key: the successor would hand the
 * caller scopes it never had. Revoking needs the key's scopes too, except for administrators (incident response).
 * The anonymous principal of audit/off modes never creates, rotates or revokes, whatever its scopes.
 *
 * Revoking twice: DELETE is idempotent — a key that is already revoked answers 204 again, and no second audit
 * event is written (nothing changed). Revoking a rotated key inside its grace period ends the grace at once.
 *
 * Rotation is all-or-nothing: everything that can refuse is decided before the successor is issued; if a later
 * write fails (the old key cannot be marked, the audit event cannot be written), the successor is revoked and the
 * old key put back as it was, so no usable key exists that nobody was shown and no key is retired for nothing.
 */
import { isKeyId, KEY_PREFIX } from '../../core/api-key.js';
import { AuthenticationError, NotFoundError, PermissionError, ValidationError, type GatehouseError } from '../../core/errors.js';
import { defaultPlanFor, issueKey, issueRefusal, planRefusal, type Issuer, type IssueRefusal, type PlanRefusal } from '../../core/key-issuer.js';
import type { PlanCatalog } from '../../core/plans.js';
import { effectiveScopes, keyState, keyUsableUntil, type KeyRecord } from '../../core/key-record.js';
import type { Principal } from '../../core/principal.js';
import type { ScopeCatalog } from '../../core/scopes.js';
import { createApiHandler } from '../http/api-handler.js';
import { json, noContent, type ApiRequest } from '../http/types.js';
import { LATEST_INSTANT_MS } from '../../core/instant.js';
import { createKeyBody, listKeysQuery, rotateKeyBody, setPlanBody } from './schemas.js';
import type { z } from 'zod';
import { httpOptions, type Services } from '../services.js';

export function keyView(record: KeyRecord, nowMs: number, catalog: ScopeCatalog, plans: PlanCatalog) {
  return {
    id: record.id,
    prefix: `${KEY_PREFIX}${record.env}_${record.id}`,
    name: record.name,
    scopes: effectiveScopes(record, catalog),
    plan: plans.forKey(record).name,
    ...(record.admin === true ? { admin: true as const } : {}),
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

function createdView(key: string, record: KeyRecord, catalog: ScopeCatalog, plans: PlanCatalog) {
  return {
    id: record.id,
    key,
    name: record.name,
    scopes: effectiveScopes(record, catalog),
    plan: plans.forKey(record).name,
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

const iso = (ms: number) => new Date(ms).toISOString();
const actor = (p: Principal) => p.principalId;

/** The caller as an issuer whose own end does not matter (revoking; the anonymous check). */
const issuerIgnoringEnd = (p: Principal): Issuer => ({ authMethod: p.authMethod, scopes: p.scopes, endMs: Infinity });

/** A finite expiry kept within what the API stores (a key from before the bounds may end after year 9999). */
const storableEnd = (ms: number): number => (Number.isFinite(ms) ? Math.min(ms, LATEST_INSTANT_MS) : ms);

/** Every requested scope must be one the deployment declares (the schema only checks the names' form). */
function assertDeclared(scopes: readonly string[], catalog: ScopeCatalog): void {
  const unknown = scopes.filter((s) => !catalog.has(s));
  if (unknown.length > 0) {
    throw new ValidationError('Invalid body: scopes.', [{ field: 'scopes', message: `not declared by this API: ${unknown.join(', ')} (declared: ${catalog.all.join(', ')})` }]);
  }
}

function planRefusalError(refusal: PlanRefusal, plan: string, action: 'create' | 'rotate' | 'change'): GatehouseError {
  if (refusal.reason === 'unknown_plan') {
    return new ValidationError('Invalid body: plan.', [{ field: 'plan', message: `not a plan of this API: ${plan} (plans: ${refusal.plans.join(', ')})` }]);
  }
  const what = action === 'rotate' ? `Rotating this key would give you a key on plan ${plan}` : `A key on plan ${plan}`;
  return new PermissionError(`${what}, which is looser than your own plan (${refusal.own}): a key cannot have more than its creator. Ask an administrator.`);
}

function refusalError(refusal: IssueRefusal, action: 'create' | 'rotate' | 'revoke'): GatehouseError {
  switch (refusal.reason) {
    case 'anonymous':
      return new PermissionError(
        'Anonymous callers (GATEHOUSE_AUTH_MODE audit or off) cannot create, rotate or revoke API keys, whatever their scopes; send a credential.',
      );
    case 'scopes': {
      const missing = refusal.missing.join(', ');
      if (action === 'create') return new PermissionError(`A key cannot hold scopes its creator lacks: ${missing}.`);
      if (action === 'rotate') {
        return new PermissionError(`Rotating this key would give you a key with scopes you lack: ${missing}. Ask someone who holds them to rotate it.`);
      }
      return new PermissionError(
        `You can only revoke keys whose scopes you hold; this key also has: ${missing}. Ask someone who holds them, or an administrator, to revoke it.`,
      );
    }
    case 'expiry':
      return new ValidationError('Invalid body: expiresAt.', [
        {
          field: 'expiresAt',
          message: `must be no later than ${iso(refusal.latestMs)}, when the calling key stops working: a key cannot create a key that outlives it`,
        },
      ]);
  }
}

export function createKeysHandler(services: Services) {
  const { keys, audit, peppers, settings, logger } = services;
  const catalog = services.api.scopes;
  const { plans } = services;
  const issuing = { store: keys, peppers, environment: settings.keyEnvironment, now: services.now };

  /** Refuses, before anything is read, a caller that may not handle credentials at all. */
  function assertMayHandleKeys(p: Principal): void {
    const refusal = issueRefusal(issuerIgnoringEnd(p));
    if (refusal) throw refusalError(refusal, 'create');
  }

  /** The key the path names, if it is the caller's tenant's; anything else is the same 404 (another tenant's too). */
  async function tenantKey(req: ApiRequest): Promise<KeyRecord> {
    const record = await keys.getForTenant(keyIdOf(req), req.principal.tenant);
    if (!record) throw new NotFoundError('No such key.');
    return record;
  }

  /**
   * The caller as an issuer. A key caller's end comes from its own record (one read; `known` when the caller is the
   * key being rotated). A key that is gone, revoked or expired since the authorizer allowed it (its decision is
   * cached for a few seconds) is refused as the authorizer now would: fail closed.
   */
  async function issuerOf(p: Principal, nowMs: number, known?: KeyRecord): Promise<Issuer> {
    // The authorizer sets keyId for every API key (principalToContext); without one the caller is a person, a
    // machine or an administrator's test principal, whose tokens' exp does not cap the keys they make.
    if (p.keyId === undefined) return issuerIgnoringEnd(p);
    // A key id the authorizer could never have set names no key: refused without a read.
    if (!isKeyId(p.keyId)) throw new AuthenticationError();
    const record = known?.id === p.keyId ? known : await keys.getForTenant(p.keyId, p.tenant);
    if (!record || keyState(record, nowMs) !== 'active') throw new AuthenticationError();
    return { authMethod: p.authMethod, scopes: p.scopes, endMs: keyUsableUntil(record) };
  }

  /** The one audit event of a key change, attributed to the caller. */
  function recordKeyEvent(req: ApiRequest, type: 'key.created' | 'key.revoked' | 'key.rotated' | 'key.plan_changed', keyRecord: KeyRecord, details?: Record<string, string | number>) {
    return audit.record({
      type,
      tenant: keyRecord.tenant,
      actor: actor(req.principal),
      keyId: keyRecord.id,
      ...(req.sourceIp ? { sourceIp: req.sourceIp } : {}),
      ...(details ? { details } : {}),
    });
  }

  /** Revokes a key whose issue did not complete. Best effort: the original failure is what the caller hears. */
  async function discard(record: KeyRecord): Promise<void> {
    try {
      await keys.revoke(record.id, record.tenant, iso(services.now()), { mayTouchAdminKey: true });
    } catch (error) {
      logger.error('could not revoke a key whose issue did not complete; revoke it by hand', { keyId: record.id, error });
    }
  }

  /** Takes a rotation back: the successor revoked, the old key as it was (unless revoked meanwhile). */
  async function undoRotation(old: KeyRecord, successor: KeyRecord, graceUntil: string): Promise<void> {
    await discard(successor);
    try {
      await keys.restoreRotated(old, successor.id, graceUntil);
    } catch (error) {
      logger.error('could not restore a key after a failed rotation; it stays rotated to a revoked successor', {
        keyId: old.id,
        successorId: successor.id,
        error,
      });
    }
  }

  /** Marks the old key rotated to the successor; on any failure the successor does not stay usable. */
  async function retire(old: KeyRecord, successor: KeyRecord, graceUntil: string, nowMs: number): Promise<void> {
    let marked: Awaited<ReturnType<typeof keys.markRotated>>;
    try {
      marked = await keys.markRotated(old.id, old.tenant, successor.id, graceUntil, iso(nowMs));
    } catch (error) {
      // The write may have landed before the failure surfaced: undo both sides (the restore is conditional).
      await undoRotation(old, successor, graceUntil);
      throw error;
    }
    if ('refused' in marked) {
      // Lost a race (revoked or rotated meanwhile): the old key was not touched.
      await discard(successor);
      throw rotationRefused(marked.refused);
    }
  }

  return createApiHandler(
    'keys',
    {
      'POST /v1/keys': {
        body: createKeyBody,
        async handle(req: ApiRequest<z.output<typeof createKeyBody>>) {
          const { principal } = req;
          assertMayHandleKeys(principal);
          const { name, scopes, expiresAt } = req.body;
          assertDeclared(scopes, catalog);
          const plan = req.body.plan ?? defaultPlanFor(plans, principal);
          const planRefused = planRefusal(plans, principal, plan);
          if (planRefused) throw planRefusalError(planRefused, plan, 'create');
          const now = services.now();
          // The schema bounded and normalised expiresAt; "in the future" needs the clock.
          const requestedMs = expiresAt === undefined ? undefined : Date.parse(expiresAt);
          if (requestedMs !== undefined && requestedMs <= now) {
            throw new ValidationError('Invalid body: expiresAt.', [{ field: 'expiresAt', message: 'must be in the future' }]);
          }
          const issuer = await issuerOf(principal, now);
          // Without an expiry of its own, a key made by a key ends when its maker does.
          const expiresMs = requestedMs ?? storableEnd(issuer.endMs);
          const refusal = issueRefusal(issuer, { scopes, expiresMs });
          if (refusal) throw refusalError(refusal, 'create');
          const { key, record } = await issueKey(issuing, {
            tenant: principal.tenant,
            name,
            scopes: catalog.sort(scopes),
            createdBy: actor(principal),
            plan,
            ...(Number.isFinite(expiresMs) ? { expiresAt: iso(expiresMs) } : {}),
          });
          try {
            await recordKeyEvent(req, 'key.created', record, { scopes: record.scopes.join(' '), name: record.name, plan });
          } catch (error) {
            // Nobody will ever see this key's plaintext, and its creation is unrecorded: it must not stay usable.
            await discard(record);
            throw error;
          }
          return { status: 201, body: createdView(key, record, catalog, plans), headers: { Location: `/v1/keys/${record.id}` } };
        },
      },

      'GET /v1/keys': {
        query: listKeysQuery,
        async handle(req: ApiRequest & { queryParams: z.output<typeof listKeysQuery> }) {
          const page = await keys.listForTenant(req.principal.tenant, req.queryParams.limit, req.queryParams.nextToken);
          const now = services.now();
          return json(200, { keys: page.records.map((r) => keyView(r, now, catalog, plans)), ...(page.nextToken ? { nextToken: page.nextToken } : {}) });
        },
      },

      'GET /v1/keys/{keyId}': {
        async handle(req) {
          const record = await tenantKey(req);
          return json(200, keyView(record, services.now(), catalog, plans));
        },
      },

      'PUT /v1/keys/{keyId}/plan': {
        body: setPlanBody,
        async handle(req: ApiRequest<z.output<typeof setPlanBody>>) {
          const { principal } = req;
          assertMayHandleKeys(principal);
          const target = await tenantKey(req);
          const { plan } = req.body;
          // Both ends must be plans the caller could give a key: the new one (no escalation) and the current one (a
          // narrower caller does not decide for a broader key, as with revoking).
          const from = plans.forKey(target).name;
          const toRefused = planRefusal(plans, principal, plan);
          if (toRefused) throw planRefusalError(toRefused, plan, 'change');
          const fromRefused = planRefusal(plans, principal, from);
          if (fromRefused?.reason === 'plan') {
            throw new PermissionError(`This key is on plan ${from}, which is looser than your own plan (${fromRefused.own}); ask someone whose plan includes it, or an administrator.`);
          }
          const result = await keys.setPlan(target.id, principal.tenant, plan, { mayTouchAdminKey: principal.admin });
          if (!result) throw new NotFoundError('No such key.');
          if ('forbidden' in result) throw new PermissionError("Only an administrator can change the bootstrap admin key's plan.");
          if (from !== plan) await recordKeyEvent(req, 'key.plan_changed', result.record, { from, to: plan });
          return json(200, keyView(result.record, services.now(), catalog, plans));
        },
      },

      'DELETE /v1/keys/{keyId}': {
        async handle(req) {
          const { principal } = req;
          assertMayHandleKeys(principal);
          const target = await tenantKey(req);
          // Scopes never change after creation, so this read decides for the write below. Administrators are
          // excepted: incident response must be able to revoke any key of their tenant.
          if (!principal.admin) {
            const refusal = issueRefusal(issuerIgnoringEnd(principal), { scopes: effectiveScopes(target, catalog) });
            if (refusal) throw refusalError(refusal, 'revoke');
          }
          const result = await keys.revoke(target.id, principal.tenant, iso(services.now()), { mayTouchAdminKey: principal.admin });
          if (!result) throw new NotFoundError('No such key.');
          if ('forbidden' in result) throw new PermissionError('Only an administrator can revoke the bootstrap admin key.');
          if (result.changed) {
            await recordKeyEvent(req, 'key.revoked', result.record);
          }
          return noContent();
        },
      },

      'POST /v1/keys/{keyId}/rotate': {
        body: rotateKeyBody,
        async handle(req: ApiRequest<z.output<typeof rotateKeyBody>>) {
          const { principal } = req;
          assertMayHandleKeys(principal);
          const old = await tenantKey(req);
          if (old.admin === true && !principal.admin) throw new PermissionError('Only an administrator can rotate the bootstrap admin key.');
          const now = services.now();
          // Everything that can refuse is decided before the successor exists.
          const issuer = await issuerOf(principal, now, old);
          const refusal = issueRefusal(issuer, { scopes: effectiveScopes(old, catalog) });
          if (refusal) throw refusalError(refusal, 'rotate');
          // The successor keeps the old key's plan: that too must be one the caller could have given it.
          const oldPlan = plans.forKey(old).name;
          const planRefused = planRefusal(plans, principal, oldPlan);
          if (planRefused) throw planRefusalError(planRefused, oldPlan, 'rotate');
          assertRotatable(old, now);
          // The successor ends when the old key would have, and no later than a key caller itself: by construction
          // within the rule above. (assertRotatable has ruled out an expiry that does not parse.)
          const successorEnd = storableEnd(Math.min(old.expiresAt === undefined ? Infinity : Date.parse(old.expiresAt), issuer.endMs));
          const graceUntil = iso(now + req.body.gracePeriodSeconds * 1000);

          const { key, record } = await issueKey(issuing, {
            tenant: old.tenant,
            name: old.name,
            // The admin key's successor stores no scopes either: `admin` grants them (key-record.ts effectiveScopes).
            scopes: old.admin === true ? [] : catalog.sort(old.scopes),
            createdBy: actor(principal),
            rotatedFrom: old.id,
            ...(old.plan === undefined ? {} : { plan: old.plan }),
            // The bootstrap admin key's successor stays the admin key (only an administrator gets this far).
            ...(old.admin === true ? { admin: true as const } : {}),
            ...(Number.isFinite(successorEnd) ? { expiresAt: iso(successorEnd) } : {}),
          });
          await retire(old, record, graceUntil, now);
          try {
            await recordKeyEvent(req, 'key.rotated', old, { successorId: record.id, gracePeriodSeconds: req.body.gracePeriodSeconds, graceUntil });
          } catch (error) {
            // An unrecorded rotation whose successor nobody was shown: take it back whole.
            await undoRotation(old, record, graceUntil);
            throw error;
          }
          return { status: 201, body: createdView(key, record, catalog, plans), headers: { Location: `/v1/keys/${record.id}` } };
        },
      },
    },
    httpOptions(services),
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


