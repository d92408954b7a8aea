/**
 * The authorizer's IAM policy, derived from the route table.
 *
 * API Gateway caches the policy per identity and re-evaluates it against the methodArn of every later
 * request on the stage, so the policy must describe the principal's access to the WHOLE API, not to the
 * route that happened to trigger the authorizer. It must allow exactly the token routes whose scope the
 * principal holds (routes without a scope: any authenticated principal), for every concrete path, and
 * nothing else: public and IAM routes are never the authorizer's to allow.
 *
 * Construction (for held scopes S; A = allowed routes, F = all other routes):
 * - Allow: `glob(R)` for every R in A, where glob replaces each `{param}` with `*`. Its language contains
 *   every concrete path of R, so no allowed path lacks an Allow.
 * - `*` also crosses `/`, so `glob(R1)` may reach paths that API Gateway resolves to another route R'.
 *   For every R' in F reached by some Allow, add Deny `glob(R')`: it covers every path of R', and
 *   explicit Deny wins, so no forbidden path is allowed.
 * - That Deny is harmless unless it also matches a path that resolves to an allowed route R2. The table
 *   check rejects, at module load, any table where some scope set yields such a triple
 *   (R1 allowed, R' forbidden and reached by R1, R2 allowed and hit by R'), so on accepted tables the
 *   policy is exact. "Paths of a route" means those API Gateway resolves to it: a literal segment beats
 *   a `{param}` segment, so `GET /a/me` is not a path of `GET /a/{x}` when both exist. Overlaps are
 *   decided exactly by {@link globTemplateWitness}, which also yields the example paths in errors.
 *
 * The table check is conservative only in insisting on Deny = glob(R'): a rejected table is one where
 * THIS construction fails under some scope set, and the error shows both concrete paths. A cleverer
 * Deny set might rescue a few such tables, but glob(R') is the natural cover of a `{param}` route (e.g.
 * every glob that covers all of `/a/{x}/b` with a `*` for `{x}` also matches `/a/x/c/b`), and
 * renaming a segment is the better fix.
 *
 * Hot path: patterns, reachability and per-scope-set resource lists are computed once per table and
 * scope set; a call parses the methodArn and copies two short arrays. Scope sets are bitmasks over the scopes the
 * table's routes use (BigInt: a team's API may use more than 31).
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { Route } from './api-definition.js';
import { globTemplateWitness, templateToGlob } from './arn-glob.js';
import type { Scope } from './scopes.js';

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

export interface MethodArnParts {
  /** `aws`, `aws-cn`, `aws-us-gov`…: kept so the policy prefix matches the request's own ARN. */
  partition: string;
  region: string;
  accountId: string;
  apiId: string;
  stage: string;
  method: string;
  /** The request's concrete path with its leading `/` (`/` for the root). */
  resourcePath: string;
}

const POLICY_VERSION = '2012-10-17';
const INVOKE = 'execute-api:Invoke';

/*
 * The prefix components are copied into the policy's Resource patterns, so they must not contain `*`,
 * `?`, `/` or `:`; the character sets below exclude them, which keeps "prefix + glob matches prefix +
 * path" equivalent to "glob matches path".
 */
