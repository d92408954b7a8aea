/**
 * Verifies JWTs from the Cognito user pool and from any configured OIDC issuer with aws-jwt-verify, and maps
 * their claims to a {@link Principal} (CONTRACT §2). The verifier is chosen by the token's `iss`; a token from an
 * issuer that is not configured is refused before any key is fetched. aws-jwt-verify accepts only asymmetric
 * algorithms (RS*, ES*, EdDSA), so `alg: none` and HS256-with-the-public-key are refused by construction.
 */
import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache, type JwksCache } from 'aws-jwt-verify/jwk';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import {
  FetchError,
  JwksNotAvailableInCacheError,
  JwksValidationError,
  JwtExpiredError,
  KidNotFoundInJwksError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { DependencyError } from './errors.js';
import { JwksFetchError } from './jwks-fetcher.js';
import { isAdminGroupMember, type Principal } from './principal.js';
import { scopesFromGroups, scopesFromTokenScopes, sortScopes, type Scope } from './scopes.js';

export type TokenUse = 'access' | 'id';

export interface CognitoIssuerConfig {
  readonly userPoolId: string;
  /** App client ids whose tokens are accepted. */
  readonly clientIds: readonly string[];
  /** null accepts both. */
  readonly tokenUse: TokenUse | null;
}

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
}

export const DEFAULT_CLAIMS = { scopeClaim: 'scope', groupsClaim: 'cognito:groups', tenantClaim: 'custom:tenant' } as const;

export type TokenRefusal = 'malformed' | 'unknown_issuer' | 'invalid_token' | 'expired' | 'no_subject';

export type TokenVerification =
  | { readonly ok: true; readonly principal: Principal; readonly expiresAtMs: number }
  | { readonly ok: false; readonly reason: TokenRefusal };

interface IssuerEntry {
  /** Synchronous when the JWKS is cached (the warm path); async only to fetch keys. */
  readonly verifySync: (token: string) => JwtPayload;
  readonly verify: (token: string) => Promise<JwtPayload>;
  readonly claims: Pick<OidcIssuerConfig, 'scopeClaim' | 'groupsClaim' | 'tenantClaim'>;
}

export interface TokenVerifierOptions {
  readonly cognito?: CognitoIssuerConfig;
  readonly issuers: readonly OidcIssuerConfig[];
  readonly fetcher: Fetcher;
  /** Supplied by the AWS deployment to read mirrored JWKS from the store; defaults to fetching. */
  readonly jwksCache?: JwksCache;
}

export class TokenVerifier {
  private readonly byIssuer = new Map<string, IssuerEntry>();
  readonly jwksCache: JwksCache;

  constructor(options: TokenVerifierOptions) {
    this.jwksCache = options.jwksCache ?? new SimpleJwksCache({ fetcher: options.fetcher });
    const jwksCache = this.jwksCache;
    if (options.cognito) {
      const c = options.cognito;
      const verifier = CognitoJwtVerifier.create(
        { userPoolId: c.userPoolId, clientId: [...c.clientIds], tokenUse: c.tokenUse },
        { jwksCache },
      );
      const { issuer } = CognitoJwtVerifier.parseUserPoolId(c.userPoolId);
      this.byIssuer.set(issuer, { verifySync: (t) => verifier.verifySync(t), verify: (t) => verifier.verify(t), claims: DEFAULT_CLAIMS });
    }
    for (const cfg of options.issuers) {
      const verifier = JwtVerifier.create(
        {
          issuer: cfg.issuer,
          jwksUri: cfg.jwksUri,
          audience: cfg.audience === null ? null : [...cfg.audience],
          customJwtCheck: ({ payload }) => checkCognitoShapedClaims(payload, cfg),
        },
        { jwksCache },
      );
      this.byIssuer.set(cfg.issuer, { verifySync: (t) => verifier.verifySync(t), verify: (t) => verifier.verify(t), claims: cfg });
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
      iss = decomposeUnverifiedJwt(token).payload.iss;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    const entry = typeof iss === 'string' ? this.byIssuer.get(iss) : undefined;
    if (!entry) return { ok: false, reason: 'unknown_issuer' };
    let payload: JwtPayload;
    try {
      payload = await verifyWarmFirst(entry, token);
    } catch (error) {
      if (isDependencyFailure(error)) throw new DependencyError('jwks', error);
      if (error instanceof JwtExpiredError) return { ok: false, reason: 'expired' };
      return { ok: false, reason: 'invalid_token' };
    }
    const principal = principalFromClaims(payload, entry.claims);
    if (!principal) return { ok: false, reason: 'no_subject' };
    return { ok: true, principal, expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : 0 };
  }
}

/**
 * aws-jwt-verify's async verify costs ~2.5× its sync path even with the JWKS cached; try sync first and go
 * async only when keys must be fetched (cold cache or a new kid after a key rotation).
 */
async function verifyWarmFirst(entry: IssuerEntry, token: string): Promise<JwtPayload> {
  try {
    return entry.verifySync(token);
  } catch (error) {
    if (error instanceof JwksNotAvailableInCacheError || error instanceof KidNotFoundInJwksError) return entry.verify(token);
    throw error;
  }
}

function isDependencyFailure(error: unknown): boolean {
  return (
    error instanceof FetchError ||
    error instanceof JwksFetchError ||
    error instanceof JwksValidationError ||
    error instanceof WaitPeriodNotYetEndedJwkError
  );
}

class ClaimCheckError extends Error {}

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

/**
 * Claims → principal.
 * - A person (the token carries a username, groups, or is an ID token) holds the scopes of their groups; when
 *   the token also names Gatehouse scopes, those narrow the set further (an OAuth client may ask for less).
 *   Group membership is the ceiling: token scopes never add to it. No group → no scopes (whoami still works).
 * - A machine (client credentials: no username, no groups) holds exactly its resource-server scopes.
 * - Tenant: the tenant claim when present, else the person's `sub` or the machine's client id.
 */
export function principalFromClaims(
  payload: JwtPayload,
  claims: Pick<OidcIssuerConfig, 'scopeClaim' | 'groupsClaim' | 'tenantClaim'>,
): Principal | undefined {
  const sub = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined;
  if (!sub) return undefined;
  const groups = stringList(payload[claims.groupsClaim]);
  const tokenScopes = scopesFromTokenScopes(stringList(payload[claims.scopeClaim]));
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : undefined;
  const isPerson =
    groups.length > 0 ||
    payload.token_use === 'id' ||
    typeof payload.username === 'string' ||
    typeof payload['cognito:username'] === 'string';
  let scopes: Scope[];
  if (isPerson) {
    const ceiling = scopesFromGroups(groups);
    scopes = tokenScopes.length > 0 ? sortScopes(ceiling.filter((s) => tokenScopes.includes(s))) : ceiling;
  } else {
    scopes = tokenScopes;
  }
  const tenantClaim = payload[claims.tenantClaim];
  const tenant = typeof tenantClaim === 'string' && tenantClaim !== '' ? tenantClaim : isPerson ? sub : (clientId ?? sub);
  return { principalId: sub, authMethod: 'jwt', tenant, scopes, admin: isPerson && isAdminGroupMember(groups) };
}
