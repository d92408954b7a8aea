/**
 * The events a REST API (v1 payload) hands to Lambda: the REQUEST authorizer event and the proxy integration
 * event, built from the real HTTP request.
 *
 * What REST APIs do, and so what this does:
 * - `headers` holds the last value of each header, `multiValueHeaders` every value; names keep the case the
 *   client sent. API Gateway adds `X-Forwarded-For` (appending the source IP), `X-Forwarded-Port`, `X-Forwarded-Proto`.
 * - `path` is the raw (still percent-encoded) path; `pathParameters` and query values are URL-decoded.
 * - The proxy event has `null` for absent query, path parameters, stage variables and body; the authorizer event
 *   has empty objects.
 * - `methodArn` = `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{actual path}`.
 * - `resource` and `requestContext.resourcePath` are the route's template (`/v1/keys/{keyId}`).
 * Header, query and path parameter maps are built without a prototype (records.ts), so a client's `constructor` or
 * `__proto__` is just a name; the gateway hands the events to the functions as JSON, as Lambda does.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayEventClientCertificate, APIGatewayEventIdentity, APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import type { Route } from '../../lambdas/core/api-definition.js';
import { emptyRecord } from './records.js';

/** Where the local REST API "is": the parts of every ARN and request context. */
export interface ApiCoordinates {
  readonly region: string;
  readonly accountId: string;
  readonly apiId: string;
  readonly stage: string;
}

/** The HTTP request as the gateway received it (body already read). */
export interface GatewayRequest {
  readonly requestId: string;
  readonly extendedRequestId: string;
  readonly method: string;
  /** Path as sent, percent-encoded, without the query. */
  readonly rawPath: string;
  /** Query string as sent, without `?` ('' when none). */
  readonly rawQuery: string;
  /** Node's `rawHeaders`: name, value, name, value… with the client's case. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly localPort: number;
  readonly receivedAtMs: number;
  /** Received over TLS (`npm start -- --https`). */
  readonly secure?: boolean;
  /** The client certificate the TLS layer validated (`--mtls`), as API Gateway hands it on (local/tls). */
  readonly clientCert?: APIGatewayEventClientCertificate | null;
}

export interface HeaderMaps {
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
}

/** Header maps as API Gateway builds them, with its X-Forwarded-* headers. */
export function headerMaps(request: GatewayRequest): HeaderMaps {
  const multiValueHeaders = emptyRecord<string[]>();
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] ?? '';
    const value = request.rawHeaders[i + 1] ?? '';
    (multiValueHeaders[name] ??= []).push(value);
  }
  const forwarded = (name: string, value: string, append: boolean) => {
    const existing = Object.keys(multiValueHeaders).find((k) => k.toLowerCase() === name.toLowerCase());
    if (existing !== undefined && append) {
      const values = multiValueHeaders[existing] ?? [];
      const last = values.pop();
      multiValueHeaders[existing] = [...values, last === undefined || last === '' ? value : `${last}, ${value}`];
    } else {
      if (existing !== undefined) delete multiValueHeaders[existing];
      multiValueHeaders[name] = [value];
    }
  };
  forwarded('X-Forwarded-For', request.sourceIp, true);
  forwarded('X-Forwarded-Port', String(request.localPort), false);
  forwarded('X-Forwarded-Proto', request.secure ? 'https' : 'http', false);
  const headers = emptyRecord<string>();
  for (const [name, values] of Object.entries(multiValueHeaders)) headers[name] = values[values.length - 1] ?? '';
  return { headers, multiValueHeaders };
}

/** Last value of a header by case-insensitive name, from the raw headers (undefined when absent). */
export function lastHeader(rawHeaders: readonly string[], lowerName: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] ?? '').toLowerCase() === lowerName) value = rawHeaders[i + 1];
  }
  return value;
}

function decodeQueryPart(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return part;
  }
}

export interface QueryMaps {
  readonly queryStringParameters: Record<string, string>;
  readonly multiValueQueryStringParameters: Record<string, string[]>;
}

export function queryMaps(rawQuery: string): QueryMaps | undefined {
  if (rawQuery === '') return undefined;
  const multi = emptyRecord<string[]>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeQueryPart(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeQueryPart(pair.slice(eq + 1));
    (multi[name] ??= []).push(value);
  }
  if (Object.keys(multi).length === 0) return undefined;
  const single = emptyRecord<string>();
  for (const [name, values] of Object.entries(multi)) single[name] = values[values.length - 1] ?? '';
  return { queryStringParameters: single, multiValueQueryStringParameters: multi };
}

