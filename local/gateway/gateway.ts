/**
 * The local REST gateway: one Node HTTP request handler doing what API Gateway (REST, v1 payload) + WAF do in
 * front of the Lambda functions, in AWS's order:
 *
 *   WAF rate rules → stage throttling → payload limit (10 MB) → resource + method (or CORS preflight)
 *     → IAM (SigV4) | REQUEST authorizer (identity sources, result cache, policy vs methodArn) | public
 *     → Lambda proxy integration (29 s) | HTTP proxy integration (a team's service) → response mapping.
 *
 * Every answer the gateway gives itself comes from the shared gateway-response and WAF definitions
 * (responses.ts). Nothing here knows about keys, tokens or tenants: that is the authorizer's and handlers' code,
 * the same that runs in Lambda.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { allowedOrigin, CORS_ALLOW_HEADERS, CORS_MAX_AGE_SECONDS } from '../../lambdas/core/cors.js';
import type { Route } from '../../lambdas/core/api-definition.js';
import type { GatewayResponseDefinition } from '../../lambdas/core/gateway-responses.js';
import { principalFromContext } from '../../lambdas/core/principal.js';
import { NO_PRINCIPAL_HEADERS, principalHeaders } from '../../lambdas/core/principal-headers.js';
import type { SettingsValues } from '../../lambdas/core/settings.js';
import { evaluatePolicy } from '../policy-evaluator.js';
import { AuthorizerResultCache } from './authorizer-cache.js';
import { integrationAuthorizerContext, isUnauthorized, validateAuthorizerResult, type ValidAuthorizerResult } from './authorizer-result.js';
import { authorizerEvent, lambdaContext, lastHeader, methodArn, proxyEvent, type ApiCoordinates, type GatewayRequest, type IamCaller } from './events.js';
import { callUpstream, upstreamRequest, type HttpIntegration } from './http-integration.js';
import { AUTHORIZER_CACHE_TTL_SECONDS, IDENTITY_SOURCES, identitySourceHeader, identityValues } from './identity-sources.js';
import { acceptsBinary, gatewayError, notReady, proxyResultToReply, wafRateLimited, type GatewayReply, type LocalGatewayResponseType } from './responses.js';
import { emptyRecord } from './records.js';
import { createRouter, type ResourceMatch } from './router.js';
import { verifySigV4, type LocalIamCredentials } from './sigv4.js';
import { clientCertificateOf } from '../tls/client-certificate.js';
import { TokenBucket } from './throttle.js';
import { Waf } from './waf.js';

/** API Gateway's hard limits. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
export const INTEGRATION_TIMEOUT_MS = 29_000;

export type GatewaySettings = Pick<
  SettingsValues,
  'rateLimitPerIp' | 'rateLimitPerCredential' | 'rateLimitWindowSeconds' | 'throttleRateLimit' | 'throttleBurstLimit' | 'corsOrigins'
>;

/** A Lambda function as the gateway invokes it: whatever it returns is checked, as API Gateway checks it. */
export type LambdaFunction<E> = (event: E, context: Context) => Promise<unknown>;

export interface LocalIamUser extends LocalIamCredentials {
  readonly accountId: string;
  readonly userId: string;
  readonly userArn: string;
}

export interface AccessLogEntry {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  readonly sourceIp: string;
  /** Which step answered: waf, throttle, payload, route, preflight, iam, authorizer, integration. */
  readonly answeredBy: string;
}

