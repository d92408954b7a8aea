/**
 * What-if (measured, never used by Gatehouse): aws-jwt-verify's CognitoJwtVerifier.verifySync with the token
 * decomposed once by a reviver-free parser and handed to the verifier's protected `verifyDecomposedJwtSync`.
 * It shows how much of the library's cost is its `safeJsonParse` (a JSON.parse with a reviver), i.e. what the
 * remaining lever in BENCHMARKS.md would buy. It re-implements the library's checks of the decomposed token
 * (shape, header and payload types) and falls back to the library's own decomposition when a
 * `__proto__`/`constructor` key is present.
 */
import { validateCognitoJwtFields } from 'aws-jwt-verify/cognito-verifier';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';

type Decomposed = ReturnType<typeof decomposeUnverifiedJwt>;

interface VerifierInternals {
  getIssuerConfig(issuer?: string | null): Record<string, unknown> & { jwksUri: string };
  verifyDecomposedJwtSync(decomposed: Decomposed, jwksUri: string, properties: Record<string, unknown>): JwtPayload;
}

const JWT_REGEX = /^[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}$/;

function hasForbiddenKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasForbiddenKey);
  if (Object.hasOwn(value, '__proto__') || Object.hasOwn(value, 'constructor')) return true;
  return Object.values(value).some(hasForbiddenKey);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, ok: (v: unknown) => boolean) => v === undefined || ok(v);
const isString = (v: unknown) => typeof v === 'string';

/** The library's decomposition, reviver-free; undefined when the library must decide (and throw) itself. */
function fastDecompose(jwt: string): Decomposed | undefined {
  if (!JWT_REGEX.test(jwt)) return undefined;
  const [headerB64, payloadB64, signatureB64] = jwt.split('.') as [string, string, string];
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(headerB64, 'base64').toString('utf8'));
    payload = JSON.parse(Buffer.from(payloadB64, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(header) || !isObject(payload) || hasForbiddenKey(header) || hasForbiddenKey(payload)) return undefined;
  if (!optional(header.alg, isString) || !optional(header.kid, isString)) return undefined;
  const p = payload;
  const ok =
    optional(p.exp, Number.isFinite) &&
    optional(p.nbf, Number.isFinite) &&
    optional(p.iat, Number.isFinite) &&
    optional(p.iss, isString) &&
    optional(p.sub, isString) &&
    optional(p.scope, isString) &&
    optional(p.jti, isString) &&
    optional(p.aud, (a) => isString(a) || (Array.isArray(a) && a.every(isString)));
  if (!ok) return undefined;
  return { header, headerB64, payload, payloadB64, signatureB64 } as unknown as Decomposed;
}

/** `verifier`: a CognitoJwtVerifier for one user pool with its JWKS cached. */
export function whatIfCognitoVerifySync(verifier: object): (jwt: string) => JwtPayload {
  const internals = verifier as unknown as VerifierInternals;
  return (jwt) => {
    const decomposed = fastDecompose(jwt) ?? decomposeUnverifiedJwt(jwt);
    const config = internals.getIssuerConfig(decomposed.payload.iss);
    internals.verifyDecomposedJwtSync(decomposed, config.jwksUri, config);
    validateCognitoJwtFields(decomposed.payload, config as Parameters<typeof validateCognitoJwtFields>[1]);
    return decomposed.payload;
  };
}
