/**
 * Tenant identifiers: the one place that decides what string may name a tenant.
 *
 * A tenant comes from a token's claims (a tenant claim, a `sub`, a client id — text an issuer's users may partly
 * choose), from a key record (its creator's tenant), or from the authorizer's context (the handlers read it back).
 * It becomes part of DynamoDB partition keys (`TENANT#<tenant>#ITEMS`, `…#KEYS`, `…#AUDIT`, `USAGE#<tenant>`) and
 * of audit page tokens. So:
 *
 * - Look-alikes must not reach a reserved name: a claim is NFKC-normalised first (`ａｄｍｉｎ` is `admin`) and reserved
 *   names are compared case-insensitively after that (`Admin` is `admin`).
 * - Invisible or control characters make two tenants that print alike (`admin` and `admin\u200b`): any control,
 *   format (zero-width, bidi), surrogate, private-use, line/paragraph separator or default-ignorable character is
 *   refused, and so is leading or trailing whitespace (a whitespace-only tenant has both).
 * - Length is bounded at {@link MAX_TENANT_BYTES} UTF-8 bytes for the whole tenant, issuer prefix included. DynamoDB
 *   allows 2048 bytes in a partition key and 1024 in a sort key; tenants only appear in partition keys, with at most
 *   a few bytes of fixed text around them, so 256 leaves ample room and keeps page tokens and audit events small.
 *   (A 2 KB claim used to pass here and fail at the first write with a 5xx.)
 */

/** The longest tenant, in UTF-8 bytes, issuer prefix included. */
export const MAX_TENANT_BYTES = 256;

/**
 * An issuer's tenant prefix may take at most half of {@link MAX_TENANT_BYTES}, so that every issuer leaves its
 * users at least 128 bytes for the tenant itself.
 */
export const MAX_TENANT_PREFIX_BYTES = 128;

/**
 * Names Gatehouse itself gives tenants: `admin` (the bootstrap key's), `anonymous` (the anonymous principal's),
 * `_system` (unattributed audit events), `public` and `iam` (callers of public and IAM routes). No token may land in
 * one of them, whatever its case or compatibility form.
 */
export const RESERVED_TENANTS: readonly string[] = ['admin', 'anonymous', '_system', 'public', 'iam'];
const RESERVED: ReadonlySet<string> = new Set(RESERVED_TENANTS);

export type TenantProblem = 'empty' | 'too_long' | 'invisible_or_control_character' | 'surrounding_whitespace';

export type TenantCheck = { readonly ok: true; readonly tenant: string } | { readonly ok: false; readonly problem: TenantProblem };

// Cc control, Cf format (zero-width space/joiners, bidi controls, BOM…), Cs lone surrogates, Co private use,
// Zl/Zp line and paragraph separators, and the default-ignorables that are none of those (e.g. U+034F, U+115F,
// U+3164 Hangul fillers, variation selectors): characters that render as nothing or reorder what is around them.
const INVISIBLE_OR_CONTROL = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
const SURROUNDING_WHITESPACE = /^\s|\s$/u;

/** Why `tenant`, taken as it is (no normalisation), cannot be a tenant; undefined when it can. */
export function tenantProblem(tenant: string): TenantProblem | undefined {
  if (tenant === '') return 'empty';
  // Cheap bound first: a UTF-16 code unit is at most 3 UTF-8 bytes, and a claim may be megabytes.
  if (tenant.length > MAX_TENANT_BYTES || Buffer.byteLength(tenant, 'utf8') > MAX_TENANT_BYTES) return 'too_long';
  if (INVISIBLE_OR_CONTROL.test(tenant)) return 'invisible_or_control_character';
  if (SURROUNDING_WHITESPACE.test(tenant)) return 'surrounding_whitespace';
  return undefined;
}

/**
 * The tenant a claim value names: `prefix` (an issuer's namespace, already checked at configuration time) followed
 * by the NFKC form of `raw`, checked as a whole. Reserved names are not refused here (see {@link isReservedTenant}):
 * the anonymous principal and the bootstrap key legitimately hold them.
 */
export function normaliseTenant(raw: string, prefix = ''): TenantCheck {
  // Bound before normalising: NFKC of a huge string is work an attacker should not be able to ask for.
  if (raw.length > MAX_TENANT_BYTES) return { ok: false, problem: 'too_long' };
  const tenant = prefix + raw.normalize('NFKC');
  const problem = tenantProblem(tenant);
  return problem === undefined ? { ok: true, tenant } : { ok: false, problem };
}

/** Whether `tenant` is one of {@link RESERVED_TENANTS}, compared after NFKC and case folding. */
export function isReservedTenant(tenant: string): boolean {
  return RESERVED.has(tenant.normalize('NFKC').toLowerCase());
}
