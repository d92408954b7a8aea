/**
 * What a Gatehouse call can fail with. {@link GatehouseApiError} carries the problem-details envelope of
 * CONTRACT §4 as the server sent it; {@link GatehouseNetworkError} means no HTTP answer was received.
 * No message built here can contain a credential: server text is passed through {@link redactSecrets}.
 */
import { ERROR_CODES, type ErrorCode, type FieldProblem, type ProblemBody } from '../lambdas/core/errors.js';

export type { ErrorCode, FieldProblem, ProblemBody };

/** Gatehouse API keys (any env), JWTs, AWS secret-looking tokens after `Bearer`/`AWS4-HMAC-SHA256`. */
const SECRET_PATTERNS: readonly RegExp[] = [
  // gth_<env>_<12 id>_<secret+checksum>: keep the public prefix, drop everything after it.
  /\b(gth_[A-Za-z]+_[A-Za-z0-9]{12})_[A-Za-z0-9_]+/g,
  // Three base64url segments starting with an encoded JSON header ("eyJ").
  /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
];

/** Replaces anything that looks like a Gatehouse key, a JWT or a bearer credential with a placeholder. */
export function redactSecrets(text: string): string {
  return SECRET_PATTERNS.reduce(
    (out, pattern) =>
      out.replace(pattern, (match, group: unknown) => {
        if (match.startsWith('gth_') && typeof group === 'string') return `${group}_[redacted]`;
        if (/^(bearer|basic)\s/i.test(match)) return `${match.split(/\s/)[0]} [redacted]`;
        return '[redacted-token]';
      }),
    text,
  );
}

/** Base of every error this client throws. */
export class GatehouseClientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(redactSecrets(message), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

export interface RequestSummary {
  readonly method: string;
  /** Path without the query string (query values may hold anything). */
  readonly path: string;
}

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.keys(ERROR_CODES));

function codeForStatus(status: number): ErrorCode {
  const exact = (Object.entries(ERROR_CODES) as [ErrorCode, { status: number }][]).find(([, v]) => v.status === status);
  if (exact) return exact[0];
  if (status === 502 || status === 504) return 'SERVICE_UNAVAILABLE';
  return status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR';
}

/** An HTTP error answer from the gateway or a handler, in the §4 envelope (or made to look like one). */
export class GatehouseApiError extends GatehouseClientError {
  readonly status: number;
  readonly code: ErrorCode;
  readonly title: string;
  readonly detail: string;
  readonly type: string;
  /** Empty when the answer carried none (e.g. a proxy in between answered). */
  readonly requestId: string;
  /** From `Retry-After` (seconds, or an HTTP date turned into seconds from now). */
  readonly retryAfterSeconds?: number;
  /** The fields a 400 named, from the envelope's `errors` member. */
  readonly fieldErrors?: readonly FieldProblem[];
  /** `error="…"` of `WWW-Authenticate`, e.g. `invalid_token` or `insufficient_scope`. */
  readonly authError?: string;
  /** The scope the route needs (from the route table), when the client knows the route. */
  readonly requiredScope?: string;
  readonly request: RequestSummary;
  /** How many HTTP attempts were made in all. */
  readonly attempts: number;

  constructor(init: {
    status: number;
    problem: Partial<ProblemBody> | undefined;
    request: RequestSummary;
    retryAfterSeconds?: number;
    authError?: string;
    requiredScope?: string;
    attempts: number;
  }) {
    const { status, problem } = init;
    const code: ErrorCode = typeof problem?.code === 'string' && KNOWN_CODES.has(problem.code) ? problem.code : codeForStatus(status);
    const detail = redactSecrets(typeof problem?.detail === 'string' ? problem.detail : `HTTP ${status}`);
    super(`${init.request.method} ${init.request.path} failed: ${status} ${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.title = typeof problem?.title === 'string' ? problem.title : ERROR_CODES[code].title;
    this.detail = detail;
    this.type = typeof problem?.type === 'string' ? problem.type : 'about:blank';
    this.requestId = typeof problem?.requestId === 'string' ? problem.requestId : '';
    if (init.retryAfterSeconds !== undefined) this.retryAfterSeconds = init.retryAfterSeconds;
    const errors: unknown = problem?.errors;
    if (Array.isArray(errors) && errors.length > 0) {
      this.fieldErrors = (errors as Partial<FieldProblem>[]).map((e) => ({ field: String(e.field ?? ''), message: redactSecrets(String(e.message ?? '')) }));
    }
    if (init.authError !== undefined) this.authError = init.authError;
    if (init.requiredScope !== undefined) this.requiredScope = init.requiredScope;
    this.request = init.request;
    this.attempts = init.attempts;
  }

  /** The envelope as JSON, for `--json` output and logs. */
  toJSON(): Record<string, unknown> {
    return {
      status: this.status,
      code: this.code,
      title: this.title,
      detail: this.detail,
      type: this.type,
      requestId: this.requestId,
      ...(this.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: this.retryAfterSeconds }),
      ...(this.fieldErrors === undefined ? {} : { errors: this.fieldErrors }),
      ...(this.requiredScope === undefined ? {} : { requiredScope: this.requiredScope }),
    };
  }
}

/** No HTTP answer: DNS, connection refused or reset, timeout, or an aborted request. */
export class GatehouseNetworkError extends GatehouseClientError {
  /** False when the failure happened before the request was sent (safe to retry any method). */
  readonly sent: boolean;
  /** Node's error code when there is one (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT, TimeoutError…). */
  readonly errorCode?: string;
  readonly request: RequestSummary;
  readonly attempts: number;

  constructor(init: { request: RequestSummary; sent: boolean; errorCode?: string; reason: string; attempts: number; cause?: unknown }) {
    super(`${init.request.method} ${init.request.path} failed: ${init.reason}`, { cause: init.cause });
    this.sent = init.sent;
    if (init.errorCode !== undefined) this.errorCode = init.errorCode;
    this.request = init.request;
    this.attempts = init.attempts;
  }
}

/** A configured credential could not be produced (no AWS credentials, a refresh that failed…). */
export class GatehouseCredentialsError extends GatehouseClientError {}
