/**
 * Who is calling, after a credential has been verified. The authorizer puts this into the policy context
 * (scalars only, as API Gateway requires); handlers read it back with {@link principalFromContext}.
 */
import { isPlanName } from './plans.js';
import { ADMIN_GROUP, isScopeName, type Scope, type ScopeCatalog } from './scopes.js';
import { tenantProblem } from './tenant.js';

/** `certificate`: a client certificate alone (mutual TLS; client-certificate.ts). */
export const AUTH_METHODS = ['api_key', 'jwt', 'iam', 'certificate', 'anonymous'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export interface Principal {
  readonly principalId: string;
  readonly authMethod: AuthMethod;
  readonly tenant: string;
  readonly scopes: readonly Scope[];
  readonly keyId?: string;
  /** Cross-tenant audit reads: group `admins` and the bootstrap admin key. */
  readonly admin: boolean;
  /**
   * The plan the credential names (a key's record, a token's client id or group): absent means the deployment's
   * default (the admin plan for the bootstrap key). Resolved by PlanCatalog.forPrincipal.
   */
  readonly plan?: string;
  /** The client-certificate principal this request is bound to (its configured name), when there is one. */
  readonly certificate?: string;
}

export const ANONYMOUS_PRINCIPAL_ID = 'anonymous';
export const ANONYMOUS_TENANT = 'anonymous';

export function anonymousPrincipal(scopes: readonly Scope[]): Principal {
  return { principalId: ANONYMOUS_PRINCIPAL_ID, authMethod: 'anonymous', tenant: ANONYMOUS_TENANT, scopes, admin: false };
}

export type AuthorizerContext = Record<string, string>;

export function principalToContext(p: Principal): AuthorizerContext {
  const context: AuthorizerContext = {
    principalId: p.principalId,
    authMethod: p.authMethod,
    tenant: p.tenant,
    scopes: p.scopes.join(' '),
    admin: String(p.admin),
  };
  // Always present (empty for principals that are not keys): an HTTP integration maps context.authorizer.keyId to a
  // header, and API Gateway's handling of a mapping from a key the context lacks is not something to rely on.
  context.keyId = p.keyId ?? '';
  context.plan = p.plan ?? '';
  if (p.certificate !== undefined) context.certificate = p.certificate;
  return context;
}

const AUTH_METHOD_SET: ReadonlySet<string> = new Set<string>(AUTH_METHODS);
const CERTIFICATE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Reads a principal back from the context API Gateway hands the integration (every value a string). With the
 * deployment's catalog, only its declared scopes are kept (in canonical order); without one (a team's own function,
 * which may not know every scope), every well-formed scope name is.
 */
export function principalFromContext(context: Record<string, unknown> | null | undefined, catalog?: ScopeCatalog): Principal | undefined {
  if (!context) return undefined;
  const { principalId, authMethod, tenant, scopes, keyId, admin, plan, certificate } = context;
  // An empty tenant or principal would be one shared namespace for everyone who has none: refuse it.
  if (typeof principalId !== 'string' || typeof tenant !== 'string' || typeof authMethod !== 'string') return undefined;
  if (principalId === '' || tenant === '') return undefined;
  // Defence in depth: the authorizer only ever puts a checked tenant here (tenant.ts). A tenant out of bounds or
  // with invisible characters could only come from a record written before that check, or from a misconfigured
  // integration; refusing it (401) beats failing at the first write with a key too large for DynamoDB (a 5xx).
  if (tenantProblem(tenant) !== undefined) return undefined;
  if (!AUTH_METHOD_SET.has(authMethod)) return undefined;
  const scopeList = typeof scopes === 'string' ? scopes.split(' ').filter(isScopeName) : [];
  return {
    principalId,
    authMethod: authMethod as AuthMethod,
    tenant,
    scopes: catalog ? catalog.sort(scopeList) : [...new Set(scopeList)],
    admin: admin === 'true' || admin === true,
    ...(typeof keyId === 'string' && keyId !== '' ? { keyId } : {}),
    ...(typeof plan === 'string' && isPlanName(plan) ? { plan } : {}),
    ...(typeof certificate === 'string' && CERTIFICATE_NAME.test(certificate) ? { certificate } : {}),
  };
}

export function isAdminGroupMember(groups: readonly string[]): boolean {
  return groups.includes(ADMIN_GROUP);
}
