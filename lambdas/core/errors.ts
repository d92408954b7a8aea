/**
 * The one error shape (CONTRACT §4): RFC 9457 problem details plus a stable `code`.
 * Typed errors carry the code; {@link problemBody} renders any of them. Nothing here may
 * include a secret: messages are written for clients, never built from credentials.
 */

export const ERROR_CODES = {
  AUTHENTICATION_FAILED: { status: 401, title: 'Authentication failed' },
  PERMISSION_DENIED: { status: 403, title: 'Permission denied' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  VALIDATION_ERROR: { status: 400, title: 'Validation error' },
  PRECONDITION_FAILED: { status: 412, title: 'Precondition failed' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  QUOTA_EXCEEDED: { status: 429, title: 'Quota exceeded' },
  INTERNAL_ERROR: { status: 500, title: 'Internal error' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Base of every error Gatehouse answers on purpose. */
export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers (WWW-Authenticate, Retry-After). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, detail: string, options?: { headers?: Record<string, string>; cause?: unknown }) {
    super(detail, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.headers = options?.headers ?? {};
  }
}

/** Realm sent with every 401, as API Gateway's static gateway responses do. */
export const WWW_AUTHENTICATE_401 = 'Bearer realm="gatehouse"';
export const WWW_AUTHENTICATE_403_SCOPE = 'Bearer realm="gatehouse", error="insufficient_scope"';

/** The single 401 detail: expired, revoked, unknown and malformed credentials are indistinguishable. */
export const AUTHENTICATION_FAILED_DETAIL = 'The request carries no valid credential.';

export class AuthenticationError extends GatehouseError {
  constructor(options?: { cause?: unknown }) {
    super('AUTHENTICATION_FAILED', AUTHENTICATION_FAILED_DETAIL, {
      headers: { 'WWW-Authenticate': WWW_AUTHENTICATE_401 },
      cause: options?.cause,
    });
  }
}

/** RFC 6750 §3: the scope the request needs, when the answering component knows it (scope names carry no quotes). */
export function insufficientScopeChallenge(scope?: string): string {
  return scope === undefined || !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope) ? WWW_AUTHENTICATE_403_SCOPE : `${WWW_AUTHENTICATE_403_SCOPE}, scope="${scope}"`;
}

export class PermissionError extends GatehouseError {
  constructor(detail: string, options?: { insufficientScope?: boolean; scope?: string }) {
    super('PERMISSION_DENIED', detail, {
      headers: options?.insufficientScope ? { 'WWW-Authenticate': insufficientScopeChallenge(options.scope) } : {},
    });
  }
}

export class NotFoundError extends GatehouseError {
  constructor(detail = 'The resource does not exist.') {
    super('NOT_FOUND', detail);
  }
}

export interface FieldProblem {
  /** Dotted path of the offending field, `''` for the body itself. */
  readonly field: string;
  readonly message: string;
}

export class ValidationError extends GatehouseError {
  readonly fields: readonly FieldProblem[];
  constructor(detail: string, fields: readonly FieldProblem[] = []) {
    super('VALIDATION_ERROR', detail);
    this.fields = fields;
  }
}

/** A dependency (store, secret, JWKS) failed: the caller may retry. Never an Allow. */
export class DependencyError extends GatehouseError {
  readonly dependency: string;
  constructor(dependency: string, cause: unknown) {
    super('SERVICE_UNAVAILABLE', 'A dependency is unavailable; retry later.', { cause, headers: { 'Retry-After': '1' } });
    this.dependency = dependency;
  }
}

/** Configuration that cannot be used. Raised at cold start; names the variable and the expected form. */
export class ConfigError extends Error {
  constructor(readonly setting: string, expected: string) {
    super(`Invalid configuration ${setting}: expected ${expected}`);
    this.name = 'ConfigError';
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: readonly FieldProblem[];
}

const TYPE_BASE = 'https://gatehouse.dev/problems/';

/** Problem-type URI per code (RFC 9457 §3.1.1): stable and documented in the README. */
export function problemType(code: ErrorCode): string {
  return TYPE_BASE + code.toLowerCase().replaceAll('_', '-');
}

export function problemBody(code: ErrorCode, detail: string, requestId: string, fields?: readonly FieldProblem[]): ProblemBody {
  const { status, title } = ERROR_CODES[code];
  const body: ProblemBody = { type: problemType(code), title, status, detail, code, requestId };
  if (fields && fields.length > 0) body.errors = fields;
  return body;
}

/** Renders a known error; anything else becomes a bare 500 (the caller logs the original in full). */
export function problemFromError(error: unknown, requestId: string): { status: number; headers: Record<string, string>; body: ProblemBody } {
  if (error instanceof GatehouseError) {
    const fields = error instanceof ValidationError ? error.fields : undefined;
    return { status: error.status, headers: { ...error.headers }, body: problemBody(error.code, error.message, requestId, fields) };
  }
  return { status: 500, headers: {}, body: problemBody('INTERNAL_ERROR', 'An unexpected error occurred.', requestId) };
}