const METHOD_ARN =
  /^arn:(aws[a-z-]*):execute-api:([a-z0-9-]+):([A-Za-z0-9_-]+):([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)\/([A-Z]+)(\/[\s\S]*)$/;

export function parseMethodArn(methodArn: string): MethodArnParts {
  const m = METHOD_ARN.exec(methodArn);
  if (m === null) throw new PolicyError('Malformed methodArn: expected arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{path}');
  const [, partition = '', region = '', accountId = '', apiId = '', stage = '', method = '', resourcePath = '/'] = m;
  return { partition, region, accountId, apiId, stage, method, resourcePath };
}

/** `arn:…:{apiId}/{stage}/`: one cached policy covers every method and path of the stage. */
function stagePrefix(p: MethodArnParts): string {
  return `arn:${p.partition}:execute-api:${p.region}:${p.accountId}:${p.apiId}/${p.stage}/`;
}

/** The route key as it appears after the stage prefix in a methodArn, with `{param}` kept: `GET/v1/keys/{keyId}`. */
function routeKey(route: Route): string {
  return route.method + route.path;
}

/** The Resource suffix (after `{apiId}/{stage}/`) covering every concrete path of the route, e.g. `GET/v1/keys/*`. */
export function routeResourcePattern(route: Route): string {
  return templateToGlob(routeKey(route));
}

function describe(route: Route): string {
  const who = route.auth !== 'token' ? `auth ${route.auth}` : route.scope !== undefined ? `scope ${route.scope}` : 'no scope';
  return `${route.method} ${route.path} (${who})`;
}

// ---------------------------------------------------------------------------------------------------
// Route table analysis
// ---------------------------------------------------------------------------------------------------

/** Grants: a route's scope index in its table, or one of these. */
const NEVER = -1;
const ALWAYS = -2;

const METHOD = /^[A-Z]+$/;
const PARAM_SEGMENT = /^\{[A-Za-z_][A-Za-z0-9_]*\}$/;
/** Literal segments: no wildcard (IAM has no escape for them in Resource) and no braces. */
const LITERAL_SEGMENT = /^[^/{}*?]+$/;

function segmentsOf(route: Route): string[] {
  return route.path === '/' ? [''] : route.path.slice(1).split('/');
}

function checkRouteShape(route: Route): void {
  if (!METHOD.test(route.method)) throw new PolicyError(`Route ${describe(route)}: method must be an upper-case HTTP verb`);
  if (route.path === '/') return;
  if (!route.path.startsWith('/')) throw new PolicyError(`Route ${describe(route)}: path must start with /`);
  for (const segment of segmentsOf(route)) {
    if (!PARAM_SEGMENT.test(segment) && !LITERAL_SEGMENT.test(segment)) {
      throw new PolicyError(
        `Route ${describe(route)}: segment "${segment}" must be a literal without * ? { } or a whole {name} (no greedy {proxy+})`,
      );
    }
  }
}

/** Same method, same segment count, a literal everywhere the other has a literal with the same text. */
type Specificity = 'more' | 'less' | 'disjoint' | 'same';

/**
 * How API Gateway picks between two routes that both match a path: at the first segment where one has a
 * literal and the other a parameter, the literal wins. Routes that differ in a literal never share a path.
 */
function compareSpecificity(a: Route, b: Route): Specificity {
  if (a.method !== b.method) return 'disjoint';
  const sa = segmentsOf(a);
  const sb = segmentsOf(b);
  if (sa.length !== sb.length) return 'disjoint';
  for (let i = 0; i < sa.length; i += 1) {
    const x = sa[i] ?? '';
    const y = sb[i] ?? '';
    const px = x.startsWith('{');
    const py = y.startsWith('{');
    if (px && py) continue;
    if (!px && !py) {
      if (x !== y) return 'disjoint';
      continue;
    }
    return px ? 'less' : 'more';
  }
  return 'same';
}

export interface PolicyConflict {
  /** Scopes under which the construction fails. */
  readonly scopes: readonly Scope[];
  /** Allowed route whose Allow pattern reaches {@link forbidden}. */
  readonly allowed: Route;
  /** Concrete `VERB/path` of `forbidden` matched by the Allow of `allowed`. */
  readonly reachedPath: string;
  readonly forbidden: Route;
  /** Allowed route that the Deny for `forbidden` would block. */
  readonly blocked: Route;
  /** Concrete `VERB/path` of `blocked` matched by the Deny of `forbidden`. */
  readonly blockedPath: string;
}

interface CompiledTable {
  readonly routes: readonly Route[];
  readonly patterns: readonly string[];
  /** The scopes the routes use, by index. */
  readonly scopeIndex: ReadonlyMap<Scope, number>;
  /** {@link NEVER} (not a token route), {@link ALWAYS} (token, no scope) or the index of its scope. */
  readonly grant: readonly number[];
  /** reaches[i]: indexes of forbiddable routes some path of which the Allow of route i matches. */
  readonly reaches: readonly (readonly number[])[];
  readonly conflicts: readonly PolicyConflict[];
  /** Resource suffixes per scope bitmask. */
  readonly byMask: Map<bigint, { readonly allow: readonly string[]; readonly deny: readonly string[] }>;
  /** Full Resource ARNs per principal scope list (joined) for the last stage prefix seen (one per Lambda in practice). */
  arnPrefix: string;
  arnsByScopes: Map<string, { readonly allow: readonly string[]; readonly deny: readonly string[] }>;
}

function grantOf(route: Route, scopeIndex: Map<Scope, number>): number {
  if (route.auth !== 'token') return NEVER;
  if (route.scope === undefined) return ALWAYS;
  let index = scopeIndex.get(route.scope);
  if (index === undefined) {
    index = scopeIndex.size;
    scopeIndex.set(route.scope, index);
  }
  return index;
}

/** Some scope set allows both routes of grants a and b while forbidding the route of grant f. */
function canDiffer(f: number, a: number, b: number): boolean {
  if (f === ALWAYS || a === NEVER || b === NEVER) return false;
  if (f === NEVER) return true;
  return a !== f && b !== f;
}

function scopesOfGrants(scopeIndex: ReadonlyMap<Scope, number>, ...grants: number[]): Scope[] {
  return [...scopeIndex].filter(([, i]) => grants.includes(i)).map(([scope]) => scope);
}

function compileTable(routes: readonly Route[]): CompiledTable {
  routes.forEach(checkRouteShape);
  const n = routes.length;
  const keys = routes.map(routeKey);
  const patterns = routes.map(routeResourcePattern);
  const scopeIndex = new Map<Scope, number>();
  const grant = routes.map((r) => grantOf(r, scopeIndex));

  // moreSpecific[i]: templates of routes that take paths away from route i.
  const moreSpecific: string[][] = routes.map(() => []);
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < n; j += 1) {
      if (i === j) continue;
      const a = routes[i] as Route;
      const b = routes[j] as Route;
      const cmp = compareSpecificity(b, a);
      if (cmp === 'same') {
        throw new PolicyError(`Routes ${describe(a)} and ${describe(b)} match the same paths: API Gateway cannot tell them apart`);
      }
      if (cmp === 'more') moreSpecific[i]?.push(keys[j] ?? '');
    }
  }

  // witness(g, t): a concrete path of route t matched by the pattern of route g, or undefined.
  const memo = new Map<number, string | undefined>();
  const witness = (g: number, t: number): string | undefined => {
    const id = g * n + t;
    if (!memo.has(id)) memo.set(id, globTemplateWitness(patterns[g] ?? '', keys[t] ?? '', moreSpecific[t] ?? []));
    return memo.get(id);
  };

  const reaches: number[][] = routes.map(() => []);
  for (let r1 = 0; r1 < n; r1 += 1) {
    for (let f = 0; f < n; f += 1) {
      if (r1 === f || !canDiffer(grant[f] ?? NEVER, grant[r1] ?? NEVER, grant[r1] ?? NEVER)) continue;
      if (witness(r1, f) !== undefined) reaches[r1]?.push(f);
    }
  }

  const conflicts: PolicyConflict[] = [];
  for (let r1 = 0; r1 < n; r1 += 1) {
    for (const f of reaches[r1] ?? []) {
      for (let r2 = 0; r2 < n; r2 += 1) {
        const gf = grant[f] ?? NEVER;
        const g1 = grant[r1] ?? NEVER;
        const g2 = grant[r2] ?? NEVER;
        if (r2 === f || !canDiffer(gf, g1, g2)) continue;
        const blockedPath = witness(f, r2);
        if (blockedPath === undefined) continue;
        conflicts.push({
          scopes: scopesOfGrants(scopeIndex, g1, g2),
          allowed: routes[r1] as Route,
          reachedPath: witness(r1, f) ?? '',
          forbidden: routes[f] as Route,
          blocked: routes[r2] as Route,
          blockedPath,
        });
      }
    }
  }

  return { routes, patterns, scopeIndex, grant, reaches, conflicts, byMask: new Map(), arnPrefix: '', arnsByScopes: new Map() };
}

