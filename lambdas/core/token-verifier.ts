/**
 * Verifies JWTs from the Cognito user pool and from any configured OIDC issuer with aws-jwt-verify, and maps
 * their claims to a {@link Principal} (CONTRACT §2). The verifier is chosen by the token's `iss`; a token from an
 * issuer that is not configured is refused before any key is fetched. aws-jwt-verify accepts only asymmetric
 * algorithms (RS*, ES*, EdDSA), so `alg: none` and HS256-with-the-public-key are refused by construction.
 */
import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache, type JwksCache } from 'aws-jwt-verify/jwk';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import type { JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import {
  FetchError,
  JwksNotAvailableInCacheError,
  JwksValidationError,
  JwtExpiredError,
  JwtParseError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { ConfigError, DependencyError } from './errors.js';
import { JwksFetchError, JwksRefetchGate } from './jwks-fetcher.js';
import type { PlanCatalog } from './plans.js';
import { isAdminGroupMember, type Principal } from './principal.js';
import type { Scope, ScopeCatalog } from './scopes.js';
import { isReservedTenant, MAX_TENANT_PREFIX_BYTES, normaliseTenant, tenantProblem } from './tenant.js';

export type TokenUse = 'access' | 'id';

export interface CognitoIssuerConfig {
  readonly userPoolId: string;
  /** App client ids whose tokens are accepted. */
  readonly clientIds: readonly string[];
  /** null accepts both. */
  readonly tokenUse: TokenUse | null;
  /** The resource server whose scopes are Gatehouse's (`<id>/<scope>`); default {@link DEFAULT_RESOURCE_SERVER_ID}. */
  readonly resourceServerId?: string | undefined;
}

/** The resource server identifier the identity stack creates (infra/identity-stack.ts RESOURCE_SERVER_ID). */
export const DEFAULT_RESOURCE_SERVER_ID = 'gatehouse';

/** A generic OIDC issuer. Cognito-shaped claims (token_use, client_id, cognito:groups) are understood too. */
export interface OidcIssuerConfig {
  readonly issuer: string;
  readonly jwksUri: string;
  /** Accepted `aud` values; null skips the check (Cognito-style access tokens carry no aud: then set clientIds). */
  readonly audience: readonly string[] | null;
  /** Accepted `client_id` (or `azp`) values; null skips the check. */
  readonly clientIds: readonly string[] | null;
  readonly tokenUse: TokenUse | null;
  readonly scopeClaim: string;
  readonly groupsClaim: string;
  readonly tenantClaim: string;
  /**
   * Namespace for this issuer's tenants. Two issuers may both have a user `1001`; they must not share a tenant.
   * When Gatehouse trusts more than one token source, every generic issuer's tenants are prefixed (by default with
   * the issuer's host and path); the Cognito pool's stay bare, as CONTRACT §2 names them.
   */
  readonly tenantPrefix?: string;
  /**
   * Token scopes count as Gatehouse scopes only as `<scopePrefix><scope>` (e.g. `gatehouse/` for an issuer shaped
   * like Cognito). Absent: bare scopes only. Another API's `<prefix>/keys:write` is never Gatehouse's `keys:write`.
   */
  readonly scopePrefix?: string | undefined;
}

export const DEFAULT_CLAIMS = { scopeClaim: 'scope', groupsClaim: 'cognito:groups', tenantClaim: 'custom:tenant' } as const;

export type TokenRefusal = 'malformed' | 'unknown_issuer' | 'invalid_token' | 'expired' | 'no_subject' | 'bad_tenant' | 'reserved_tenant';

export type TokenVerification =
  | { readonly ok: true; readonly principal: Principal; readonly expiresAtMs: number }
  | { readonly ok: false; readonly reason: TokenRefusal };

type ClaimNames = Pick<OidcIssuerConfig, 'scopeClaim' | 'groupsClaim' | 'tenantClaim'> & {
  /** The deployment's scopes: which names count, and what groups grant. */
  readonly catalog: ScopeCatalog;
  readonly tenantPrefix?: string;
  /** '' (or absent): bare scopes only. */
  readonly scopePrefix?: string | undefined;
  /** The deployment's plans: which one a token is on, by client id or group (plans.ts). */
  readonly plans?: PlanCatalog | undefined;
};

interface IssuerEntry {
  /** Synchronous when the JWKS is cached (the warm path); async only to fetch keys. */
  readonly verifySync: (token: string) => JwtPayload;
  readonly verify: (token: string) => Promise<JwtPayload>;
  readonly claims: ClaimNames;
}

export interface TokenVerifierOptions {
  /** The deployment's scopes. */
  readonly scopes: ScopeCatalog;
  /** The deployment's plans (default: none, every principal unlimited). */
  readonly plans?: PlanCatalog;
  readonly cognito?: CognitoIssuerConfig;
  readonly issuers: readonly OidcIssuerConfig[];
  readonly fetcher: Fetcher;
  /** A JWKS cache of the caller's (tests, benchmarks); by default one over `fetcher`, gated by JwksRefetchGate. */
  readonly jwksCache?: JwksCache;
  /** Clock of the JWKS refetch gate (tests). */
  readonly now?: () => number;
}

export class TokenVerifier {
  private readonly byIssuer = new Map<string, IssuerEntry>();
  readonly jwksCache: JwksCache;

  constructor(options: TokenVerifierOptions) {
    this.jwksCache =
      options.jwksCache ??
      new SimpleJwksCache({ fetcher: options.fetcher, penaltyBox: new JwksRefetchGate(options.now ? { now: options.now } : {}) });
    const jwksCache = this.jwksCache;
    if (options.cognito) {
      const c = options.cognito;
      const verifier = CognitoJwtVerifier.create(
        { userPoolId: c.userPoolId, clientId: [...c.clientIds], tokenUse: c.tokenUse, customJwtCheck: checkHeaderAndTimes },
        { jwksCache },
      );
      const { issuer } = CognitoJwtVerifier.parseUserPoolId(c.userPoolId);
      const claims: ClaimNames = { ...DEFAULT_CLAIMS, catalog: options.scopes, plans: options.plans, scopePrefix: `${c.resourceServerId ?? DEFAULT_RESOURCE_SERVER_ID}/` };
      this.byIssuer.set(issuer, { verifySync: (t) => verifier.verifySync(t), verify: (t) => verifier.verify(t), claims });
    }
    for (const cfg of options.issuers) {
      const verifier = JwtVerifier.create(
        {
          issuer: cfg.issuer,
          jwksUri: cfg.jwksUri,
          audience: cfg.audience === null ? null : [...cfg.audience],
          customJwtCheck: (props) => {
            checkHeaderAndTimes(props);
            checkCognitoShapedClaims(props.payload, cfg);
          },
        },
        { jwksCache },
      );
      const sources = (options.cognito ? 1 : 0) + options.issuers.length;
      const tenantPrefix = cfg.tenantPrefix ?? (sources > 1 ? defaultTenantPrefix(cfg.issuer) : undefined);
      if (tenantPrefix !== undefined) assertUsableTenantPrefix(cfg.issuer, tenantPrefix);
      this.byIssuer.set(cfg.issuer, {
        verifySync: (t) => verifier.verifySync(t),
        verify: (t) => verifier.verify(t),
        claims: { ...cfg, catalog: options.scopes, plans: options.plans, ...(tenantPrefix === undefined ? {} : { tenantPrefix }) },
      });
    }
  }

  get issuerCount(): number {
    return this.byIssuer.size;
  }

  /**
   * Refusals are answers; dependency failures (JWKS unreachable) throw DependencyError so that the caller
   * denies without treating the request as merely unauthenticated (audit mode must not wave it through).
   */
  async verify(token: string): Promise<TokenVerification> {
    let iss: unknown;
    try {
      iss = unverifiedIssuer(token);
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    const entry = typeof iss === 'string' ? this.byIssuer.get(iss) : undefined;
    // Refusals keep their reasons as if the token had been decomposed in full first: malformed before unknown issuer.
    if (!entry) return { ok: false, reason: isDecomposable(token) ? 'unknown_issuer' : 'malformed' };
    // base64url has one spelling per byte string; another spelling of the same signature is a forged token
    // string (a replay under a new cache key), so only the canonical one is accepted.
    if (!hasCanonicalSignature(token)) return { ok: false, reason: 'malformed' };
    let payload: JwtPayload;
    try {
      const verified = verifyWarmFirst(entry, token);
      payload = verified instanceof Promise ? await verified : verified;
    } catch (error) {
      // Only a JWKS that could not be had is a dependency failure. A kid missing from a JWKS that was fetched is a
      // refused token, including aws-jwt-verify's WaitPeriodNotYetEndedJwkError (from a caller-supplied cache with
      // its SimplePenaltyBox): that box engages only after a fetch that succeeded and lacked the kid.
      if (isDependencyFailure(error)) throw new DependencyError('jwks', error);
      // aws-jwt-verify decomposes (and throws JwtParseError) before it looks at keys or claims.
      if (error instanceof JwtParseError) return { ok: false, reason: 'malformed' };
      if (error instanceof JwtExpiredError) return { ok: false, reason: 'expired' };
      return { ok: false, reason: 'invalid_token' };
    }
    const mapped = mapClaims(payload, entry.claims);
    if (!mapped.ok) return mapped;
    return { ok: true, principal: mapped.principal, expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : 0 };
  }
}

/**
 * The unverified `iss`, only to pick the verifier. aws-jwt-verify decomposes the token again, with its
 * prototype-pollution-safe parser, and checks `iss` against the chosen issuer's configuration, so this read can be
 * cheap: one base64 decode and a plain JSON.parse (~1.5 µs), from which one string is read and nothing is kept.
 * Decomposing here with `decomposeUnverifiedJwt` as well doubled that parser's cost (JSON.parse with a reviver,
 * ~7 µs per token; a CPU profile of a cache-miss decision put the two decompositions at a quarter of it).
 * Throws exactly when the payload segment is not JSON; every such token also fails `decomposeUnverifiedJwt`.
 */
function unverifiedIssuer(token: string): unknown {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 0 || second < 0) throw new JwtParseError('JWT string does not consist of three parts');
  const payload: unknown = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64').toString('utf8'));
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as { iss?: unknown }).iss : undefined;
}

/** Whether aws-jwt-verify can decompose the token (cold path: refusals of unknown issuers only). */
function isDecomposable(token: string): boolean {
  try {
    decomposeUnverifiedJwt(token);
    return true;
  } catch {
    return false;
  }
}

/**
 * aws-jwt-verify's async verify costs ~2.5× its sync path even with the JWKS cached; try sync first and go
 * async only when keys must be fetched (cold cache or a new kid after a key rotation). Not itself async, so the
 * warm path awaits nothing.
 */
function verifyWarmFirst(entry: IssuerEntry, token: string): JwtPayload | Promise<JwtPayload> {
  try {
    return entry.verifySync(token);
  } catch (error) {
    if (error instanceof JwksNotAvailableInCacheError || error instanceof KidNotFoundInJwksError) return entry.verify(token);
    throw error;
  }
}

function isDependencyFailure(error: unknown): boolean {
  return error instanceof FetchError || error instanceof JwksFetchError || error instanceof JwksValidationError;
}

class ClaimCheckError extends Error {}

/** Leeway for issuers' clocks on `iat`, as on `exp`/`nbf` elsewhere. */
const IAT_LEEWAY_SECONDS = 300;

/**
 * Checks aws-jwt-verify leaves to the caller: Gatehouse understands no JWS extension, so any `crit` header is
 * refused (RFC 7515 §4.1.11); a token without `exp` would be valid forever; one issued in the future is not a
 * token the issuer has issued yet.
 */
function checkHeaderAndTimes({ header, payload }: { header: JwtHeader; payload: JwtPayload }): void {
  if ('crit' in header) throw new ClaimCheckError('crit');
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) throw new ClaimCheckError('exp');
  if (payload.iat !== undefined && (typeof payload.iat !== 'number' || payload.iat > Date.now() / 1000 + IAT_LEEWAY_SECONDS)) {
    throw new ClaimCheckError('iat');
  }
}

