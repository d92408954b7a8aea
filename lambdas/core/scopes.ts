/**
 * Scopes and how principals come to hold them. Scopes are declared once, with the routes that need them
 * (`lambdas/routes.ts` for Gatehouse's own, a team's app definition for its own); a {@link ScopeCatalog} is the
 * running deployment's view of those declarations, and every rule about scopes asks it.
 * Pure: no I/O, no configuration reads.
 */

/** A scope name such as `keys:read`. Which names exist is the deployment's {@link ScopeCatalog}'s business. */
export type Scope = string;

/** What a scope is, declared once beside the routes that need it. */
export interface ScopeDefinition {
  /** One line for people: shown in OpenAPI, the Cognito resource server and the console. */
  readonly description: string;
  /**
   * The token groups (Cognito `cognito:groups`) whose members hold this scope: a person's ceiling. Declared,
   * never implied: a new scope is held by no group until its declaration names one.
   */
  readonly groups: readonly string[];
  /** Reads or changes credentials (API keys): the anonymous principal never holds it, whatever is configured. */
  readonly credential?: boolean;
  /** Held by the anonymous principal (audit and off modes) unless GATEHOUSE_ANONYMOUS_SCOPES says otherwise. */
  readonly anonymous?: boolean;
}

/** The group whose members are administrators (cross-tenant audit reads), besides the bootstrap admin key. */
export const ADMIN_GROUP = 'admins';

/**
 * Scope names: safe in a space-separated list, in a Cognito resource-server scope and in an IAM-free context
 * value. `keys:read`, `reports.write`, `read:weather` are all fine.
 */
const SCOPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$/;
/** Group names as Cognito allows them, minus white space (they travel space- or comma-separated). */
const GROUP_NAME = /^[\p{L}\p{M}\p{N}_.@+=,-]{1,128}$/u;

export class ScopeDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScopeDefinitionError';
  }
}

export function isScopeName(value: string): boolean {
  return SCOPE_NAME.test(value);
}

/**
 * The scopes of one deployment. Lists come back in declaration order, so equal sets print and compare equally.
 */
export class ScopeCatalog {
  /** Every declared scope, in declaration order. */
  readonly all: readonly Scope[];
  /** Scopes that read or change credentials. */
  readonly credential: readonly Scope[];
  /** What the anonymous principal holds when GATEHOUSE_ANONYMOUS_SCOPES is not set. */
  readonly anonymousDefault: readonly Scope[];
  /** Every group some scope names, in first-declared order. */
  readonly groups: readonly string[];
  private readonly order: ReadonlyMap<Scope, number>;
  private readonly definitions: ReadonlyMap<Scope, ScopeDefinition>;
  private readonly byGroup: ReadonlyMap<string, readonly Scope[]>;

  constructor(definitions: Readonly<Record<Scope, ScopeDefinition>>) {
    const entries = Object.entries(definitions);
    if (entries.length === 0) throw new ScopeDefinitionError('At least one scope must be declared');
    for (const [name, def] of entries) {
      if (!isScopeName(name)) throw new ScopeDefinitionError(`Scope "${name}": use letters, digits and . _ : - (at most 80, starting with a letter or digit)`);
      if (typeof def.description !== 'string' || def.description.trim() === '') throw new ScopeDefinitionError(`Scope ${name} needs a description`);
      for (const group of def.groups) {
        if (!GROUP_NAME.test(group)) throw new ScopeDefinitionError(`Scope ${name}: group "${group}" is not a valid group name`);
      }
      if (def.credential === true && def.anonymous === true) {
        throw new ScopeDefinitionError(`Scope ${name} cannot be both a credential scope and held by anonymous callers`);
      }
    }
    this.all = entries.map(([name]) => name);
    this.order = new Map(this.all.map((name, i) => [name, i]));
    this.definitions = new Map(entries);
    this.credential = entries.filter(([, d]) => d.credential === true).map(([name]) => name);
    this.anonymousDefault = entries.filter(([, d]) => d.anonymous === true).map(([name]) => name);
    const byGroup = new Map<string, Scope[]>();
    for (const [name, def] of entries) for (const group of def.groups) (byGroup.get(group) ?? byGroup.set(group, []).get(group)!).push(name);
    this.byGroup = byGroup;
    this.groups = [...byGroup.keys()];
  }

  has(value: string): boolean {
    return this.order.has(value);
  }

  isCredential(scope: Scope): boolean {
    return this.definitions.get(scope)?.credential === true;
  }

  describe(scope: Scope): string | undefined {
    return this.definitions.get(scope)?.description;
  }

  /** The declared scopes among `scopes`, deduplicated, in declaration order (undeclared names are dropped). */
  sort(scopes: Iterable<string>): Scope[] {
    const held = new Set<string>();
    for (const s of scopes) if (this.order.has(s)) held.add(s);
    return [...held].sort((a, b) => this.order.get(a)! - this.order.get(b)!);
  }

  /** What members of these groups hold. */
  forGroups(groups: readonly string[]): Scope[] {
    const out: Scope[] = [];
    for (const group of groups) out.push(...(this.byGroup.get(group) ?? []));
    return this.sort(out);
  }

  /**
   * A token's raw scope strings as Gatehouse scopes. Only `<prefix><scope>` counts, for exactly the prefix the
   * issuer is configured with: `gatehouse/` for the Cognito pool's resource server, none (bare scopes) for a generic
   * OIDC issuer unless its `scopePrefix` says otherwise. A scope of another API (`otherapi/keys:write`) is another
   * API's permission, not Gatehouse's, and is dropped like `openid`: never an error, never a Gatehouse scope.
   */
  fromToken(raw: readonly string[], prefix: string): Scope[] {
    const names: string[] = [];
    for (const item of raw) if (item.startsWith(prefix)) names.push(item.slice(prefix.length));
    return this.sort(names);
  }
}

export function isSubset(wanted: readonly Scope[], held: readonly Scope[]): boolean {
  const h = new Set(held);
  return wanted.every((s) => h.has(s));
}