const compiled = new WeakMap<readonly Route[], CompiledTable>();

function tableFor(routes: readonly Route[]): CompiledTable {
  let table = compiled.get(routes);
  if (table === undefined) {
    table = compileTable(routes);
    compiled.set(routes, table);
  }
  return table;
}

/**
 * Every way the construction fails on this table (empty when it is policy-safe). Throws PolicyError for
 * tables that are malformed (bad path shape, unknown scope, two routes with the same method and shape).
 */
export function routeTableConflicts(routes: readonly Route[]): readonly PolicyConflict[] {
  return tableFor(routes).conflicts;
}

function describeConflict(c: PolicyConflict): string {
  return (
    `with scopes [${c.scopes.join(', ')}], the Allow ${routeResourcePattern(c.allowed)} of ${describe(c.allowed)} ` +
    `reaches ${c.reachedPath} of forbidden ${describe(c.forbidden)}, and the Deny ${routeResourcePattern(c.forbidden)} ` +
    `that must stop it also matches ${c.blockedPath} of allowed ${describe(c.blocked)}`
  );
}

/**
 * Throws PolicyError, naming the routes and example paths, unless {@link buildPolicy} is exact for
 * this table under every scope set.
 */
export function assertRouteTableIsPolicySafe(routes: readonly Route[]): void {
  const table = tableFor(routes);
  const [first] = table.conflicts;
  if (first === undefined) return;
  const more = table.conflicts.length > 1 ? ` (and ${table.conflicts.length - 1} more)` : '';
  throw new PolicyError(`Route table is not policy-safe: ${describeConflict(first)}${more}. Rename a segment or align the scopes.`);
}

