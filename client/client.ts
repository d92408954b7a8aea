/**
 * A typed client for every route of the route table, on global fetch.
 *
 * - `call('POST /v1/keys', { body })` reaches any route by its table key, with request and response types from the
 *   API's schemas; the named methods (`createKey`, `verify`, …) are shorthands for the same thing.
 * - `request(method, path)` sends anything (the CLI's `call` uses it).
 * - Public routes get no credential, IAM routes the SigV4 authenticator (`iam`), all others `auth`.
 * - Retries follow `retry.ts`; errors are {@link GatehouseApiError} and {@link GatehouseNetworkError}.
 */
import { noAuth, type Authenticator, type OutgoingRequest } from './auth.js';
import { GatehouseApiError, GatehouseCredentialsError, GatehouseNetworkError, type ProblemBody, type RequestSummary } from './errors.js';
import type {
  AuditList,
  AuditQuery,
  CreatedKey,
  CreateItemInput,
  CreateKeyInput,
  Health,
  Item,
  ItemList,
  KeyList,
  KeyView,
  ListItemsQuery,
  ListKeysQuery,
  OpenApiDocument,
  OperationInput,
  OperationKey,
  OperationResponse,
  ReplaceItemInput,
  RequestOptions,
  RotateKeyInput,
  Usage,
  UsageQuery,
  VerifyResult,
  Whoami,
} from './operations.js';
import { isIdempotent, mayRetryStatus, parseRetryAfter, backoffDelayMs, resolveRetryOptions, type ResolvedRetryOptions, type RetryOptions } from './retry.js';
import { expandPath, findRoute, ROUTES, routeOf, type Route } from './routes.js';
import { tlsFetch, type ClientTls } from './tls-fetch.js';

export interface GatehouseClientOptions {
  /** The API's base URL, with the stage path when there is one (`https://…/prod`). */
  baseUrl: string | URL;
  /** For routes that take an API key or a JWT (and for paths the route table does not know). */
  auth?: Authenticator;
  /** For IAM routes (`POST /v1/verify`): a SigV4 authenticator. */
  iam?: Authenticator;
  retry?: RetryOptions;
  /** Per attempt, in ms. Default 30 000 (API Gateway's own integration limit is 29 s). */
  timeoutMs?: number;
  /** Default: global fetch (with `tls`, an HTTPS fetch that presents the client certificate). */
  fetch?: typeof fetch;
  /** Mutual TLS: the client certificate and key to present (a custom domain with mTLS), and/or a CA to trust. */
  tls?: ClientTls;
  userAgent?: string;
  /** Called before each wait, e.g. to tell a person what is happening. */
  onRetry?: (event: RetryEvent) => void;
  /** For tests: the clock. */
  now?: () => number;
  /**
   * The API's route table (default: Gatehouse's own, `lambdas/routes.ts`): which routes are IAM, public or token
   * routes and which scope each needs. A team's API passes its deployment's routes (`defineApp(...).api.routes`).
   */
  routes?: readonly Route[];
}

/** Input of `call` for a route without declared client types (a team's own route). */
export type UntypedOperationInput = RequestOptions & { params?: Record<string, string>; body?: unknown; query?: RawRequest['query'] };

export interface RetryEvent {
  readonly request: RequestSummary;
  /** The attempt that just failed (1 for the first). */
  readonly attempt: number;
  readonly delayMs: number;
  /** `429`, `503`, or a network error code. */
  readonly reason: string;
}

export interface RawRequest extends RequestOptions {
  /** JSON-serialised unless it is a string (then sent as it is, as JSON). */
  body?: unknown;
  query?: Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;
  /** Force the authenticator: default by route (public: none, iam: `iam`, else `auth`). */
  authenticator?: Authenticator;
}

export interface RawResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON when the answer is JSON, the text otherwise, undefined when empty. */
  readonly body: T;
}

const VERSION = '0.1.0';

function appendQuery(url: URL, query: RawRequest['query']): void {
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    url.searchParams.append(name, Array.isArray(value) ? value.join(',') : String(value));
  }
}

