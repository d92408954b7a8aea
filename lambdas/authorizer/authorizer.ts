/**
 * The decision: request → policy. Dependencies come in (I/O lives at the edges, in handler.ts), so this is
 * the same code in Lambda, in the local gateway, in tests and in benchmarks.
 *
 * Outcomes, as API Gateway turns them into responses:
 * - an Allow policy for exactly the routes the principal's scopes permit (403 elsewhere, from the cache too);
 * - `throw new Error('Unauthorized')` for a missing or refused credential → 401;
 * - any other throw (store, JWKS or secret failure) → API Gateway's authorizer-failure response. Never an Allow.
 *
 * Every decision adds its metrics (metrics-catalog.ts: Decisions, Refusals, DependencyFailures, the decision cache,
 * DecisionLatency) to `deps.metrics`; the caller flushes them once per invocation (handler.ts).
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { bindPrincipal, type CertificateCheck, type CertificateFacts } from '../core/client-certificate.js';
import { extractCredential, type CredentialKind } from '../core/credentials.js';
import { credentialCacheKey, type CachedDecision, type DecisionCache } from '../core/decision-cache.js';
import type { KeyVerification } from '../core/key-verifier.js';
import type { Log } from '../core/log.js';
import { dependencyOf, NO_METRICS, refusalReasonValue, type MetricsSink } from '../core/metrics.js';
import { buildPolicy } from '../core/policy.js';
import { anonymousPrincipal, principalToContext, type Principal } from '../core/principal.js';
import type { Api } from '../core/api-definition.js';
import type { Scope } from '../core/scopes.js';
import type { AuthMode } from '../core/settings.js';
import type { TokenVerification } from '../core/token-verifier.js';
import { planContext } from '../core/plan-context.js';
import type { PlanLimiter } from '../core/plan-limiter.js';
import type { PlanCatalog } from '../core/plans.js';
import { quotaSubject } from '../core/quota-store.js';

/**
 * Plans (docs/plans.md): the limiter decides after the credential; the answer reaches API Gateway as the usage
 * identifier key of one of two usage plans — `open` (no limits) or `limited` (throttled to zero: API Gateway answers
 * 429 THROTTLED itself, before any integration runs, with the gateway response that reads this decision's context).
 */
export interface AuthorizerPlans {
  readonly catalog: PlanCatalog;
  readonly limiter: Pick<PlanLimiter, 'check'>;
  readonly usageKeys: { readonly open: string; readonly limited: string };
}

/** What a refused or missing credential looked like, for the audit trail. Never the credential. */
export interface RefusalEvent {
  readonly reason: string;
  readonly credentialKind: CredentialKind | 'certificate' | 'none' | 'unknown';
  readonly keyId?: string;
  /**
   * Owner of the stored key the credential named: present exactly when the store was read and held that key (the
   * system tenant for a key in a reserved tenant). The audit trail keeps these apart from junk (refusal-recorder.ts).
   */
  readonly tenant?: string;
  readonly sourceIp?: string;
  /** The client certificate of the request (mutual TLS): its serial number and subject, never the certificate. */
  readonly certificate?: CertificateFacts;
  readonly method: string;
  readonly path: string;
  readonly mode: AuthMode;
  /** `denied` in enforce mode; `allowed_anonymous` in audit mode. */
  readonly outcome: 'denied' | 'allowed_anonymous';
}

export interface AuthorizerDeps {
  /** The deployment's API: its routes make the policy, its scopes what credentials hold. */
  readonly api: Api;
  readonly mode: AuthMode;
  readonly anonymousScopes: readonly Scope[];
  readonly keys: { verify(key: string): Promise<KeyVerification> };
  readonly tokens: { verify(token: string): Promise<TokenVerification> };
  /** Client certificates (mutual TLS; core/client-certificate.ts). Absent: a certificate changes nothing. */
  readonly certificates?: { check(cert: APIGatewayRequestAuthorizerEvent['requestContext']['identity']['clientCert'] | undefined): CertificateCheck };
  readonly cache: DecisionCache;
  readonly log: Log;
  /** Called for every refused (and, in audit mode, missing) credential. Must not throw. */
  readonly onRefusal?: (event: RefusalEvent) => void;
  /** Called for every allowed API-key request (usage accounting); the principal carries keyId and tenant. Must not throw. */
  readonly onKeyUse?: (principal: Principal) => void;
  /** Where decisions are counted and timed (default: nowhere). The caller flushes it. */
  readonly metrics?: MetricsSink;
  /** Plans to enforce; absent (or limiting nothing): no limits, no usage identifier key. */
  readonly plans?: AuthorizerPlans;
}

