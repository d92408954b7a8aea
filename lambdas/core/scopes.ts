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

/**
 * Scopes that read or change credentials. The anonymous principal (audit and off modes) never holds them, whatever
 * the configuration says: an unauthenticated caller who could list keys or mint one would turn a migration aid into
 * a way in that outlives the migration.
 */
export const CREDENTIAL_SCOPES: readonly Scope[] = ['keys:read', 'keys:write'];

export function isCredentialScope(scope: Scope): boolean {
  return CREDENTIAL_SCOPES.includes(scope);
}

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
 * Turns a token's raw scope strings into Gatehouse scopes. Only `<prefix><scope>` counts, for exactly the prefix the
 * issuer is configured with: `gatehouse/` for the Cognito pool's resource server, none (bare scopes) for a generic
 * OIDC issuer unless its `scopePrefix` says otherwise. A scope of another API (`otherapi/keys:write`) is another
 * API's permission, not Gatehouse's, and is dropped like `openid`: never an error, never a Gatehouse scope.
 */
export function scopesFromTokenScopes(raw: readonly string[], prefix: string): Scope[] {
  const out = new Set<Scope>();
  for (const item of raw) {
    if (!item.startsWith(prefix)) continue;
    const name = item.slice(prefix.length);
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
