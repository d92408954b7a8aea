/**
 * Scopes and how principals come to hold them (CONTRACT §2).
 * Pure functions only: no I/O, no configuration reads.
 */

export const ALL_SCOPES = [
  'keys:read',
  'keys:write',
  'items:read',
  'items:write',
  'usage:read',
  'audit:read',
] as const;

export type Scope = (typeof ALL_SCOPES)[number];

const SCOPE_SET: ReadonlySet<string> = new Set(ALL_SCOPES);

export function isScope(value: string): value is Scope {
  return SCOPE_SET.has(value);
}

/** Groups that grant scopes. `admins` also grants cross-tenant audit reads (see {@link isAdminGroupMember}). */
export const GROUP_SCOPES: Readonly<Record<string, readonly Scope[]>> = {
  admins: ALL_SCOPES,
  users: ALL_SCOPES.filter((s) => s !== 'audit:read'),
};

export const ADMIN_GROUP = 'admins';

/**
 * Turns a token's raw scope strings into Gatehouse scopes. A Cognito resource-server scope
 * `<resource-server-id>/<scope>` counts as `<scope>`; OIDC scopes such as `openid` that are not
 * Gatehouse scopes are dropped, never an error.
 */
export function scopesFromTokenScopes(raw: readonly string[]): Scope[] {
  const out = new Set<Scope>();
  for (const item of raw) {
    const slash = item.lastIndexOf('/');
    const name = slash === -1 ? item : item.slice(slash + 1);
    if (isScope(name)) out.add(name);
  }
  return sortScopes(out);
}

export function scopesFromGroups(groups: readonly string[]): Scope[] {
  const out = new Set<Scope>();
  for (const group of groups) {
    for (const scope of GROUP_SCOPES[group] ?? []) out.add(scope);
  }
  return sortScopes(out);
}

/** Canonical order (the order of {@link ALL_SCOPES}) so that equal sets print and compare equally. */
export function sortScopes(scopes: Iterable<Scope>): Scope[] {
  const held = new Set(scopes);
  return ALL_SCOPES.filter((s) => held.has(s));
}

export function isSubset(wanted: readonly Scope[], held: readonly Scope[]): boolean {
  const h = new Set(held);
  return wanted.every((s) => h.has(s));
}