/** Pre-send failures: nothing reached the server, so any method may be tried again. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCodeOf(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { code, name, errors } = current as { code?: unknown; name?: unknown; errors?: unknown };
    if (typeof code === 'string') return code;
    if (name === 'TimeoutError' || name === 'AbortError') return name;
    // Happy-eyeballs connects fail with an AggregateError of one error per address.
    if (Array.isArray(errors) && errors.length > 0) {
      const codes = errors.map(errorCodeOf);
      if (codes.every((c) => c !== undefined && NOT_SENT_CODES.has(c))) return codes[0];
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function authErrorOf(headers: Headers): string | undefined {
  return /error="([^"]*)"/.exec(headers.get('www-authenticate') ?? '')?.[1];
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  const type = response.headers.get('content-type') ?? '';
  if (/[/+]json\b/i.test(type)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

export class GatehouseClient {
  readonly baseUrl: URL;
  /** The base URL's path without a trailing slash ('' for none). */
  private readonly basePath: string;
  private readonly auth: Authenticator | undefined;
  private readonly iam: Authenticator | undefined;
  private readonly retry: ResolvedRetryOptions;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly userAgent: string;
  private readonly onRetry: ((event: RetryEvent) => void) | undefined;
  private readonly now: () => number;
  private readonly routes: readonly Route[];

  constructor(options: GatehouseClientOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new TypeError('baseUrl must be an http(s) URL');
    if (base.search || base.hash) throw new TypeError('baseUrl must not have a query or fragment');
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.baseUrl = base;
    this.auth = options.auth;
    this.iam = options.iam ?? (options.auth?.kind === 'sigv4' ? options.auth : undefined);
    this.retry = resolveRetryOptions(options.retry);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchImpl = options.fetch ?? (options.tls ? tlsFetch(options.tls) : globalThis.fetch.bind(globalThis));
    this.userAgent = options.userAgent ?? `gatehouse-client/${VERSION} node/${process.versions.node}`;
    this.onRetry = options.onRetry;
    this.now = options.now ?? Date.now;
    this.routes = options.routes ?? ROUTES;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Typed access to every route
  // ---------------------------------------------------------------------------------------------------------

  /**
   * Any route of the table by its key, e.g. `call('GET /v1/keys/{keyId}', { params: { keyId } })`: typed for
   * Gatehouse's own routes, `unknown` for others (a route group added to the table, a team's own route).
   */
  async call<K extends OperationKey>(
    key: K,
    ...args: object extends OperationInput<K> ? [input?: OperationInput<K>] : [input: OperationInput<K>]
  ): Promise<OperationResponse<K>>;
  async call(key: string, input?: UntypedOperationInput): Promise<unknown>;
  async call(key: string, ...args: [input?: UntypedOperationInput]): Promise<unknown> {
    const input = args[0] ?? {};
    const route = routeOf(key, this.routes);
    const response = await this.send(route.method, expandPath(route.path, input.params), route, {
      body: input.body,
      query: input.query,
      headers: input.headers,
      signal: input.signal,
    });
    return response.body;
  }

  health(options?: RequestOptions): Promise<Health> {
    return this.call('GET /health', options);
  }
  openapi(options?: RequestOptions): Promise<OpenApiDocument> {
    return this.call('GET /openapi.json', options);
  }
  whoami(options?: RequestOptions): Promise<Whoami> {
    return this.call('GET /v1/whoami', options);
  }
  createKey(body: CreateKeyInput, options?: RequestOptions): Promise<CreatedKey> {
    return this.call('POST /v1/keys', { ...options, body });
  }
  listKeys(query?: ListKeysQuery, options?: RequestOptions): Promise<KeyList> {
    return this.call('GET /v1/keys', { ...options, ...(query ? { query } : {}) });
  }
  /** Every key of the tenant, following `nextToken`. */
  async *allKeys(query: Omit<ListKeysQuery, 'nextToken'> = {}, options?: RequestOptions): AsyncGenerator<KeyView> {
    let nextToken: string | undefined;
    do {
      const page = await this.listKeys({ ...query, ...(nextToken ? { nextToken } : {}) }, options);
      yield* page.keys;
      nextToken = page.nextToken;
    } while (nextToken);
  }
  getKey(keyId: string, options?: RequestOptions): Promise<KeyView> {
    return this.call('GET /v1/keys/{keyId}', { ...options, params: { keyId } });
  }
  revokeKey(keyId: string, options?: RequestOptions): Promise<undefined> {
    return this.call('DELETE /v1/keys/{keyId}', { ...options, params: { keyId } });
  }
  rotateKey(keyId: string, body: RotateKeyInput = {}, options?: RequestOptions): Promise<CreatedKey> {
    return this.call('POST /v1/keys/{keyId}/rotate', { ...options, params: { keyId }, body });
  }
  /** Puts a key on another plan (docs/plans.md): one within the caller's own. */
  setKeyPlan(keyId: string, plan: string, options?: RequestOptions): Promise<KeyView> {
    return this.call('PUT /v1/keys/{keyId}/plan', { ...options, params: { keyId }, body: { plan } });
  }
  usage(query?: UsageQuery, options?: RequestOptions): Promise<Usage> {
    return this.call('GET /v1/usage', { ...options, ...(query ? { query } : {}) });
  }
  audit(query?: AuditQuery, options?: RequestOptions): Promise<AuditList> {
    return this.call('GET /v1/audit', { ...options, ...(query ? { query } : {}) });
  }
  listItems(query?: ListItemsQuery, options?: RequestOptions): Promise<ItemList> {
    return this.call('GET /v1/items', { ...options, ...(query ? { query } : {}) });
  }
  createItem(body: CreateItemInput, options?: RequestOptions): Promise<Item> {
    return this.call('POST /v1/items', { ...options, body });
  }
  getItem(itemId: string, options?: RequestOptions): Promise<Item> {
    return this.call('GET /v1/items/{itemId}', { ...options, params: { itemId } });
  }
  /** With `ifMatch` (an ETag such as `"3"`, or the version number) the write is conditional: 412 when stale. */
  replaceItem(itemId: string, body: ReplaceItemInput, options: RequestOptions & { ifMatch?: string | number } = {}): Promise<Item> {
    const { ifMatch, ...rest } = options;
    return this.call('PUT /v1/items/{itemId}', { ...rest, params: { itemId }, body, headers: withIfMatch(rest.headers, ifMatch) });
  }
  deleteItem(itemId: string, options: RequestOptions & { ifMatch?: string | number } = {}): Promise<undefined> {
    const { ifMatch, ...rest } = options;
    return this.call('DELETE /v1/items/{itemId}', { ...rest, params: { itemId }, headers: withIfMatch(rest.headers, ifMatch) });
  }
  /** `POST /v1/verify` (IAM route: needs the `iam` SigV4 authenticator). */
  verify(key: string, options?: RequestOptions): Promise<VerifyResult> {
    return this.call('POST /v1/verify', { ...options, body: { key } });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Any request
  // ---------------------------------------------------------------------------------------------------------

  /** Sends any method and path (relative to the base URL, may carry a query string). */
  request<T = unknown>(method: string, path: string, init: RawRequest = {}): Promise<RawResponse<T>> {
    if (!path.startsWith('/')) throw new TypeError('path must start with /');
    const upper = method.toUpperCase();
    return this.send(upper, path, findRoute(upper, path.split('?')[0] ?? path, this.routes), init) as Promise<RawResponse<T>>;
  }

  private authenticatorFor(route: Route | undefined, method: string): Authenticator {
    if (route?.auth === 'public') return noAuth;
    if (route?.auth === 'iam') {
      if (!this.iam) {
        throw new GatehouseCredentialsError(`${method} ${route.path} is an IAM route: it needs SigV4 credentials (the client's iam option, or --sigv4).`);
      }
      return this.iam;
    }
    return this.auth ?? noAuth;
  }

  private async send(method: string, pathAndQuery: string, route: Route | undefined, init: RawRequest): Promise<RawResponse> {
    const url = new URL(this.baseUrl.href);
    const [pathPart = '', queryPart] = pathAndQuery.split(/\?(.*)/s, 2);
    url.pathname = `${this.basePath}${pathPart}`;
    if (queryPart) url.search = queryPart;
    appendQuery(url, init.query);
    const summary: RequestSummary = { method, path: pathPart };
    const authenticator = init.authenticator ?? this.authenticatorFor(route, method);

    const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    const baseHeaders = new Headers(init.headers);
    for (const name of ['authorization', 'x-api-key']) baseHeaders.delete(name); // credentials come from auth only
    if (!baseHeaders.has('accept')) baseHeaders.set('accept', 'application/json, application/problem+json');
    if (body !== undefined && !baseHeaders.has('content-type')) baseHeaders.set('content-type', 'application/json');
    baseHeaders.set('user-agent', this.userAgent);
    const idempotent = isIdempotent(method, baseHeaders);

    const started = this.now();
    let attempt = 0;
    let retries = 0;
    let refreshed = false;
    let forceRefresh = false;

    const wait = async (delayMs: number, reason: string): Promise<boolean> => {
      if (retries >= this.retry.maxRetries) return false;
      if (this.now() - started + delayMs > this.retry.maxTotalMs) return false;
      retries += 1;
      this.onRetry?.({ request: summary, attempt, delayMs, reason });
      await this.retry.sleep(delayMs, init.signal);
      return true;
    };

    for (;;) {
      attempt += 1;
      const headers = new Headers(baseHeaders);
      const outgoing: OutgoingRequest = { method, url, headers, body };
      await authenticator.apply(outgoing, { forceRefresh });
      forceRefresh = false;

      const timeout = AbortSignal.timeout(this.timeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      let response: Response;
      try {
        response = await this.fetchImpl(url, { method, headers, body, signal, redirect: 'manual' });
      } catch (error) {
        if (init.signal?.aborted) {
          throw new GatehouseNetworkError({ request: summary, sent: true, errorCode: 'AbortError', reason: 'aborted by the caller', attempts: attempt, cause: error });
        }
        const code = errorCodeOf(error) ?? 'UNKNOWN';
        const sent = !NOT_SENT_CODES.has(code);
        if ((idempotent || !sent) && (await wait(backoffDelayMs(retries, this.retry), code))) continue;
        const reason =
          code === 'TimeoutError'
            ? `no answer within ${this.timeoutMs} ms`
            : `${code === 'UNKNOWN' ? (error as Error).message : code} (${url.origin} unreachable?)`;
        throw new GatehouseNetworkError({ request: summary, sent, errorCode: code, reason, attempts: attempt, cause: error });
      }

      const parsed = await readBody(response);
      if (response.status >= 200 && response.status < 300) {
        return { status: response.status, headers: response.headers, body: response.status === 204 ? undefined : parsed };
      }

      const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'), this.now());
      if (response.status === 401 && authenticator.canRefresh && !refreshed) {
        refreshed = true;
        forceRefresh = true;
        continue;
      }
      if (mayRetryStatus(response.status, idempotent)) {
        const delay = retryAfterSeconds !== undefined ? retryAfterSeconds * 1000 : backoffDelayMs(retries, this.retry);
        if (await wait(delay, String(response.status))) continue;
      }
      const problem = parsed !== null && typeof parsed === 'object' ? (parsed as Partial<ProblemBody>) : undefined;
      const authError = authErrorOf(response.headers);
      throw new GatehouseApiError({
        status: response.status,
        problem,
        request: summary,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        ...(authError === undefined ? {} : { authError }),
        // Only a scope refusal names the route's scope (a WAF block or a tenant rule is a 403 too).
        ...(response.status === 403 && authError === 'insufficient_scope' && route?.scope !== undefined ? { requiredScope: route.scope } : {}),
        attempts: attempt,
      });
    }
  }
}

function withIfMatch(headers: Record<string, string> | undefined, ifMatch: string | number | undefined): Record<string, string> | undefined {
  if (ifMatch === undefined) return headers;
  const tag = typeof ifMatch === 'number' ? `"${ifMatch}"` : ifMatch;
  return { ...headers, 'if-match': tag };
}