function hasCanonicalSignature(token: string): boolean {
  const signature = token.slice(token.lastIndexOf('.') + 1);
  return Buffer.from(signature, 'base64url').toString('base64url') === signature;
}

/**
 * An issuer's tenant prefix (configured, or derived from its URL) must leave room for tenants and must not itself
 * hold what tenant.ts refuses: checked once, at cold start, so that a bad one fails loudly instead of refusing every
 * token of that issuer.
 */
function assertUsableTenantPrefix(issuer: string, prefix: string): void {
  if (Buffer.byteLength(prefix, 'utf8') > MAX_TENANT_PREFIX_BYTES || prefix !== prefix.normalize('NFKC') || tenantProblem(prefix) !== undefined) {
    throw new ConfigError(
      'GATEHOUSE_OIDC_ISSUERS',
      `a tenantPrefix for ${issuer} of at most ${MAX_TENANT_PREFIX_BYTES} UTF-8 bytes in NFKC form, with no invisible or control characters and no surrounding whitespace (set tenantPrefix when the issuer URL is longer)`,
    );
  }
}

/** `issuer.example.com/tenants|` for `https://issuer.example.com/tenants/`. */
export function defaultTenantPrefix(issuer: string): string {
  try {
    const url = new URL(issuer);
    return `${url.host}${url.pathname.replace(/\/+$/, '')}|`;
  } catch {
    return `${issuer}|`;
  }
}

