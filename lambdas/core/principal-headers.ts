/**
 * How the principal reaches a team's HTTP service behind Gatehouse (an HTTP integration): request headers that the
 * gateway sets from the authorizer's context — in AWS by request parameter mappings
 * (`integration.request.header.X-Gatehouse-Tenant` ← `context.authorizer.tenant`), locally by the local gateway.
 * A client's own header of the same name never reaches the service: the gateway overwrites (AWS) or removes
 * (local) it. The service must therefore be reachable only through the gateway.
 */
import type { Principal } from './principal.js';

/** Header name → authorizer context key (principal.ts principalToContext). */
export const PRINCIPAL_HEADERS = {
  'X-Gatehouse-Principal-Id': 'principalId',
  'X-Gatehouse-Auth-Method': 'authMethod',
  'X-Gatehouse-Tenant': 'tenant',
  'X-Gatehouse-Scopes': 'scopes',
  'X-Gatehouse-Key-Id': 'keyId',
  'X-Gatehouse-Admin': 'admin',
} as const;

export const PRINCIPAL_HEADER_PREFIX = 'x-gatehouse-';

/**
 * The credential the gateway itself checked on token and IAM routes (a Gatehouse key or token, a SigV4 signature).
 * It was for Gatehouse: the service gets the principal instead, and never the caller's key, which it could replay.
 * Blanked on those routes, in AWS (request parameter mappings) and locally alike; on public routes nothing was
 * checked and whatever the client sends is the service's to read.
 */
export const GATEHOUSE_CREDENTIAL_HEADERS: readonly string[] = ['Authorization', 'X-API-Key', 'X-Amz-Date', 'X-Amz-Security-Token', 'X-Amz-Content-Sha256'];

/**
 * On routes without the authorizer (public, IAM) there is no principal, yet a client could send these headers: AWS
 * cannot remove a header from an HTTP integration request, so every one is mapped to an empty value instead, and the
 * local gateway does the same. A service reads "absent or empty" as "no principal".
 */
export const NO_PRINCIPAL_HEADERS: Readonly<Record<string, string>> = Object.fromEntries(Object.keys(PRINCIPAL_HEADERS).map((h) => [h, '']));

/** The headers for a principal, as the gateway sends them (keyId empty for non-key principals). */
export function principalHeaders(principal: Principal): Record<string, string> {
  return {
    'X-Gatehouse-Principal-Id': principal.principalId,
    'X-Gatehouse-Auth-Method': principal.authMethod,
    'X-Gatehouse-Tenant': principal.tenant,
    'X-Gatehouse-Scopes': principal.scopes.join(' '),
    'X-Gatehouse-Key-Id': principal.keyId ?? '',
    'X-Gatehouse-Admin': String(principal.admin),
  };
}