export interface LocalGatewayOptions {
  readonly api: ApiCoordinates;
  readonly settings: GatewaySettings;
  readonly authorizer: LambdaFunction<APIGatewayRequestAuthorizerEvent>;
  /** The API's routes (the deployment's route table: Gatehouse's own, or a team's app with Gatehouse mounted). */
  readonly routes: readonly Route[];
  /** Lambda proxy integrations, by the `handler` routes name. */
  readonly handlers: Readonly<Record<string, LambdaFunction<APIGatewayProxyEvent>>>;
  /** HTTP proxy integrations (a team's services), by the `handler` routes name. */
  readonly httpTargets?: Readonly<Record<string, HttpIntegration>>;
  readonly iam: LocalIamUser;
  /** Default {@link IDENTITY_SOURCES}. */
  readonly identitySources?: readonly string[];
  /** Default {@link AUTHORIZER_CACHE_TTL_SECONDS} (0: caching off). */
  readonly authorizerCacheTtlSeconds?: number;
  /** The deployment's gateway responses (gateway cache mode words its 401 differently); default the shared ones. */
  readonly responses?: readonly GatewayResponseDefinition[];
  /** Default 29 000. */
  readonly integrationTimeoutMs?: number;
  /** Default 29 000 (a slower authorizer is an authorizer failure). */
  readonly authorizerTimeoutMs?: number;
  /** Default 10 MB. */
  readonly maxPayloadBytes?: number;
  /** The API's binaryMediaTypes (default none, like the deployed API). */
  readonly binaryMediaTypes?: readonly string[];
  readonly now?: () => number;
  readonly onRequest?: (entry: AccessLogEntry) => void;
  /** Called after every authorizer invocation (the Lambda's per-invocation bookkeeping). */
  readonly afterAuthorizer?: () => void;
  /**
   * The stage's usage plans, as the CDK app deploys them when plans limit anything (docs/plans.md): every method with
   * the authorizer requires an API key, which comes from the authorizer (apiKeySource AUTHORIZER); a key no usage plan
   * knows is answered INVALID_API_KEY, rendered with the authorizer's context. Absent: no method requires a key.
   */
  readonly usagePlanKeys?: readonly string[];
}

export interface LocalGateway {
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Until called, every request is answered 503 (the stack is starting). */
  markReady(): void;
}

type Outcome = { readonly reply: GatewayReply; readonly answeredBy: string };

const TIMEOUT = Symbol('timeout');

/**
 * What crosses the Lambda boundary is JSON, both ways: `undefined` members vanish, Dates become strings, and a
 * value that cannot be serialised is a function error. Events reach the functions as plain parsed objects, as in
 * Lambda (own properties only; a header named `__proto__` is just a key).
 */
function overTheWire(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as unknown);
}

async function withTimeout<T>(run: () => Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      run(),
      new Promise<typeof TIMEOUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMEOUT), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function normaliseIp(address: string | undefined): string {
  if (address === undefined) return '0.0.0.0';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

type BodyRead = { readonly ok: true; readonly body: Buffer } | { readonly ok: false };

function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ ok: false });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.off('data', onData);
        req.pause();
        resolve({ ok: false });
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (done) return;
      done = true;
      resolve({ ok: true, body: Buffer.concat(chunks) });
    });
    req.once('error', (error) => {
      if (!done) reject(error);
    });
    // A client that goes away mid-body: nothing to answer.
    req.once('close', () => {
      if (!done && !req.complete) reject(new Error('request aborted'));
    });
  });
}