// ---------------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------------

/**
 * Scope sets whose policies are kept (per table). Principals' scope lists come in canonical order, so one list is
 * one key; past the bound the cache starts over (a bounded cost, never unbounded memory).
 */
const MAX_CACHED_SCOPE_SETS = 4096;

function suffixesFor(table: CompiledTable, mask: bigint): { readonly allow: readonly string[]; readonly deny: readonly string[] } {
  let entry = table.byMask.get(mask);
  if (entry !== undefined) return entry;
  if (table.byMask.size >= MAX_CACHED_SCOPE_SETS) table.byMask.clear();
  const allowed = table.grant.map((g) => g === ALWAYS || (g >= 0 && ((mask >> BigInt(g)) & 1n) === 1n));
  const allow = new Set<string>();
  const deny = new Set<string>();
  allowed.forEach((isAllowed, r1) => {
    if (!isAllowed) return;
    allow.add(table.patterns[r1] ?? '');
    for (const f of table.reaches[r1] ?? []) if (allowed[f] !== true) deny.add(table.patterns[f] ?? '');
  });
  entry = { allow: [...allow], deny: [...deny] };
  table.byMask.set(mask, entry);
  return entry;
}

/** Scopes the table does not use change nothing, so they are left out of the mask. */
function maskOf(table: CompiledTable, scopes: readonly Scope[]): bigint {
  let mask = 0n;
  for (const scope of scopes) {
    const index = table.scopeIndex.get(scope);
    if (index !== undefined) mask |= 1n << BigInt(index);
  }
  return mask;
}


export function buildPolicy(args: {
  principalId: string;
  methodArn: string;
  scopes: readonly Scope[];
  routes: readonly Route[];
  context: Record<string, string | number | boolean>;
}): APIGatewayAuthorizerResult {
  const table = tableFor(args.routes);
  if (table.conflicts.length > 0) assertRouteTableIsPolicySafe(table.routes);
  const prefix = stagePrefix(parseMethodArn(args.methodArn));
  if (prefix !== table.arnPrefix || table.arnsByScopes.size >= MAX_CACHED_SCOPE_SETS) {
    table.arnPrefix = prefix;
    table.arnsByScopes = new Map();
  }
  const scopesKey = args.scopes.join(' ');
  let arns = table.arnsByScopes.get(scopesKey);
  if (arns === undefined) {
    const { allow, deny } = suffixesFor(table, maskOf(table, args.scopes));
    arns = { allow: allow.map((s) => prefix + s), deny: deny.map((s) => prefix + s) };
    table.arnsByScopes.set(scopesKey, arns);
  }

  // Fresh arrays per call: the cached ones must not be mutable through a returned policy.
  const Statement: APIGatewayAuthorizerResult['policyDocument']['Statement'] = [];
  if (arns.allow.length === 0) {
    Statement.push({ Effect: 'Deny', Action: INVOKE, Resource: [prefix + '*'] });
  } else {
    Statement.push({ Effect: 'Allow', Action: INVOKE, Resource: arns.allow.slice() });
    if (arns.deny.length > 0) Statement.push({ Effect: 'Deny', Action: INVOKE, Resource: arns.deny.slice() });
  }
  return { principalId: args.principalId, policyDocument: { Version: POLICY_VERSION, Statement }, context: { ...args.context } };
}

/**
 * Denies the whole stage. A malformed methodArn (never sent by API Gateway) still yields a deny, of
 * everything, because this is the answer of last resort and must not throw.
 */
export function denyAllPolicy(principalId: string, methodArn: string): APIGatewayAuthorizerResult {
  let resource = '*';
  try {
    resource = stagePrefix(parseMethodArn(methodArn)) + '*';
  } catch {
    // fall back to '*'
  }
  return {
    principalId,
    policyDocument: { Version: POLICY_VERSION, Statement: [{ Effect: 'Deny', Action: INVOKE, Resource: [resource] }] },
  };
}