export type Authorizer = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** The exact message API Gateway maps to 401. */
export const UNAUTHORIZED = 'Unauthorized';

/** What one decision was, for its metrics. */
interface DecisionFacts {
  /** The credential's kind; `anonymous` when the anonymous principal was allowed (off mode, audit-mode refusals). */
  credential: 'api_key' | 'jwt' | 'certificate' | 'none' | 'unknown' | 'anonymous';
  cache?: 'hit' | 'miss';
  /** The request's client certificate, for its refusal events. */
  certificate?: CertificateFacts;
}

export function createAuthorizer(deps: AuthorizerDeps): Authorizer {
  const metrics = deps.metrics ?? NO_METRICS;
  // Settings refuse credential scopes for the anonymous principal at load; dependencies built any other way
  // (tests, embedders) get the same rule here: an unauthenticated caller never reads or mints keys.
  const anonymous = anonymousPrincipal(deps.anonymousScopes.filter((s) => deps.api.scopes.has(s) && !deps.api.scopes.isCredential(s)));
  const { routes } = deps.api;

  const plans = deps.plans?.catalog.limitsAnything ? deps.plans : undefined;
  // A token principal's counter subject is a SHA-256 of its tenant and sub: computed once per principal object, which
  // the decision cache hands back for every request of that credential (the hot path stays hash-free).
  const subjects = new WeakMap<Principal, string>();
  const subjectOf = (principal: Principal): string => {
    let subject = subjects.get(principal);
    if (subject === undefined) subjects.set(principal, (subject = quotaSubject(principal)));
    return subject;
  };

  const allow = async (principal: Principal, event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const policy = buildPolicy({ principalId: principal.principalId, methodArn: event.methodArn, scopes: principal.scopes, routes, context: principalToContext(principal) });
    if (!plans) return policy;
    // The anonymous principal of audit and off modes is nobody's plan: not limited (WAF's per-IP rule still is).
    if (principal.authMethod === 'anonymous') return { ...policy, usageIdentifierKey: plans.usageKeys.open };
    // A store failure while leasing throws: no Allow, the authorizer-failure response (fail closed).
    const decision = await plans.limiter.check(subjectOf(principal), plans.catalog.forPrincipal(principal));
    if (!decision.allowed) metrics.add('PlanLimited', 1, { limit: decision.limit });
    return {
      ...policy,
      context: { ...policy.context, ...planContext(decision) },
      usageIdentifierKey: decision.allowed ? plans.usageKeys.open : plans.usageKeys.limited,
    };
  };

  const refuse = (
    facts: DecisionFacts,
    event: APIGatewayRequestAuthorizerEvent,
    reason: string,
    credentialKind: RefusalEvent['credentialKind'],
    keyId?: string,
    tenant?: string,
  ): Promise<APIGatewayAuthorizerResult> => {
    const auditMode = deps.mode === 'audit';
    const refusal: RefusalEvent = {
      reason,
      credentialKind,
      ...(keyId === undefined ? {} : { keyId }),
      ...(tenant === undefined ? {} : { tenant }),
      ...(event.requestContext?.identity?.sourceIp ? { sourceIp: event.requestContext.identity.sourceIp } : {}),
      ...(facts.certificate ? { certificate: facts.certificate } : {}),
      method: event.httpMethod,
      path: event.path,
      mode: deps.mode,
      outcome: auditMode ? 'allowed_anonymous' : 'denied',
    };
    // A missing credential is ordinary in enforce mode (a 401 says so); it is an audit finding only in audit mode.
    if (credentialKind !== 'none' || auditMode) deps.onRefusal?.(refusal);
    metrics.add('Refusals', 1, { reason: refusalReasonValue(reason) });
    // Debug, not info: a credential-stuffing run would otherwise be one log line per request (the audit trail
    // already collapses identical refusals into one event with a count).
    deps.log.debug('credential refused', { reason, credentialKind, keyId, outcome: refusal.outcome });
    if (auditMode) {
      facts.credential = 'anonymous';
      return allow(anonymous, event);
    }
    throw new Error(UNAUTHORIZED);
  };

  const decide = async (event: APIGatewayRequestAuthorizerEvent, facts: DecisionFacts): Promise<APIGatewayAuthorizerResult> => {
    if (deps.mode === 'off') {
      facts.credential = 'anonymous';
      return allow(anonymous, event);
    }

    // Mutual TLS: the certificate API Gateway validated is read first (core/client-certificate.ts).
    const cert: CertificateCheck = deps.certificates?.check(event.requestContext?.identity?.clientCert) ?? { kind: 'none' };
    if (cert.kind !== 'none') facts.certificate = cert.certificate;
    if (cert.kind === 'refused') {
      facts.credential = 'certificate';
      return refuse(facts, event, cert.reason, 'certificate');
    }
    const credential = extractCredential(event.headers, event.multiValueHeaders);
    if (cert.kind === 'principal') {
      facts.credential = 'certificate';
      // The certificate is the credential: a key or token beside it would leave two answers to "who is this".
      if (credential.kind !== 'none') return refuse(facts, event, 'conflicting_credentials', 'certificate');
      return allow(cert.principal, event);
    }
    if (credential.kind === 'none') {
      facts.credential = 'none';
      return cert.kind === 'bound' ? refuse(facts, event, 'certificate_needs_credential', 'certificate') : refuse(facts, event, 'missing', 'none');
    }
    if (credential.kind === 'refused') {
      facts.credential = 'unknown';
      return refuse(facts, event, credential.reason, 'unknown');
    }

    facts.credential = credential.kind;
    const cacheKey = credentialCacheKey(credential.value);
    let decision: CachedDecision | undefined = deps.cache.get(cacheKey);
    facts.cache = decision ? 'hit' : 'miss';
    if (!decision) {
      // Dependency failures throw out of here: not cached, not an Allow, not a 401.
      if (credential.kind === 'api_key') {
        const result = await deps.keys.verify(credential.value);
        decision = result.ok
          ? { allow: true, principal: result.principal }
          : {
              allow: false,
              reason: result.reason,
              ...(result.keyId === undefined ? {} : { keyId: result.keyId }),
              ...(result.tenant === undefined ? {} : { tenant: result.tenant }),
            };
        deps.cache.set(cacheKey, decision, result.ok ? result.usableUntilMs : Infinity);
      } else {
        const result = await deps.tokens.verify(credential.value);
        decision = result.ok ? { allow: true, principal: result.principal } : { allow: false, reason: result.reason };
        deps.cache.set(cacheKey, decision, result.ok ? result.expiresAtMs : Infinity);
      }
    }

    if (!decision.allow) return refuse(facts, event, decision.reason, credential.kind, decision.keyId, decision.tenant);
    // certificate+credential: the credential must be of the certificate's tenant, and holds what both allow.
    const principal = cert.kind === 'bound' ? bindPrincipal(decision.principal, cert.binding) : decision.principal;
    if (!principal) {
      // A stored key's owner sees the attempt (its key, the wrong certificate), as for any refusal naming its key.
      const owner = decision.principal.keyId === undefined ? undefined : decision.principal.tenant;
      return refuse(facts, event, 'certificate_mismatch', credential.kind, decision.principal.keyId, owner);
    }
    if (principal.keyId !== undefined) deps.onKeyUse?.(principal);
    return allow(principal, event);
  };

  return async (event) => {
    const started = performance.now();
    const facts: DecisionFacts = { credential: 'none' };
    try {
      const result = await decide(event, facts);
      metrics.add('Decisions', 1, { outcome: 'allow', credential: facts.credential });
      return result;
    } catch (error) {
      if (error instanceof Error && error.message === UNAUTHORIZED) {
        metrics.add('Decisions', 1, { outcome: 'refused', credential: facts.credential });
      } else {
        metrics.add('Decisions', 1, { outcome: 'failure', credential: facts.credential });
        metrics.add('DependencyFailures', 1, { dependency: dependencyOf(error) });
      }
      throw error;
    } finally {
      if (facts.cache !== undefined) metrics.add(facts.cache === 'hit' ? 'DecisionCacheHits' : 'DecisionCacheMisses', 1, {});
      metrics.add('DecisionLatency', performance.now() - started, {});
    }
  };
}
