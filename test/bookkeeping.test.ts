/**
 * Issue 13, durable bookkeeping: the authorizer writes one line per allowed key request and per refusal to stdout
 * before it answers; the bookkeeper stores them from CloudWatch Logs batches. Real dynalite, the real Lambda entry
 * points (the authorizer's handler.ts with its module state, the bookkeeper's handler.ts with a gzip+base64
 * CloudWatch Logs event).
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { BookkeepingError } from '../lambdas/bookkeeper/bookkeeper.js';
import { BOOKKEEPER } from '../lambdas/bookkeeper/definition.js';
import { createBookkeeperHandler } from '../lambdas/bookkeeper/handler.js';
import { decodeLogsEvent, encodeLogsEvent } from '../lambdas/bookkeeper/logs-event.js';
import { generateApiKey } from '../lambdas/core/api-key.js';
import { SYSTEM_TENANT, type AuditEvent, type AuditEventInput } from '../lambdas/core/audit.js';
import { AuditStore } from '../lambdas/core/audit-store.js';
import {
  BOOKKEEPING_FILTER_PATTERN,
  parseBookkeepingLine,
  refusalLine,
  usageLine,
  type RefusalFacts,
} from '../lambdas/core/bookkeeping-channel.js';
import { issueKey } from '../lambdas/core/key-issuer.js';
import { DynamoKeyStore } from '../lambdas/core/key-store.js';
import { NO_METRICS } from '../lambdas/core/metrics.js';
import { PepperProvider, StaticPepperSource } from '../lambdas/core/pepper.js';
import type { CountableAuditSink } from '../lambdas/core/refusal-recorder.js';
import { UsageStore } from '../lambdas/core/usage-store.js';
import { batchOf, captureStdout, selectedByFilter, testBookkeeper } from './support/bookkeeping.js';
import { captureLog } from './support/capture-log.js';
import { startDynalite, type TestDynamo } from './support/dynalite.js';
import { authorizerEvent } from './support/events.js';
import { makeSigningKey, signRs256 } from './support/tokens.js';

const PEPPER = 'bookkeeping-pepper-'.padEnd(48, 'b');
let dynamo: TestDynamo;
const saved = { ...process.env };

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-bookkeeping');
});
afterAll(() => dynamo.stop());
afterEach(() => {
  process.env = { ...saved };
  vi.restoreAllMocks();
});

/** The authorizer's Lambda module, loaded fresh (a new container) with its configuration in the environment. */
async function coldAuthorizer(env: Record<string, string> = {}): Promise<(e: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>> {
  process.env = {
    ...saved,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    GATEHOUSE_TABLE_NAME: dynamo.tableName,
    GATEHOUSE_LOCAL_PEPPER: PEPPER,
    GATEHOUSE_KEY_ENV: 'test',
    ...env,
  };
  vi.resetModules();
  return (await import('../lambdas/authorizer/handler.js')).handler;
}

/** The bookkeeper's Lambda entry point on the test table (a new container each call). */
function bookkeeperLambda() {
  return createBookkeeperHandler({ env: { GATEHOUSE_TABLE_NAME: dynamo.tableName }, doc: dynamo.doc, log: captureLog(), metrics: NO_METRICS });
}

async function storedKey(tenant: string) {
  const peppers = new PepperProvider(new StaticPepperSource(PEPPER), { refreshSeconds: 300, maxStaleSeconds: 600 });
  return issueKey({ store: new DynamoKeyStore(dynamo.doc, dynamo.tableName), peppers, environment: 'test' }, { tenant, name: 'k', scopes: ['items:read'], createdBy: 'test' });
}

async function auditOf(tenant: string, day: string): Promise<AuditEvent[]> {
  const store = new AuditStore(dynamo.doc, dynamo.tableName, { retentionDays: 7 });
  const out: AuditEvent[] = [];
  let token: string | undefined;
  do {
    const page = await store.query({ tenant, from: `${day}T00:00:00Z`, to: `${day}T23:59:59Z`, limit: 100, ...(token ? { nextToken: token } : {}) });
    out.push(...page.events);
    token = page.nextToken;
  } while (token);
  return out;
}

const today = () => new Date().toISOString().slice(0, 10);
const sum = (events: AuditEvent[]) => events.reduce((n, e) => n + Number(e.details?.count), 0);

describe('the bookkeeping channel', () => {
  it('issue 13: the subscription filter selects exactly the bookkeeping lines', () => {
    expect(BOOKKEEPING_FILTER_PATTERN).toBe('{ ($.gatehouseRecord = "usage") || ($.gatehouseRecord = "refusal") }');
    expect(BOOKKEEPER.filterPattern).toBe(BOOKKEEPING_FILTER_PATTERN);
    const facts: RefusalFacts = { reason: 'unknown', credentialKind: 'api_key', method: 'GET', path: '/v1/items', mode: 'enforce', outcome: 'denied' };
    for (const line of [usageLine('AbCdEf012345', 'acme', 1), refusalLine(facts, 1)]) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.indexOf('\n')).toBe(line.length - 1); // one line, one log event
      expect(selectedByFilter(line.trimEnd())).toBe(true);
      expect(parseBookkeepingLine(line.trimEnd())).toBeDefined();
    }
    // Logger and EMF lines are not selected.
    expect(selectedByFilter('{"level":"INFO","message":"auth mode recorded","service":"gatehouse-authorizer"}')).toBe(false);
    expect(selectedByFilter('{"_aws":{"CloudWatchMetrics":[]},"Decisions":1}')).toBe(false);
  });

  it('issue 13: lines are short and a refusal line is bounded whatever the request carried', () => {
    expect(usageLine('AbCdEf012345', 'acme', Date.parse('2026-12-02T00:00:00Z')).length).toBeLessThan(100);
    const huge: RefusalFacts = {
      reason: 'x'.repeat(10_000),
      credentialKind: 'api_key',
      sourceIp: '1'.repeat(10_000),
      method: 'GET'.repeat(100),
      path: `/${'p'.repeat(100_000)}`,
      mode: 'enforce',
      outcome: 'denied',
      tenant: 't'.repeat(256),
    };
    const line = refusalLine(huge, Date.now());
    expect(line.length).toBeLessThan(900);
    expect(parseBookkeepingLine(line.trimEnd())).toMatchObject({ kind: 'refusal', credentialKind: 'api_key' });
  });
});

