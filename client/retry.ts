/**
 * When to try a request again, and how long to wait.
 *
 * - Statuses worth retrying: 429 (throttled or rate-limited by WAF: the request was refused before anything
 *   happened) and 503 (plus the gateway's 502/504, which Gatehouse answers as SERVICE_UNAVAILABLE).
 * - A request that is not idempotent (POST, PATCH, and any request made conditional with If-Match, whose retry
 *   after success would fail its own precondition) is retried only when the server certainly did not act:
 *   on 429, and on connection errors that happened before the request was sent. Never on 5xx or on a timeout
 *   or reset after sending.
 * - The wait is `Retry-After` when the answer has one (seconds or an HTTP date), otherwise exponential backoff
 *   with full jitter: random(0, min(maxDelay, base · 2^attempt)).
 * - Bounded by a count (default 3 retries) and a total time (default 30 s): a wait that would end past the
 *   budget is not started, and the last error is thrown with its `retryAfterSeconds`.
 */

export interface RetryOptions {
  /** Retries after the first attempt. Default 3; 0 disables retrying. */
  maxRetries?: number;
  /** Budget for all attempts and waits, in ms. Default 30 000. */
  maxTotalMs?: number;
  /** Backoff base, in ms. Default 250. */
  baseDelayMs?: number;
  /** Backoff cap for one wait, in ms. Default 8 000. */
  maxDelayMs?: number;
  /** For tests: a deterministic source of [0, 1). */
  random?: () => number;
  /** For tests: how to wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type ResolvedRetryOptions = Required<RetryOptions>;

export const DEFAULT_RETRY: Readonly<Omit<ResolvedRetryOptions, 'random' | 'sleep'>> = {
  maxRetries: 3,
  maxTotalMs: 30_000,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
};

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  const nonNegative = (value: number | undefined, fallback: number, name: string): number => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`retry.${name} must be a non-negative number`);
    return value;
  };
  return {
    maxRetries: Math.floor(nonNegative(options.maxRetries, DEFAULT_RETRY.maxRetries, 'maxRetries')),
    maxTotalMs: nonNegative(options.maxTotalMs, DEFAULT_RETRY.maxTotalMs, 'maxTotalMs'),
    baseDelayMs: nonNegative(options.baseDelayMs, DEFAULT_RETRY.baseDelayMs, 'baseDelayMs'),
    maxDelayMs: nonNegative(options.maxDelayMs, DEFAULT_RETRY.maxDelayMs, 'maxDelayMs'),
    random: options.random ?? Math.random,
    sleep: options.sleep ?? sleep,
  };
}

/**
 * `Retry-After` (RFC 9110 §10.2.3) as seconds from `now`: a non-negative integer, or an HTTP date (a date in
 * the past means 0). Anything else is ignored (undefined).
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // An HTTP date always names a weekday and GMT; Date.parse accepts all three RFC 9110 forms.
  if (!/GMT$/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** Full jitter: uniform in [0, min(maxDelay, base · 2^retryIndex)). */
export function backoffDelayMs(retryIndex: number, options: Pick<ResolvedRetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retryIndex);
  return Math.floor(options.random() * ceiling);
}

/** Statuses that mean "not now": worth another attempt when the method allows it. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/**
 * Whether a request may be repeated after the server may have acted on it (RFC 9110 §9.2.2). GET, HEAD,
 * OPTIONS, PUT and DELETE are idempotent — unless made conditional with If-Match, where a repeat after success
 * would answer 412 instead of the success that happened.
 */
export function isIdempotent(method: string, headers: Headers): boolean {
  if (!['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'].includes(method.toUpperCase())) return false;
  return !headers.has('if-match');
}

/** Whether an answer with this status may be retried for this request. */
export function mayRetryStatus(status: number, idempotent: boolean): boolean {
  if (status === 429) return true; // refused before acting (throttle or WAF), whatever the method
  return idempotent && RETRYABLE_STATUSES.has(status);
}
