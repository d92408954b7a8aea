/**
 * Issues a new API key: generates it, hashes it with the current pepper, stores the record. The plaintext
 * leaves this function once, to be shown to the caller once; it is never stored or logged.
 *
 * Also the one rule deciding who may issue what ({@link issueRefusal}): create, rotate and revoke all ask it.
 */
import { generateApiKey, type KeyEnvironment } from './api-key.js';
import { hashApiKey } from './key-hash.js';
import { isCanonicalInstant } from './instant.js';
import type { KeyRecord } from './key-record.js';
import { KeyExistsError } from './key-store.js';
import type { PepperRing } from './pepper.js';
import { planWithin, type PlanCatalog } from './plans.js';
import type { AuthMethod, Principal } from './principal.js';
import type { Scope } from './scopes.js';

/** The caller, as far as issuing keys is concerned. */
export interface Issuer {
  readonly authMethod: AuthMethod;
  readonly scopes: readonly Scope[];
  /**
   * When the caller's own credential stops working (epoch ms): an API key's expiry or the end of its rotation
   * grace period, whichever is earlier. Infinity for people and machines (a token's exp does not cap the keys
   * they make: tokens are short-lived by design and refreshed, the person or machine is not).
   */
  readonly endMs: number;
}

/** A key as the rule sees it: its scopes and, when it matters, when it expires (Infinity = never). */
export interface KeyShape {
  readonly scopes: readonly Scope[];
  readonly expiresMs?: number;
}

export type IssueRefusal =
  | { readonly reason: 'anonymous' }
  | { readonly reason: 'scopes'; readonly missing: readonly Scope[] }
  | { readonly reason: 'expiry'; readonly latestMs: number };

/**
 * "Could the caller have created this key?" (CONTRACT amendment of 2026-12-02). Create asks it of the new key,
 * rotate of the successor (before issuing it), revoke of the key to revoke (administrators excepted, by the
 * caller). Without a key it answers whether the caller may handle credentials at all: the anonymous principal
 * of audit/off modes never may, whatever scopes it was configured with. Answers why not, or undefined.
 */
export function issueRefusal(caller: Issuer, key?: KeyShape): IssueRefusal | undefined {
  if (caller.authMethod === 'anonymous') return { reason: 'anonymous' };
  if (!key) return undefined;
  const held = new Set(caller.scopes);
  const missing = key.scopes.filter((s) => !held.has(s));
  if (missing.length > 0) return { reason: 'scopes', missing };
  if (key.expiresMs !== undefined && key.expiresMs > caller.endMs) return { reason: 'expiry', latestMs: caller.endMs };
  return undefined;
}


/**
 * "Could the caller have put a key on this plan?" — the plan rule beside {@link issueRefusal} (docs/plans.md): the
 * plan must exist and be within the caller's own (no looser in any limit); administrators may choose any plan, as
 * they may revoke any key. Answers why not, or undefined.
 */
export type PlanRefusal = { readonly reason: 'unknown_plan'; readonly plans: readonly string[] } | { readonly reason: 'plan'; readonly own: string };

export function planRefusal(catalog: PlanCatalog, caller: Pick<Principal, 'plan' | 'admin' | 'authMethod' | 'keyId'>, plan: string): PlanRefusal | undefined {
  if (!catalog.has(plan)) return { reason: 'unknown_plan', plans: catalog.all.map((p) => p.name) };
  if (caller.admin) return undefined;
  const own = catalog.forPrincipal(caller);
  return planWithin(catalog.get(plan), own) ? undefined : { reason: 'plan', own: own.name };
}

/** The plan of a key created without naming one: the default, unless that is looser than the creator's own plan. */
export function defaultPlanFor(catalog: PlanCatalog, caller: Pick<Principal, 'plan' | 'admin' | 'authMethod' | 'keyId'>): string {
  const fallback = catalog.config.defaultPlan;
  return planRefusal(catalog, caller, fallback) === undefined ? fallback : catalog.forPrincipal(caller).name;
}

export interface IssueKeyInput {
  readonly tenant: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly createdBy: string;
  readonly expiresAt?: string;
  readonly rotatedFrom?: string;
  /** The bootstrap admin key only. */
  readonly admin?: true;
  /** The key's plan (absent: the deployment's default, resolved when used). */
  readonly plan?: string;
}

export interface KeyWriter {
  create(record: KeyRecord): Promise<void>;
}

export interface KeyIssuerDeps {
  readonly store: KeyWriter;
  readonly peppers: { current(): Promise<PepperRing> };
  readonly environment: KeyEnvironment;
  readonly now?: () => number;
}

export async function issueKey(deps: KeyIssuerDeps, input: IssueKeyInput): Promise<{ key: string; record: KeyRecord }> {
  // Callers normalise and bound instants; this guard keeps a missed case from ever being stored.
  if (input.expiresAt !== undefined && !isCanonicalInstant(input.expiresAt)) {
    throw new RangeError('expiresAt must be a UTC instant in the form YYYY-MM-DDTHH:mm:ss.sssZ');
  }
  const ring = await deps.peppers.current();
  const pepper = ring.peppers.get(ring.currentVersion)!;
  // 12 base62 characters: a collision is astronomically unlikely, but a conditional write makes it harmless.
  for (let attempt = 0; ; attempt++) {
    const { id, key } = generateApiKey(deps.environment);
    const record: KeyRecord = {
      id,
      tenant: input.tenant,
      name: input.name,
      scopes: [...input.scopes],
      env: deps.environment,
      hash: hashApiKey(key, pepper),
      pepperVersion: ring.currentVersion,
      createdBy: input.createdBy,
      createdAt: new Date((deps.now ?? Date.now)()).toISOString(),
      ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
      ...(input.rotatedFrom === undefined ? {} : { rotatedFrom: input.rotatedFrom }),
      ...(input.admin ? { admin: true as const } : {}),
      ...(input.plan === undefined ? {} : { plan: input.plan }),
    };
    try {
      await deps.store.create(record);
      return { key, record };
    } catch (error) {
      if (!(error instanceof KeyExistsError) || attempt >= 2) throw error;
    }
  }
}
