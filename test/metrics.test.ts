/**
 * Issue 13, metrics: the EMF documents the code writes to stdout — from real invocations of the authorizer's Lambda
 * handler, a handler group's Lambda handler, the JWKS mirror and the bookkeeper — match the catalog exactly
 * (namespace, one dimension set per document as declared for each of its metrics, names, units), and no dimension
 * value is a key id, a tenant or anything outside the bounded vocabularies. Then the authorizer's classification of
 * decisions through an injected sink.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createAuthorizer } from '../lambdas/authorizer/authorizer.js';
import { createBookkeeperHandler } from '../lambdas/bookkeeper/handler.js';
import { encodeLogsEvent } from '../lambdas/bookkeeper/logs-event.js';
import { generateApiKey } from '../lambdas/core/api-key.js';
import { BOOKKEEPING_KINDS, refusalLine, usageLine } from '../lambdas/core/bookkeeping-channel.js';
import { DecisionCache } from '../lambdas/core/decision-cache.js';
import { DependencyError } from '../lambdas/core/errors.js';
import { writeJwks } from '../lambdas/core/jwks-store.js';
import { issueKey } from '../lambdas/core/key-issuer.js';
import { DynamoKeyStore } from '../lambdas/core/key-store.js';
import { DEFAULT_DIMENSIONS, METRICS, METRICS_NAMESPACE, type MetricName } from '../lambdas/core/metrics-catalog.js';
import {
  createEmfMetrics,
  DECISION_CREDENTIALS,
  DECISION_OUTCOMES,
  DEPENDENCIES,
  REFUSAL_REASONS,
  STATUS_CLASSES,
  UNMATCHED_ROUTE,
  type MetricsSink,
} from '../lambdas/core/metrics.js';
import { PepperProvider, StaticPepperSource } from '../lambdas/core/pepper.js';
import { routeKeyOf } from '../lambdas/core/api-definition.js';
import { createMirrorHandler } from '../lambdas/jwks-mirror/handler.js';
import { GATEHOUSE_API } from '../lambdas/routes.js';
import { apiEvent, lambdaContext, principal } from './support/api-events.js';
import { batchOf, captureStdout } from './support/bookkeeping.js';
import { captureLog } from './support/capture-log.js';
import { startDynalite, type TestDynamo } from './support/dynalite.js';
import { authorizerEvent } from './support/events.js';
import { makeSigningKey } from './support/tokens.js';

const PEPPER = 'metrics-pepper-'.padEnd(48, 'm');
let dynamo: TestDynamo;
let jwksServer: Server;
let jwksUri: string;
const saved = { ...process.env };
const signer = makeSigningKey();

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-metrics');
  jwksServer = createServer((req, res) => {
    if (req.url === '/broken') res.writeHead(500).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [signer.jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
});
afterAll(async () => {
  await dynamo.stop();
  await new Promise((resolve) => jwksServer.close(resolve));
});
afterEach(() => {
  process.env = { ...saved };
  vi.restoreAllMocks();
});

const lambdaEnv = (extra: Record<string, string> = {}) => ({
  ...saved,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  GATEHOUSE_TABLE_NAME: dynamo.tableName,
  GATEHOUSE_LOCAL_PEPPER: PEPPER,
  GATEHOUSE_KEY_ENV: 'test',
  GATEHOUSE_DEPLOYMENT: 'metrics-test',
  ...extra,
});

type Emf = Record<string, unknown> & { _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } };

/** Every EMF document in captured stdout. */
function emfDocuments(text: string): Emf[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{"_aws"'))
    .map((line) => JSON.parse(line) as Emf);
}

const ROUTE_KEYS = new Set([...GATEHOUSE_API.routes.map(routeKeyOf), UNMATCHED_ROUTE]);

/**
 * The vocabulary of each dimension. `issuer` and `service` are given per test (the configured hosts, the function).
 */
function vocabulary(dimension: string, issuers: readonly string[], services: readonly string[]): ReadonlySet<string> {
  const sets: Record<string, readonly string[]> = {
    deployment: ['metrics-test'],
    service: services,
    outcome: DECISION_OUTCOMES,
    credential: DECISION_CREDENTIALS,
    reason: REFUSAL_REASONS,
    dependency: DEPENDENCIES,
    route: [...ROUTE_KEYS],
    status: STATUS_CLASSES,
    issuer: issuers,
    kind: BOOKKEEPING_KINDS,
  };
  const values = sets[dimension];
  if (!values) throw new Error(`dimension ${dimension} has no vocabulary: add it to the catalog test`);
  return new Set(values);
}

/** Checks one document against the catalog; returns the metric names it carries. */
function checkDocument(doc: Emf, context: { issuers?: readonly string[]; services: readonly string[]; forbidden: readonly string[] }): MetricName[] {
  const directives = doc._aws.CloudWatchMetrics;
  expect(directives).toHaveLength(1);
  const [directive] = directives;
  expect(directive!.Namespace).toBe(METRICS_NAMESPACE);
  expect(Number.isInteger(doc._aws.Timestamp)).toBe(true);
  expect(directive!.Dimensions).toHaveLength(1);
  const dimensionSet = [...directive!.Dimensions[0]!].sort();
  const names: MetricName[] = [];
  for (const metric of directive!.Metrics) {
    expect(Object.keys(METRICS)).toContain(metric.Name);
    const declared = METRICS[metric.Name as MetricName];
    expect(metric.Unit).toBe(declared.unit);
    expect(dimensionSet).toEqual([...DEFAULT_DIMENSIONS, ...declared.dimensions].sort());
    const value = doc[metric.Name];
    expect(typeof value === 'number' || (Array.isArray(value) && value.every((v) => typeof v === 'number'))).toBe(true);
    names.push(metric.Name as MetricName);
  }
  for (const dimension of dimensionSet) {
    const value = doc[dimension];
    expect(typeof value).toBe('string');
    expect(vocabulary(dimension, context.issuers ?? [], context.services).has(value as string), `${dimension}=${String(value)}`).toBe(true);
    for (const secret of context.forbidden) expect(value).not.toContain(secret);
  }
  return names;
}

describe('issue 13: the EMF documents match the catalog', () => {
  it('issue 13: the authorizer Lambda writes Decisions, Refusals, DependencyFailures, the cache and DecisionLatency as declared', async () => {
    const peppers = new PepperProvider(new StaticPepperSource(PEPPER), { refreshSeconds: 300, maxStaleSeconds: 600 });
    const { key, record } = await issueKey(
      { store: new DynamoKeyStore(dynamo.doc, dynamo.tableName), peppers, environment: 'test' },
      { tenant: 'metrics-tenant-a', name: 'k', scopes: ['items:read'], createdBy: 'test' },
    );
    const out = captureStdout();
    process.env = lambdaEnv();
    vi.resetModules();
    const handler = (await import('../lambdas/authorizer/handler.js')).handler;
    await handler(authorizerEvent({ headers: { 'X-API-Key': key } }));
    await handler(authorizerEvent({ headers: { 'X-API-Key': key } })); // from the decision cache
    const refused: Record<string, string>[] = [{}, { 'X-API-Key': generateApiKey('test', record.id).key }, { Authorization: 'Basic x' }, { Authorization: 'Bearer a.b.c' }];
    for (const headers of refused) {
      await handler(authorizerEvent({ headers })).catch(() => undefined);
    }
    // A store that cannot be reached: a failure, never an allow.
    process.env = lambdaEnv({ AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' });
    vi.resetModules();
    const unreachable = (await import('../lambdas/authorizer/handler.js')).handler;
    await expect(unreachable(authorizerEvent({ headers: { 'X-API-Key': generateApiKey('test').key } }))).rejects.toThrow('AuthorizerFailure');
    out.restore();

    const docs = emfDocuments(out.text());
    const seen = new Set(docs.flatMap((d) => checkDocument(d, { services: ['gatehouse-authorizer'], forbidden: [record.id, 'metrics-tenant-a', key] })));
    expect([...seen].sort()).toEqual(['DecisionCacheHits', 'DecisionCacheMisses', 'DecisionLatency', 'Decisions', 'DependencyFailures', 'Refusals']);
    const decisions = docs.filter((d) => 'Decisions' in d).map((d) => `${String(d.outcome)}/${String(d.credential)}`);
    expect(decisions).toEqual(['allow/api_key', 'allow/api_key', 'refused/none', 'refused/api_key', 'refused/unknown', 'refused/jwt', 'failure/api_key']);
    expect(docs.filter((d) => 'Refusals' in d).map((d) => d.reason)).toEqual(['missing', 'secret_mismatch', 'unsupported_scheme', 'malformed']);
    expect(docs.find((d) => 'DependencyFailures' in d)).toMatchObject({ dependency: 'store', DependencyFailures: 1 });
    // One flush per invocation: the documents of one decision share its timestamp, and there are 2–3 per decision.
    expect(docs.length).toBeGreaterThanOrEqual(7 * 2);
    expect(docs.length).toBeLessThanOrEqual(7 * 3);
  });

  it('issue 13: a handler Lambda counts Requests by route key and status class, unknown routes as `unmatched`', async () => {
    const out = captureStdout();
    process.env = lambdaEnv();
    vi.resetModules();
    const whoami = (await import('../lambdas/api/whoami/index.js')).handler;
    const ok = await whoami(apiEvent({ method: 'GET', path: '/v1/whoami', principal: principal('metrics-tenant-b') }), lambdaContext());
    const stranger = { ...apiEvent({ method: 'GET', path: '/v1/whoami', principal: principal('metrics-tenant-b') }), resource: '/v1/whoami/gth_test_notaroute', path: '/v1/whoami/x' };
    const missing = await whoami(stranger, lambdaContext());
    const anonymous = apiEvent({ method: 'GET', path: '/v1/whoami' });
    const refused = await whoami(anonymous, lambdaContext());
    out.restore();
    expect([ok.statusCode, missing.statusCode, refused.statusCode]).toEqual([200, 404, 401]);

    const docs = emfDocuments(out.text());
    for (const doc of docs) expect(checkDocument(doc, { services: ['gatehouse-whoami'], forbidden: ['metrics-tenant-b', 'gth_test'] })).toEqual(['Requests']);
    expect(docs.map((d) => `${String(d.route)} ${String(d.status)}`)).toEqual(['GET /v1/whoami 2xx', 'unmatched 4xx', 'GET /v1/whoami 4xx']);
  });

  it('issue 13: the JWKS mirror writes JwksFetches, JwksFetchFailures and JwksCopyAge per issuer host', async () => {
    // Two issuers on two hosts (the same server by two names): one document per host.
    const broken = jwksUri.replace('/jwks.json', '/broken').replace('127.0.0.1', 'localhost');
    const env = {
      GATEHOUSE_TABLE_NAME: dynamo.tableName,
      GATEHOUSE_DEPLOYMENT: 'metrics-test',
      GATEHOUSE_OIDC_ISSUERS: JSON.stringify([
        { issuer: 'http://127.0.0.1/a', jwksUri, audience: ['x'] },
        { issuer: 'http://127.0.0.1/b', jwksUri: broken, audience: ['x'] },
      ]),
    };
    // The broken issuer's last good copy is 10 minutes old: its age is what an alarm must see.
    await writeJwks(dynamo.doc, dynamo.tableName, broken, JSON.stringify({ keys: [signer.jwk] }), new Date(Date.now() - 600_000).toISOString());
    const out = captureStdout();
    const mirror = createMirrorHandler({ env, doc: dynamo.doc, log: captureLog() });
    await expect(mirror({})).rejects.toThrow(/JWKS mirror failed/);
    out.restore();
    const hosts = [new URL(jwksUri).host, new URL(broken).host];
    const docs = emfDocuments(out.text());
    expect(docs).toHaveLength(2);
    for (const doc of docs) expect(checkDocument(doc, { services: ['gatehouse-jwks-mirror'], issuers: hosts, forbidden: ['/jwks.json', '/broken'] })).toEqual(['JwksFetches', 'JwksFetchFailures', 'JwksCopyAge']);
    expect(docs.map((d) => [d.issuer, d.JwksFetches, d.JwksFetchFailures])).toEqual([[hosts[0], 1, 0], [hosts[1], 1, 1]]);
    expect(docs[0]?.JwksCopyAge).toBeLessThan(5);
    expect(docs[1]?.JwksCopyAge).toBeGreaterThanOrEqual(600);
    expect(docs[1]?.JwksCopyAge).toBeLessThan(700);
  });

  it('issue 13: the bookkeeper writes BookkeepingRecords per kind, and BookkeepingFailures when a write fails', async () => {
    const at = Date.now();
    const lines = [
      usageLine('MetricKey001', 'metrics-tenant-c', at),
      usageLine('MetricKey001', 'metrics-tenant-c', at),
      refusalLine({ reason: 'revoked', credentialKind: 'api_key', keyId: 'MetricKey002', tenant: 'metrics-tenant-c', method: 'GET', path: '/v1/items', mode: 'enforce', outcome: 'denied' }, at),
    ].join('');
    const event = encodeLogsEvent({ logGroup: 'g', logStream: 'metrics', lines: batchOf(lines).lines });
    const out = captureStdout();
    await createBookkeeperHandler({ env: { GATEHOUSE_TABLE_NAME: dynamo.tableName, GATEHOUSE_DEPLOYMENT: 'metrics-test' }, doc: dynamo.doc, log: captureLog() })(event);
    const failing = createBookkeeperHandler({ env: { GATEHOUSE_TABLE_NAME: 'no-such-table', GATEHOUSE_DEPLOYMENT: 'metrics-test' }, doc: dynamo.doc, log: captureLog() });
    await expect(failing(encodeLogsEvent({ logGroup: 'g', logStream: 'metrics-2', lines: batchOf(lines).lines }))).rejects.toThrow(/will be retried/);
    out.restore();
    const docs = emfDocuments(out.text());
    for (const doc of docs) checkDocument(doc, { services: ['gatehouse-bookkeeper'], forbidden: ['MetricKey001', 'MetricKey002', 'metrics-tenant-c'] });
    const view = docs.map((d) => `${Object.keys(METRICS).find((m) => m in d)}:${String(d.kind)}=${String(d.BookkeepingRecords ?? d.BookkeepingFailures)}`);
    expect(view.sort()).toEqual(['BookkeepingFailures:refusal=2', 'BookkeepingFailures:usage=1', 'BookkeepingRecords:refusal=1', 'BookkeepingRecords:usage=2']);
  });

  it('issue 13: the sink keeps only the declared dimensions, whatever a caller passes', () => {
    const written: string[] = [];
    const sink = createEmfMetrics({ service: 'svc', deployment: 'metrics-test', write: (d) => void written.push(d) });
    // A dimension the catalog does not declare for the metric (here: a tenant) never reaches the document.
    const smuggled: Record<string, string> = { tenant: 'metrics-tenant-d' };
    sink.add('DecisionLatency', 1.5, smuggled);
    sink.add('Refusals', 1, { reason: 'expired', keyId: 'AbCdEf012345' } as { reason: string });
    sink.flush();
    sink.flush(); // nothing added since: nothing written
    expect(written).toHaveLength(2);
    expect(written.join('\n')).not.toMatch(/metrics-tenant-d|AbCdEf012345/);
    for (const doc of written.map((d) => JSON.parse(d) as Emf)) checkDocument(doc, { services: ['svc'], forbidden: [] });
  });
});

/** A sink that keeps what it is given (the authorizer's metrics seen from a test). */
function recordingSink(): MetricsSink & { added: { name: MetricName; value: number; dimensions: Record<string, string> }[]; flushes: number } {
  const sink = {
    added: [] as { name: MetricName; value: number; dimensions: Record<string, string> }[],
    flushes: 0,
    add: (name: MetricName, value: number, dimensions: Record<string, string>) => void sink.added.push({ name, value, dimensions }),
    flush: () => void sink.flushes++,
  };
  return sink as MetricsSink & typeof sink;
}

describe('issue 13: the authorizer classifies every decision for its metrics', () => {
  const principalOf = (tenant: string, keyId?: string) => ({ principalId: keyId ? `key:${keyId}` : 'sub', authMethod: keyId ? ('api_key' as const) : ('jwt' as const), tenant, scopes: ['items:read'], admin: false, ...(keyId ? { keyId } : {}) });
  const build = (mode: 'enforce' | 'audit' | 'off', verify: (key: string) => Promise<never> | Promise<unknown>) => {
    const metrics = recordingSink();
    const decide = createAuthorizer({
      api: GATEHOUSE_API,
      mode,
      anonymousScopes: ['items:read'],
      keys: { verify: verify as never },
      tokens: { verify: () => Promise.resolve({ ok: true, principal: principalOf('t'), expiresAtMs: Date.now() + 60_000 }) as never },
      cache: new DecisionCache({ maxEntries: 10, positiveTtlMs: 5000, negativeTtlMs: 0 }),
      log: captureLog(),
      metrics,
    });
    return { decide, metrics };
  };
  const key = generateApiKey('test').key;
  const names = (m: ReturnType<typeof recordingSink>) => m.added.map((a) => `${a.name}${Object.keys(a.dimensions).length ? ` ${Object.values(a.dimensions).join('/')}` : ''}`);

  it('issue 13: allow, cache hit, refusal, audit-mode anonymous, off mode and a dependency failure', async () => {
    const ok = build('enforce', () => Promise.resolve({ ok: true, principal: principalOf('t', 'AbCdEf012345'), usableUntilMs: Date.now() + 60_000, record: {} }));
    const results: APIGatewayAuthorizerResult[] = [];
    results.push(await ok.decide(authorizerEvent({ headers: { 'X-API-Key': key } })));
    results.push(await ok.decide(authorizerEvent({ headers: { 'X-API-Key': key } })));
    expect(names(ok.metrics)).toEqual([
      'Decisions allow/api_key',
      'DecisionCacheMisses',
      'DecisionLatency',
      'Decisions allow/api_key',
      'DecisionCacheHits',
      'DecisionLatency',
    ]);
    expect(ok.metrics.added.filter((a) => a.name === 'DecisionLatency').every((a) => a.value >= 0)).toBe(true);
    expect(ok.metrics.flushes).toBe(0); // the caller flushes, once per invocation

    const refused = build('enforce', () => Promise.resolve({ ok: false, reason: 'revoked', keyId: 'AbCdEf012345', tenant: 't' }));
    await expect(refused.decide(authorizerEvent({ headers: { 'X-API-Key': key } }))).rejects.toThrow(/^Unauthorized$/);
    expect(names(refused.metrics)).toEqual(['Refusals revoked', 'Decisions refused/api_key', 'DecisionCacheMisses', 'DecisionLatency']);

    const audit = build('audit', () => Promise.resolve({ ok: false, reason: 'some_new_reason' }));
    const anonymous = await audit.decide(authorizerEvent({ headers: { 'X-API-Key': key } }));
    expect(anonymous.context?.principalId).toBe('anonymous');
    expect(names(audit.metrics)).toEqual(['Refusals other', 'Decisions allow/anonymous', 'DecisionCacheMisses', 'DecisionLatency']);

    const off = build('off', () => Promise.reject(new Error('never called')));
    await off.decide(authorizerEvent({ headers: {} }));
    expect(names(off.metrics)).toEqual(['Decisions allow/anonymous', 'DecisionLatency']);

    for (const [error, dependency] of [
      [new DependencyError('key-store', new Error('down')), 'store'],
      [new DependencyError('pepper', new Error('down')), 'pepper'],
      [new Error('wrapped', { cause: new DependencyError('jwks', new Error('down')) }), 'jwks'],
      [new TypeError('bug'), 'other'],
    ] as const) {
      const failing = build('enforce', () => Promise.reject(error));
      await expect(failing.decide(authorizerEvent({ headers: { 'X-API-Key': key } }))).rejects.toBe(error);
      expect(names(failing.metrics)).toEqual(['Decisions failure/api_key', `DependencyFailures ${dependency}`, 'DecisionCacheMisses', 'DecisionLatency']);
    }
    void (results satisfies APIGatewayAuthorizerResult[]);
    void ({} as APIGatewayRequestAuthorizerEvent);
  });
});