export function methodArn(api: ApiCoordinates, method: string, rawPath: string): string {
  return `arn:aws:execute-api:${api.region}:${api.accountId}:${api.apiId}/${api.stage}/${method}${rawPath}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `$context.requestTime`: `09/Apr/2015:12:34:56 +0000`. */
export function requestTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** The IAM caller API Gateway puts into `requestContext.identity` after a valid SigV4 signature. */
export interface IamCaller {
  readonly accessKey: string;
  readonly accountId: string;
  /** The IAM user id (`AIDA…`), API Gateway's `caller` and `user`. */
  readonly userId: string;
  readonly userArn: string;
}

function identityOf(request: GatewayRequest, iam: IamCaller | undefined): APIGatewayEventIdentity {
  return {
    accessKey: iam?.accessKey ?? null,
    accountId: iam?.accountId ?? null,
    apiKey: null,
    apiKeyId: null,
    caller: iam?.userId ?? null,
    clientCert: request.clientCert ?? null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: request.sourceIp,
    user: iam?.userId ?? null,
    userAgent: lastHeader(request.rawHeaders, 'user-agent') ?? null,
    userArn: iam?.userArn ?? null,
  };
}

function resourceIdOf(route: Route): string {
  // A stable 6-character id per resource, like API Gateway's.
  let h = 0;
  for (const ch of route.path) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return h.toString(36).padStart(6, '0').slice(-6);
}

interface EventInput {
  readonly api: ApiCoordinates;
  readonly request: GatewayRequest;
  readonly route: Route;
  readonly pathParameters: Readonly<Record<string, string>>;
}

function baseRequestContext({ api, request, route }: EventInput, iam?: IamCaller) {
  const host = lastHeader(request.rawHeaders, 'host') ?? `localhost:${request.localPort}`;
  return {
    accountId: api.accountId,
    apiId: api.apiId,
    domainName: host,
    domainPrefix: host.split('.')[0]?.split(':')[0] ?? host,
    extendedRequestId: request.extendedRequestId,
    httpMethod: request.method,
    identity: identityOf(request, iam),
    // The local stack serves the stage at the root, as a custom domain with a base path mapping does.
    path: request.rawPath,
    protocol: 'HTTP/1.1',
    requestId: request.requestId,
    requestTime: requestTime(request.receivedAtMs),
    requestTimeEpoch: request.receivedAtMs,
    resourceId: resourceIdOf(route),
    resourcePath: route.path,
    stage: api.stage,
  };
}

export function authorizerEvent(input: EventInput): APIGatewayRequestAuthorizerEvent {
  const { request, route } = input;
  const { headers, multiValueHeaders } = headerMaps(request);
  const query = queryMaps(request.rawQuery);
  return {
    type: 'REQUEST',
    methodArn: methodArn(input.api, request.method, request.rawPath),
    resource: route.path,
    path: request.rawPath,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    pathParameters: { ...input.pathParameters },
    queryStringParameters: query?.queryStringParameters ?? {},
    multiValueQueryStringParameters: query?.multiValueQueryStringParameters ?? {},
    stageVariables: {},
    requestContext: baseRequestContext(input) as unknown as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

export interface ProxyEventInput extends EventInput {
  /** `requestContext.authorizer`: principalId and the context values as strings (token routes only). */
  readonly authorizer?: Record<string, string | number>;
  readonly iam?: IamCaller;
  /** Body as base64 (`isBase64Encoded: true`) when its Content-Type is one of the API's binary media types. */
  readonly binaryBody: boolean;
}

export function proxyEvent(input: ProxyEventInput): APIGatewayProxyEvent {
  const { request, route } = input;
  const { headers, multiValueHeaders } = headerMaps(request);
  const query = queryMaps(request.rawQuery);
  const hasParams = Object.keys(input.pathParameters).length > 0;
  const body = request.body.length === 0 ? null : request.body.toString(input.binaryBody ? 'base64' : 'utf8');
  return {
    resource: route.path,
    path: request.rawPath,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: query?.queryStringParameters ?? null,
    multiValueQueryStringParameters: query?.multiValueQueryStringParameters ?? null,
    pathParameters: hasParams ? { ...input.pathParameters } : null,
    stageVariables: null,
    body,
    isBase64Encoded: body !== null && input.binaryBody,
    requestContext: {
      ...baseRequestContext(input, input.iam),
      ...(input.authorizer ? { authorizer: input.authorizer } : {}),
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

/** The Lambda context of one invocation. */
export function lambdaContext(api: ApiCoordinates, functionName: string, timeoutMs: number, now: () => number): Context {
  const deadline = now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${api.region}:${api.accountId}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${requestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