export function createLocalGateway(options: LocalGatewayOptions): LocalGateway {
  const now = options.now ?? Date.now;
  const routes = options.routes;
  const httpTargets = options.httpTargets ?? {};
  // Every route is served by exactly one integration, or the gateway does not start (as CDK would not synth).
  for (const route of routes) {
    const lambda = Object.hasOwn(options.handlers, route.handler);
    const http = Object.hasOwn(httpTargets, route.handler);
    if (lambda === http) {
      throw new Error(`Route ${route.method} ${route.path}: handler "${route.handler}" ${lambda ? 'is both a function and an HTTP target' : 'has no integration'}`);
    }
  }
  const router = createRouter(routes);
  const waf = new Waf(options.settings);
  const bucket = new TokenBucket(options.settings);
  const corsOrigins = options.settings.corsOrigins;
  // Everything the gateway answers itself carries the static CORS headers AWS would send (lambdas/core/cors.ts).
  const replyOptions = { corsOrigins, ...(options.responses ? { responses: options.responses } : {}) };
  /** A gateway response to `request`, and to the route it matched when one did (its template's `$context` variables). */
  const errorReply = (type: LocalGatewayResponseType, request: Pick<GatewayRequest, 'requestId' | 'method'>, route?: Pick<Route, 'path'>, extra: { close?: boolean } = {}) =>
    gatewayError(type, request.requestId, { ...replyOptions, ...extra, request: { httpMethod: request.method, resourcePath: route?.path ?? '' } });
  const identityHeaders = (options.identitySources ?? IDENTITY_SOURCES).map(identitySourceHeader);
  const cache = new AuthorizerResultCache(options.authorizerCacheTtlSeconds ?? AUTHORIZER_CACHE_TTL_SECONDS);
  const integrationTimeoutMs = options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS;
  const authorizerTimeoutMs = options.authorizerTimeoutMs ?? INTEGRATION_TIMEOUT_MS;
  const maxPayloadBytes = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  const binaryMediaTypes = options.binaryMediaTypes ?? [];
  const iamCaller: IamCaller = {
    accessKey: options.iam.accessKeyId,
    accountId: options.iam.accountId,
    userId: options.iam.userId,
    userArn: options.iam.userArn,
  };
  let ready = false;

  const header = (request: Pick<GatewayRequest, 'rawHeaders'>, lowerName: string) => lastHeader(request.rawHeaders, lowerName);

  /** OPTIONS on a resource, answered by the gateway's mock integration (CDK's defaultCorsPreflightOptions). */
  function preflight(request: GatewayRequest, found: ResourceMatch): GatewayReply {
    const origin = allowedOrigin(corsOrigins, header(request, 'origin'));
    if (origin === undefined) return { status: 204, headers: {}, body: '' };
    const methods = [...found.resource.methods.keys(), 'OPTIONS'];
    return {
      status: 204,
      headers: {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Methods': methods.join(','),
        'Access-Control-Allow-Headers': CORS_ALLOW_HEADERS.join(','),
        'Access-Control-Max-Age': String(CORS_MAX_AGE_SECONDS),
        Vary: 'Origin',
      },
      body: '',
    };
  }

  type Authorized = { readonly ok: true; readonly context: Record<string, string | number> } | { readonly ok: false; readonly outcome: Outcome };

  async function authorize(request: GatewayRequest, route: Route, pathParameters: Readonly<Record<string, string>>): Promise<Authorized> {
    const fail = (type: LocalGatewayResponseType): Authorized => ({
      ok: false,
      outcome: { reply: errorReply(type, request, route), answeredBy: 'authorizer' },
    });
    const arn = methodArn(options.api, request.method, request.rawPath);
    const started = now();

    let cacheKey: string | undefined;
    let result: ValidAuthorizerResult | undefined;
    if (cache.enabled) {
      const values = identityValues(identityHeaders, (name) => header(request, name));
      // Caching on: a missing or empty identity source is a 401 without invoking the authorizer.
      if (values === undefined) return fail('UNAUTHORIZED');
      cacheKey = AuthorizerResultCache.keyOf(values);
      result = cache.get(cacheKey, now());
    }

    if (result === undefined) {
      const event = authorizerEvent({ api: options.api, request, route, pathParameters });
      const context = lambdaContext(options.api, 'gatehouse-local-authorizer', authorizerTimeoutMs, now);
      let raw: unknown;
      try {
        raw = await withTimeout(async () => overTheWire(await options.authorizer(overTheWire(event) as typeof event, context)), authorizerTimeoutMs);
      } catch (error) {
        return fail(isUnauthorized(error) ? 'UNAUTHORIZED' : 'AUTHORIZER_FAILURE');
      } finally {
        options.afterAuthorizer?.();
      }
      if (raw === TIMEOUT) return fail('AUTHORIZER_FAILURE');
      result = validateAuthorizerResult(raw);
      if (result === undefined) return fail('AUTHORIZER_CONFIGURATION_ERROR');
      if (cacheKey !== undefined) cache.set(cacheKey, result, now());
    }

    // Cached or fresh, the policy is evaluated against THIS request's methodArn.
    if (evaluatePolicy(result.policyDocument, arn) !== 'allow') return fail('ACCESS_DENIED');
    // Then the usage plan of the key the authorizer named: one the stage's plans do not know is INVALID_API_KEY.
    const usageKey = result.usageIdentifierKey;
    if (options.usagePlanKeys && (usageKey === undefined || !options.usagePlanKeys.includes(usageKey))) {
      return {
        ok: false,
        outcome: {
          reply: gatewayError('INVALID_API_KEY', request.requestId, {
            ...replyOptions,
            request: { httpMethod: request.method, resourcePath: route.path },
            authorizerContext: result.context,
          }),
          answeredBy: 'authorizer',
        },
      };
    }
    return { ok: true, context: integrationAuthorizerContext(result, now() - started) };
  }

  /** A team's HTTP service, reached over HTTP with the principal in X-Gatehouse-* headers (http-integration.ts). */
  async function integrateHttp(
    request: GatewayRequest,
    route: Route,
    pathParameters: Readonly<Record<string, string>>,
    target: HttpIntegration,
    authorizer: Record<string, string | number> | undefined,
  ): Promise<Outcome> {
    const fail = (type: LocalGatewayResponseType): Outcome => ({ reply: errorReply(type, request, route), answeredBy: 'integration' });
    // As in AWS (principal-headers.ts): blank on routes without the authorizer, from its context on token routes.
    let principal: Readonly<Record<string, string>> = NO_PRINCIPAL_HEADERS;
    if (authorizer !== undefined) {
      // The mappings read the authorizer's context; one that names no principal cannot be mapped (a broken authorizer).
      const from = principalFromContext(authorizer);
      if (from === undefined) return fail('AUTHORIZER_CONFIGURATION_ERROR');
      principal = principalHeaders(from);
    }
    const call = upstreamRequest(target, request, route, pathParameters, principal);
    if (call === undefined) return fail('BAD_REQUEST_PARAMETERS');
    const result = await callUpstream(call, { timeoutMs: target.timeoutMs ?? integrationTimeoutMs, maxResponseBytes: MAX_PAYLOAD_BYTES });
    if (!result.ok) return fail(result.reason === 'timeout' ? 'INTEGRATION_TIMEOUT' : 'INTEGRATION_FAILURE');
    return { reply: result.reply, answeredBy: 'integration' };
  }

  async function integrate(
    request: GatewayRequest,
    route: Route,
    pathParameters: Readonly<Record<string, string>>,
    extra: { authorizer?: Record<string, string | number>; iam?: IamCaller },
  ): Promise<Outcome> {
    const target = Object.hasOwn(httpTargets, route.handler) ? httpTargets[route.handler] : undefined;
    if (target !== undefined) return integrateHttp(request, route, pathParameters, target, extra.authorizer);
    const contentType = header(request, 'content-type');
    const event = proxyEvent({
      api: options.api,
      request,
      route,
      pathParameters,
      binaryBody: acceptsBinary(contentType, binaryMediaTypes),
      ...extra,
    });
    const context = lambdaContext(options.api, `gatehouse-local-${route.handler}`, integrationTimeoutMs, now);
    const fn = options.handlers[route.handler]!; // every route has an integration (checked above)
    let raw: unknown;
    try {
      raw = await withTimeout(async () => overTheWire(await fn(overTheWire(event) as typeof event, context)), integrationTimeoutMs);
    } catch {
      // The function failed (Lambda reports an error): API Gateway answers 502.
      return { reply: errorReply('INTEGRATION_FAILURE', request, route), answeredBy: 'integration' };
    }
    if (raw === TIMEOUT) return { reply: errorReply('INTEGRATION_TIMEOUT', request, route), answeredBy: 'integration' };
    const accept = header(request, 'accept');
    const reply = proxyResultToReply(raw, { ...(accept === undefined ? {} : { accept }), binaryMediaTypes });
    // "Malformed Lambda proxy response": 502 as well.
    return { reply: reply ?? errorReply('INTEGRATION_FAILURE', request, route), answeredBy: 'integration' };
  }

  async function handle(req: IncomingMessage): Promise<{ outcome: Outcome; request: Omit<GatewayRequest, 'body'> }> {
    const receivedAtMs = now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const base = {
      requestId: randomUUID(),
      extendedRequestId: randomBytes(12).toString('base64url').slice(0, 16),
      method: (req.method ?? 'GET').toUpperCase(),
      rawPath: q === -1 ? url : url.slice(0, q),
      rawQuery: q === -1 ? '' : url.slice(q + 1),
      rawHeaders: req.rawHeaders,
      sourceIp: normaliseIp(req.socket.remoteAddress),
      localPort: req.socket.localPort ?? 0,
      receivedAtMs,
      secure: (req.socket as { encrypted?: boolean }).encrypted === true,
      clientCert: clientCertificateOf(req.socket),
    };
    const answer = (reply: GatewayReply, answeredBy: string) => ({ outcome: { reply, answeredBy }, request: base });

    if (!ready) return answer(notReady(base.requestId, replyOptions), 'starting');

    // 1. WAF, before anything else.
    const verdict = waf.check({ sourceIp: base.sourceIp, header: (name) => header(base, name) }, receivedAtMs);
    if (verdict.blocked) return answer(wafRateLimited(base.requestId, replyOptions), 'waf');

    // 2. Stage throttling.
    if (!bucket.take(receivedAtMs)) return answer(errorReply('THROTTLED', base), 'throttle');

    // 3. Payload limit.
    const read = await readBody(req, maxPayloadBytes);
    if (!read.ok) return answer(errorReply('REQUEST_TOO_LARGE', base, undefined, { close: true }), 'payload');
    const request: GatewayRequest = { ...base, body: read.body };

    // 4. Resource and method; OPTIONS is the CORS preflight when CORS is configured.
    if (base.method === 'OPTIONS' && corsOrigins.length > 0) {
      const found = router.resource(base.rawPath);
      if (found) return answer(preflight(request, found), 'preflight');
    }
    const match = router.match(base.method, base.rawPath);
    if (!match) return answer(errorReply('MISSING_AUTHENTICATION_TOKEN', base), 'route');
    const { route, pathParameters } = match;

    // 5. Authorization.
    if (route.auth === 'iam') {
      const signature = await verifySigV4(request, options.iam, now());
      if (!signature.ok) {
        const type = signature.reason === 'missing' ? 'MISSING_AUTHENTICATION_TOKEN' : 'INVALID_SIGNATURE';
        return answer(errorReply(type, base, route), 'iam');
      }
      return { outcome: await integrate(request, route, pathParameters, { iam: iamCaller }), request: base };
    }
    if (route.auth === 'token') {
      const authorized = await authorize(request, route, pathParameters);
      if (!authorized.ok) return { outcome: authorized.outcome, request: base };
      return { outcome: await integrate(request, route, pathParameters, { authorizer: authorized.context }), request: base };
    }
    return { outcome: await integrate(request, route, pathParameters, {}), request: base };
  }

  function write(res: ServerResponse, requestId: string, reply: GatewayReply): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const headers = emptyRecord<string | string[]>();
    for (const [name, value] of Object.entries(reply.headers)) headers[name] = typeof value === 'string' ? value : [...value];
    headers['x-amzn-RequestId'] = requestId;
    // API Gateway answers with a Content-Length, never chunked.
    headers['Content-Length'] = String(Buffer.byteLength(reply.body));
    if (reply.close) headers.Connection = 'close';
    res.writeHead(reply.status, headers);
    res.end(reply.body);
  }

  return {
    markReady() {
      ready = true;
    },
    listener(req, res) {
      const started = now();
      handle(req)
        .then(({ outcome, request }) => {
          write(res, request.requestId, outcome.reply);
          options.onRequest?.({
            requestId: request.requestId,
            method: request.method,
            path: request.rawPath,
            status: outcome.reply.status,
            durationMs: now() - started,
            sourceIp: request.sourceIp,
            answeredBy: outcome.answeredBy,
          });
        })
        .catch(() => {
          // A bug in the gateway itself (or a broken connection): the generic 5XX response.
          const requestId = randomUUID();
          write(res, requestId, errorReply('DEFAULT_5XX', { requestId, method: (req.method ?? '').toUpperCase() }));
        });
    },
  };
}