/** Cognito-style checks for generic issuers: token_use and client_id (or azp). */
function checkCognitoShapedClaims(payload: JwtPayload, cfg: OidcIssuerConfig): void {
  if (cfg.tokenUse !== null && payload.token_use !== cfg.tokenUse) throw new ClaimCheckError('token_use');
  if (cfg.clientIds !== null) {
    // Access tokens name the client in client_id (Cognito) or azp (OIDC); ID tokens in aud.
    const candidates = [payload.client_id, payload.azp, ...(Array.isArray(payload.aud) ? payload.aud : [payload.aud])];
    if (!candidates.some((c) => typeof c === 'string' && cfg.clientIds!.includes(c))) throw new ClaimCheckError('client');
  }
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export type ClaimsMapping =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: 'no_subject' | 'bad_tenant' | 'reserved_tenant' };

/**
 * Claims → principal.
 * - A person (the token carries a username, groups, or is an ID token) holds the scopes of their groups; when
 *   the token also names Gatehouse scopes, those narrow the set further (an OAuth client may ask for less).
 *   Group membership is the ceiling: token scopes never add to it. No group → no scopes (whoami still works).
 * - A machine (client credentials: no username, no groups) holds exactly its resource-server scopes.
 * - Only `<scopePrefix><scope>` counts as a Gatehouse scope (scopes.ts).
 * - Tenant: the tenant claim when present, else the person's `sub` or the machine's client id; NFKC-normalised,
 *   bounded and free of invisible characters (tenant.ts), behind the issuer's prefix, and never a reserved name.
 */