describe('issue 13: usage and refusals survive a frozen authorizer', () => {
  it('issue 13: every allowed request is counted though the container that served it is gone before any flush', async () => {
    const { key, record } = await storedKey('frozen-a');
    const out = captureStdout();
    const container: { handler?: Awaited<ReturnType<typeof coldAuthorizer>> } = { handler: await coldAuthorizer() };
    const handler = container.handler!;
    for (let i = 0; i < 7; i++) await handler(authorizerEvent({ headers: { 'X-API-Key': key } }));
    await expect(handler(authorizerEvent({ headers: { 'X-API-Key': generateApiKey('test', record.id).key }, sourceIp: '198.51.100.23' }))).rejects.toThrow(/^Unauthorized$/);
    out.restore();
    // Frozen and reaped: no timer, no flush, no later invocation. Only what reached stdout remains.
    delete container.handler;
    vi.resetModules();

    const logs = encodeLogsEvent({ logGroup: '/aws/lambda/gatehouse-authorizer', logStream: '2026/12/02/[$LATEST]frozen', lines: batchOf(out.text()).lines });
    expect(decodeLogsEvent(logs).lines).toHaveLength(8);
    const outcome = await bookkeeperLambda()(logs);
    expect(outcome).toMatchObject({ usageLines: 7, refusalLines: 1, ignoredLines: 0 });
    expect(await new UsageStore(dynamo.doc, dynamo.tableName).listForTenant('frozen-a')).toEqual([
      { keyId: record.id, requests: 7, lastUsedAt: expect.any(String) as string },
    ]);
    expect(await auditOf('frozen-a', today())).toMatchObject([
      { type: 'credential.refused', reason: 'secret_mismatch', keyId: record.id, sourceIp: '198.51.100.23', details: { count: 1 } },
    ]);
  });

  it('issue 13: a retried batch is counted once: usage in any container, refusals in the container that counted them', async () => {
    const { key, record } = await storedKey('retried-a');
    const out = captureStdout();
    const handler = await coldAuthorizer();
    for (let i = 0; i < 4; i++) await handler(authorizerEvent({ headers: { 'X-API-Key': key } }));
    for (let i = 0; i < 3; i++) {
      await expect(handler(authorizerEvent({ headers: { 'X-API-Key': generateApiKey('test', record.id).key }, sourceIp: '198.51.100.24' }))).rejects.toThrow(/^Unauthorized$/);
    }
    out.restore();
    const logs = encodeLogsEvent({ logGroup: 'g', logStream: 'retried', lines: batchOf(out.text()).lines });

    const container = bookkeeperLambda();
    await container(logs);
    expect(await container(logs)).toMatchObject({ repeated: true, duplicateKeys: 1 }); // Lambda's async retry, same container
    expect(await bookkeeperLambda()(logs)).toMatchObject({ repeated: false, duplicateKeys: 1 }); // … another container
    expect((await new UsageStore(dynamo.doc, dynamo.tableName).listForTenant('retried-a'))[0]?.requests).toBe(4);
    // The documented bound: the other container records the batch's refusals once more (3 + 3), never more.
    const refusals = await auditOf('retried-a', today());
    expect(sum(refusals)).toBe(6);
    expect(refusals.every((e) => e.keyId === record.id && e.sourceIp === '198.51.100.24')).toBe(true);
  });

  it('issue 13: a refusal write that fails fails the batch; its retry stores the refusals exactly once', async () => {
    const store = new AuditStore(dynamo.doc, dynamo.tableName, { retentionDays: 7 });
    let failing = true;
    const audit: CountableAuditSink = {
      record: (e: AuditEventInput) => (failing ? Promise.reject(new Error('throttled')) : store.record(e)),
      updateDetails: (e: Pick<AuditEvent, 'tenant' | 'at' | 'id'>, d: NonNullable<AuditEventInput['details']>) => store.updateDetails(e, d),
    };
    const bookkeeper = testBookkeeper(dynamo, { audit });
    const at = Date.parse('2041-05-05T10:00:00.000Z');
    const facts: RefusalFacts = { reason: 'revoked', credentialKind: 'api_key', keyId: 'FailedKey001', tenant: 'failing-a', sourceIp: '192.0.2.5', method: 'GET', path: '/v1/items', mode: 'enforce', outcome: 'denied' };
    const batch = batchOf([0, 1, 2, 3, 4].map((i) => refusalLine(facts, at + i)).join(''));
    await expect(bookkeeper.handle(batch)).rejects.toBeInstanceOf(BookkeepingError);
    expect(await auditOf('failing-a', '2041-05-05')).toEqual([]);
    failing = false;
    await bookkeeper.handle(batch);
    expect(await auditOf('failing-a', '2041-05-05')).toMatchObject([
      { type: 'credential.refused', keyId: 'FailedKey001', sourceIp: '192.0.2.5', at: '2041-05-05T10:00:00.000Z', details: { count: 5, lastAt: '2041-05-05T10:00:00.004Z' } },
    ]);
  });

  it('finding 11.4 (issue 13): after a flood of junk refusal lines, a stored key\'s refusals still reach its tenant with the key id and source IPs', async () => {
    const day = '2041-06-06';
    const start = Date.parse(`${day}T00:00:00.000Z`);
    const junk: string[] = [];
    for (let i = 0; i < 3000; i++) {
      junk.push(
        refusalLine(
          { reason: 'unknown', credentialKind: 'api_key', keyId: `J${String(i).padStart(11, '0')}`, sourceIp: `10.9.${i >> 8}.${i & 255}`, method: 'GET', path: '/v1/items', mode: 'enforce', outcome: 'denied' },
          start + i,
        ),
      );
    }
    const victim = (ip: string, ms: number) =>
      refusalLine({ reason: 'secret_mismatch', credentialKind: 'api_key', keyId: 'VictimKey013', tenant: 'victim-13', sourceIp: ip, method: 'GET', path: '/v1/items', mode: 'enforce', outcome: 'denied' }, ms);
    const bookkeeper = testBookkeeper(dynamo);
    // Three batches, the victim's lines in the middle of the junk.
    await bookkeeper.handle(batchOf(junk.slice(0, 1500).join('')));
    await bookkeeper.handle(batchOf([...junk.slice(1500, 2000), victim('198.51.100.77', start + 1), victim('198.51.100.77', start + 2), ...junk.slice(2000, 2500)].join('')));
    await bookkeeper.handle(batchOf([...junk.slice(2500), victim('198.51.100.78', start + 3)].join('')));

    const events = await auditOf('victim-13', day);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.keyId === 'VictimKey013' && e.reason === 'secret_mismatch')).toBe(true);
    expect(events.map((e) => e.sourceIp).sort()).toEqual(['198.51.100.77', '198.51.100.78']);
    expect(sum(events)).toBe(3);
    const system = await auditOf(SYSTEM_TENANT, day);
    expect(sum(system)).toBe(3000);
    expect(system.some((e) => e.keyId === 'VictimKey013')).toBe(false);
    // Bounded: the junk is at most the recorder's budget of events plus one aggregate, not 3000 writes.
    expect(system.length).toBeLessThanOrEqual(101);
  });
});