export function mapClaims(payload: JwtPayload, claims: ClaimNames): ClaimsMapping {
  const sub = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined;
  if (!sub) return { ok: false, reason: 'no_subject' };
  const groups = stringList(payload[claims.groupsClaim]);
  const tokenScopes = claims.catalog.fromToken(stringList(payload[claims.scopeClaim]), claims.scopePrefix ?? '');
  // The first non-empty of client_id and azp: an empty string must never become a (shared, empty) tenant.
  const clientId = [payload.client_id, payload.azp].find((c): c is string => typeof c === 'string' && c !== '');
  const isPerson =
    groups.length > 0 ||
    payload.token_use === 'id' ||
    typeof payload.username === 'string' ||
    typeof payload['cognito:username'] === 'string';
  let scopes: Scope[];
  if (isPerson) {
    const ceiling = claims.catalog.forGroups(groups);
    scopes = tokenScopes.length > 0 ? ceiling.filter((s) => tokenScopes.includes(s)) : ceiling;
  } else {
    scopes = tokenScopes;
  }
  const tenantClaim = payload[claims.tenantClaim];
  const bare = typeof tenantClaim === 'string' && tenantClaim !== '' ? tenantClaim : isPerson ? sub : (clientId ?? sub);
  const tenant = normaliseTenant(bare, claims.tenantPrefix);
  if (!tenant.ok) return { ok: false, reason: 'bad_tenant' };
  if (isReservedTenant(tenant.tenant)) return { ok: false, reason: 'reserved_tenant' };
  const principal: Principal = { principalId: sub, authMethod: 'jwt', tenant: tenant.tenant, scopes, admin: isPerson && isAdminGroupMember(groups) };
  return { ok: true, principal: claims.plans ? { ...principal, plan: claims.plans.forToken(clientId, groups) } : principal };
}

/** {@link mapClaims}, for callers that only need the principal (undefined when the claims yield none). */
export function principalFromClaims(payload: JwtPayload, claims: ClaimNames): Principal | undefined {
  const mapped = mapClaims(payload, claims);
  return mapped.ok ? mapped.principal : undefined;
}