describe('issue 13: the lines never carry a credential', () => {
  it('issue 13: keys and tokens of every shape, in headers and paths, never reach stdout', async () => {
    const { key, record } = await storedKey('fuzz-a');
    const signer = makeSigningKey();
    const now = Math.floor(Date.now() / 1000);
    const foreignJwt = signRs256({ alg: 'RS256', kid: signer.kid }, { iss: 'https://idp.example.com', sub: 'u', exp: now + 600, client_id: 'c' }, signer.privateKey);
    const wrongSecret = generateApiKey('test', record.id).key;
    const unknownKey = generateApiKey('test').key;
    const liveKey = generateApiKey('live').key;
    const badChecksum = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    const credentials = [key, wrongSecret, unknownKey, liveKey, badChecksum, key.slice(0, 40), foreignJwt, `${foreignJwt}x`, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln'];
    const secrets = [...credentials.filter((c) => c.startsWith('gth_')).map((c) => c.slice(22, 65)), foreignJwt.split('.')[2]!];

    const out = captureStdout();
    const handler = await coldAuthorizer({ GATEHOUSE_AUTH_MODE: 'audit' });
    for (const credential of credentials) {
      const shapes: Record<string, string>[] = [
        { 'X-API-Key': credential },
        { Authorization: `Bearer ${credential}` },
        { Authorization: `Basic ${credential}` },
        { 'x-api-key': credential, Authorization: `Bearer ${key}` },
      ];
      for (const headers of shapes) {
        await handler(authorizerEvent({ headers, path: `/v1/items/${credential}` }));
      }
    }
    out.restore();
    const text = out.text();
    const lines = batchOf(text).lines;
    expect(lines.length).toBeGreaterThan(credentials.length * 3);
    expect(lines.every((l) => parseBookkeepingLine(l.message) !== undefined)).toBe(true);
    for (const fragment of [...credentials, ...secrets]) expect(text).not.toContain(fragment);

    // …and what the bookkeeper stores from them holds none either.
    await bookkeeperLambda()(encodeLogsEvent({ logGroup: 'g', logStream: 'fuzz', lines }));
    const table = JSON.stringify((await dynamo.doc.send(new ScanCommand({ TableName: dynamo.tableName }))).Items);
    for (const fragment of [...credentials.filter((c) => c !== key), ...secrets]) expect(table).not.toContain(fragment);
  });
});
