/**
 * Security review, issue 11 (round 2): the sample `items` resource.
 *
 * 11.6  Item `data` whose member names are special to JavaScript objects (`__proto__`, `constructor`, …) must be
 *       stored faithfully — what is written is what is read, byte for byte as JSON — or refused with a 400 naming the
 *       field; never a 5xx, never corrupted data.
 * 11.12 Every response fits Lambda's 6 MB synchronous response limit: the item list pages by bytes, one item can
 *       always be read back, errors about item data stay small, and GET /v1/usage pages.
 *
 * Handler-level tests run the real middleware stack over dynalite; the HTTP tests go through the local gateway.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import { ByteBudget, jsonPayloadBytes, LAMBDA_RESPONSE_LIMIT_BYTES, payloadBytes, RESPONSE_BYTE_BUDGET, takeWithinBudget } from '../../lambdas/api/http/byte-budget.js';
import { createItemsHandler } from '../../lambdas/api/items/operations.js';
import type { Services } from '../../lambdas/api/services.js';
import { createUsageHandler } from '../../lambdas/api/usage/operations.js';
import { tenantItemsPk } from '../../lambdas/core/item-store.js';
import type { Principal } from '../../lambdas/core/principal.js';
import { apiEvent, bodyOf, lambdaContext, principal } from '../support/api-events.js';
import { startDynalite, type TestDynamo } from '../support/dynalite.js';
import { captureOutput, testServices } from '../support/services.js';
import { call as httpCall, startTestStack } from './support/http.js';

/** Bytes of `result` as Lambda counts them: the proxy result as JSON, where the body is a JSON string again. */
const invokeBytes = (result: unknown): number => Buffer.byteLength(JSON.stringify(result), 'utf8');

/** Member names that mean something to JavaScript objects. */
const SPECIAL = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const;

let dynamo: TestDynamo;
let services: Services;
let items: ReturnType<typeof createItemsHandler>;

type Call = Parameters<typeof apiEvent>[0];
const call = (args: Call) => items(apiEvent(args), lambdaContext());
const tenant = (label: string) => principal(`${label}-${randomUUID().slice(0, 8)}`);

interface ItemBody {
  id: string;
  name: string;
  data: Record<string, unknown>;
  version: number;
}
interface ListBody {
  items: ItemBody[];
  nextToken?: string;
}
interface Problem {
  status: number;
  code: string;
  detail: string;
  errors?: { field: string; message: string }[];
}

/** The `data` of a JSON text exactly as a client sent it (JSON.parse keeps `__proto__` as an own member). */
const dataText = (bodyText: string): string => JSON.stringify((JSON.parse(bodyText) as { data?: unknown }).data ?? {});
/** The `data` of a response body, as JSON text. */
const dataOf = (res: APIGatewayProxyResult): string => JSON.stringify((JSON.parse(res.body) as { data: unknown }).data);

async function post(p: Principal, bodyText: string) {
  return call({ method: 'POST', path: '/v1/items', principal: p, rawBody: bodyText, headers: { 'Content-Type': 'application/json' } });
}
async function put(p: Principal, id: string, bodyText: string) {
  return call({ method: 'PUT', path: `/v1/items/${id}`, principal: p, rawBody: bodyText, headers: { 'Content-Type': 'application/json' } });
}
const get = (p: Principal, id: string) => call({ method: 'GET', path: `/v1/items/${id}`, principal: p });

/** Runs `fn` with the functions' log output captured; fails if anything was logged at ERROR. */
async function withoutErrorLogs<T>(fn: () => Promise<T>): Promise<T> {
  const out = captureOutput();
  let result: T;
  try {
    result = await fn();
  } finally {
    out.restore();
  }
  const errors = out
    .text()
    .split('\n')
    .filter((line) => /"level":"ERROR"/.test(line));
  expect(errors, errors.join('\n').slice(0, 2000)).toEqual([]);
  return result;
}

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-items-round2');
  services = testServices(dynamo);
  items = createItemsHandler(services);
});
afterAll(() => dynamo.stop());

// ---------------------------------------------------------------------------------------------------------------
// 11.6 — special member names
// ---------------------------------------------------------------------------------------------------------------

/** Data that reached the marshaller of @aws-sdk/util-dynamodb as something other than a plain map. */
const SPECIAL_DATA: string[] = [
  '{"constructor":1}',
  '{"constructor":{"a":1}}',
  '{"a":{"__proto__":{"x":1}}}',
  '{"__proto__":{"x":1}}',
  '{"__proto__":null,"a":1}',
  '{"a":{"__proto__":[1,2]}}',
  '{"a":[{"constructor":"x"},{"__proto__":{"y":2}}]}',
  '{"prototype":1,"hasOwnProperty":2,"valueOf":3,"toString":4}',
  '{"toString":{"toString":{"valueOf":{"constructor":{"__proto__":"deep"}}}}}',
  // The marshaller reads `value.constructor.name` to pick a DynamoDB type: these used to be stored as something else.
  '{"x":{"constructor":{"name":"String"}}}',
  '{"constructor":{"name":"String"}}',
  '{"constructor":{"name":"Number"}}',
  '{"constructor":{"name":"Boolean"}}',
  '{"constructor":{"name":"Set"}}',
  '{"constructor":{"name":"Map"}}',
  '{"constructor":{"name":"Uint8Array"},"length":0}',
  '{"x":{"constructor":{"name":"String"},"toString":"t"}}',
  '{"constructor":{"name":"Object"},"__proto__":{"constructor":{"name":"Set"}}}',
];

describe('finding 11.6: item data with member names special to JavaScript objects', () => {
  it('finding 11.6: each one is stored faithfully on create and replace (byte for byte as JSON), nothing logged at ERROR', async () => {
    const alice = tenant('special');
    const seed = await post(alice, '{"name":"seed","data":{"v":0}}');
    expect(seed.statusCode).toBe(201);
    const seedId = bodyOf<ItemBody>(seed).id;
    let version = 1;
    const failures: string[] = [];
    await withoutErrorLogs(async () => {
      for (const data of SPECIAL_DATA) {
        for (const name of ['plain', ...SPECIAL]) {
          const body = `{"name":${JSON.stringify(name)},"data":${data}}`;
          const created = await post(alice, body);
          if (created.statusCode !== 201) {
            failures.push(`POST ${body} → ${created.statusCode} ${created.body.slice(0, 160)}`);
            continue;
          }
          const item = bodyOf<ItemBody>(created);
          const read = await get(alice, item.id);
          if (dataOf(created) !== dataText(body) || dataOf(read) !== dataText(body) || bodyOf<ItemBody>(read).name !== name) {
            failures.push(`POST ${body} → read back ${read.body.slice(0, 200)}`);
          }
        }
        const replaced = await put(alice, seedId, `{"name":"seed","data":${data}}`);
        if (replaced.statusCode !== 200) {
          failures.push(`PUT ${data} → ${replaced.statusCode} ${replaced.body.slice(0, 160)}`);
          continue;
        }
        version++;
        const read = await get(alice, seedId);
        if (dataOf(read) !== JSON.stringify(JSON.parse(data)) || read.headers?.ETag !== `"${version}"`) {
          failures.push(`PUT ${data} → read back ${read.headers?.ETag} ${read.body.slice(0, 200)}`);
        }
      }
    });
    expect(failures).toEqual([]);
  });

  it('finding 11.6: a special name as a top-level body member is a 400 naming it, and nothing is stored', async () => {
    const alice = tenant('special-top');
    for (const key of SPECIAL) {
      const res = await post(alice, `{"name":"x","data":{},${JSON.stringify(key)}:{"admin":true}}`);
      expect(res.statusCode, res.body).toBe(400);
      const problem = bodyOf<Problem>(res);
      expect(problem.code).toBe('VALIDATION_ERROR');
      expect(problem.errors?.map((e) => e.field).join(',')).toContain(key);
    }
    const list = bodyOf<ListBody>(await call({ method: 'GET', path: '/v1/items', principal: alice }));
    expect(list.items).toEqual([]);
  });

  it('finding 11.6: data is kept apart from the item record: special names never reach its attributes or prototype', async () => {
    const alice = tenant('special-raw');
    const created = await post(alice, '{"name":"x","data":{"__proto__":{"version":99,"tenant":"other"},"constructor":{"name":"String"},"pk":"TENANT#other#ITEMS"}}');
    expect(created.statusCode, created.body).toBe(201);
    const id = bodyOf<ItemBody>(created).id;
    const raw = await dynamo.doc.send(new GetCommand({ TableName: dynamo.tableName, Key: { pk: tenantItemsPk(alice.tenant), sk: `ITEM#${id}` } }));
    expect(raw.Item).toMatchObject({ id, tenant: alice.tenant, version: 1, pk: tenantItemsPk(alice.tenant) });
    const read = bodyOf<ItemBody & { tenant?: string }>(await get(alice, id));
    expect(read.version).toBe(1);
    expect(read.tenant).toBeUndefined();
    expect(Object.getPrototypeOf(read.data)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).version).toBeUndefined(); // nothing polluted Object.prototype
  });

  it('finding 11.6: items stored before the fix (data as a DynamoDB map) still read, replace and list', async () => {
    const alice = tenant('legacy');
    const id = randomUUID();
    const at = new Date().toISOString();
    await dynamo.doc.send(
      new PutCommand({
        TableName: dynamo.tableName,
        Item: { pk: tenantItemsPk(alice.tenant), sk: `ITEM#${id}`, entity: 'item', id, tenant: alice.tenant, name: 'old', data: { colour: 'blue', n: [1, 2] }, version: 4, createdAt: at, updatedAt: at, createdBy: 'someone' },
      }),
    );
    const read = await get(alice, id);
    expect(read.statusCode).toBe(200);
    expect(read.headers?.ETag).toBe('"4"');
    expect(bodyOf<ItemBody>(read)).toMatchObject({ id, name: 'old', data: { colour: 'blue', n: [1, 2] }, version: 4 });
    expect(bodyOf<ListBody>(await call({ method: 'GET', path: '/v1/items', principal: alice })).items.map((i) => i.data)).toEqual([{ colour: 'blue', n: [1, 2] }]);

    // The ETag logic is untouched: a stale If-Match is refused, the current one replaces (and rewrites the format).
    const stale = await call({ method: 'PUT', path: `/v1/items/${id}`, principal: alice, headers: { 'If-Match': '"3"' }, body: { name: 'new', data: {} } });
    expect(stale.statusCode).toBe(412);
    const body = '{"name":"new","data":{"constructor":{"name":"Set"},"__proto__":{"x":1}}}';
    const replaced = await call({ method: 'PUT', path: `/v1/items/${id}`, principal: alice, headers: { 'If-Match': '"4"', 'Content-Type': 'application/json' }, rawBody: body });
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(replaced.headers?.ETag).toBe('"5"');
    const after = await get(alice, id);
    expect(dataOf(after)).toBe(dataText(body));
    expect(bodyOf<ItemBody>(after)).toMatchObject({ name: 'new', version: 5 });
  });

  it('finding 11.6: property — any JSON object with special names mixed in round-trips or gets a 400, never a 5xx; a refused write changes nothing', async () => {
    const alice = tenant('prop');
    const seed = bodyOf<ItemBody>(await post(alice, '{"name":"seed","data":{"v":0}}'));
    // Mostly valid input, so most writes are accepted and their round trip is checked; a little of every kind of
    // invalid input (empty or lone-surrogate names, unsafe numbers, a stray top-level member) for the 400 path.
    const key = fc.oneof(
      { weight: 48, arbitrary: fc.constantFrom(...SPECIAL) },
      { weight: 32, arbitrary: fc.string({ minLength: 1, maxLength: 8 }) },
      { weight: 16, arbitrary: fc.constantFrom('name', 'length', '0', '__defineGetter__', 'then', 'pk', 'M', 'S', 'N', 'L', 'data', 'version') },
      { weight: 8, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }) },
      { weight: 1, arbitrary: fc.oneof(fc.constant(''), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })) },
    );
    const scalar = fc.oneof(
      { weight: 48, arbitrary: fc.constantFrom<unknown>(...SPECIAL, null, true, false, 0, -0, 1.5, 'x', '"\\') },
      { weight: 48, arbitrary: fc.string({ maxLength: 12 }) },
      { weight: 32, arbitrary: fc.integer() },
      // fc.double favours subnormals, all refused (under 1e-130): keep those to the explicit invalid constants below.
      { weight: 16, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((d) => (Math.abs(d) < 1e-100 ? 0 : d)) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(1e-200, 2 ** 53, -(2 ** 60), '\ud800', 5e-324) },
    );
    const { json } = fc.letrec<{ json: unknown; object: Record<string, unknown> }>((tie) => ({
      json: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('object'), fc.array(tie('json'), { maxLength: 4 })),
      // Object.fromEntries defines own members, so a `__proto__` key is a member, as JSON.parse makes it.
      object: fc.array(fc.tuple(key, tie('json')), { maxLength: 5 }).map((entries) => Object.fromEntries(entries)),
    }));
    const dataArb = fc.array(fc.tuple(key, json), { maxLength: 6 }).map((entries) => Object.fromEntries(entries));
    const nameArb = fc.oneof(
      { weight: 20, arbitrary: fc.oneof(fc.constantFrom<unknown>(...SPECIAL), fc.string({ minLength: 1, maxLength: 10 })) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>('', JSON.parse('{"__proto__":"x"}'), ['constructor'], null) },
    );
    const extra = fc.oneof({ weight: 19, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...SPECIAL) });

    let previous = JSON.stringify(seed.data);
    let version = 1;
    const statuses = new Map<number, number>();
    const acceptedWith = new Map<string, number>();
    await withoutErrorLogs(() =>
      fc.assert(
        fc.asyncProperty(dataArb, nameArb, extra, async (data, name, extraKey) => {
          const body = `{"name":${JSON.stringify(name)},"data":${JSON.stringify(data)}${extraKey ? `,${JSON.stringify(extraKey)}:1` : ''}}`;
          const created = await post(alice, body);
          statuses.set(created.statusCode, (statuses.get(created.statusCode) ?? 0) + 1);
          expect([201, 400], `${body} → ${created.body}`).toContain(created.statusCode);
          if (created.statusCode === 201) {
            const read = await get(alice, bodyOf<ItemBody>(created).id);
            expect(dataOf(read), body).toBe(dataText(body));
            expect(dataOf(created), body).toBe(dataText(body));
            for (const name of ['__proto__', 'constructor']) if (dataText(body).includes(`"${name}":`)) acceptedWith.set(name, (acceptedWith.get(name) ?? 0) + 1);
          } else {
            expect(bodyOf<Problem>(created).code).toBe('VALIDATION_ERROR');
          }
          const replaced = await put(alice, seed.id, body);
          expect([200, 400], `${body} → ${replaced.body}`).toContain(replaced.statusCode);
          if (replaced.statusCode === 200) {
            version++;
            previous = dataText(body);
          }
          const read = await get(alice, seed.id);
          expect(read.headers?.ETag).toBe(`"${version}"`);
          expect(dataOf(read), body).toBe(previous);
        }),
        { numRuns: 150 },
      ),
    );
    // Both paths were exercised, and mostly the interesting one: accepted writes whose round trip was checked.
    expect(statuses.get(400), 'some writes should be refused').toBeGreaterThan(0);
    expect(statuses.get(201) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(150 / 3);
    expect(acceptedWith.get('__proto__'), 'accepted writes with a __proto__ member').toBeGreaterThan(10);
    expect(acceptedWith.get('constructor'), 'accepted writes with a constructor member').toBeGreaterThan(10);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 11.12 — responses within Lambda's limit
// ---------------------------------------------------------------------------------------------------------------

/** One item's data of about `bytes` bytes of JSON; `quotes` makes every character one that JSON escapes. */
const bulk = (bytes: number, quotes = false) => ({ s: quotes ? '"'.repeat(Math.floor(bytes / 2)) : 'a'.repeat(bytes) });

async function listAll(p: Principal, query: Record<string, string> = {}) {
  const pages: { result: APIGatewayProxyResult; body: ListBody }[] = [];
  let nextToken: string | undefined;
  do {
    const result = await call({ method: 'GET', path: '/v1/items', principal: p, query: { ...query, ...(nextToken ? { nextToken } : {}) } });
    expect(result.statusCode).toBe(200);
    const body = bodyOf<ListBody>(result);
    pages.push({ result, body });
    nextToken = body.nextToken;
  } while (nextToken && pages.length < 50);
  return pages;
}

describe("finding 11.12: every response fits Lambda's 6 MB limit", () => {
  it('finding 11.12: GET /v1/items pages by bytes: 24 large items never make a page over the budget, and every item comes back once', async () => {
    const alice = tenant('bytes');
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) {
      // Half plain, half made of characters JSON escapes (they double inside the invoke payload).
      const res = await call({ method: 'POST', path: '/v1/items', principal: alice, body: { name: `big ${i}`, data: bulk(300 * 1024, i % 2 === 1) } });
      expect(res.statusCode, res.body.slice(0, 200)).toBe(201);
      ids.push(bodyOf<ItemBody>(res).id);
    }
    const pages = await listAll(alice, { limit: '100' });
    for (const { result } of pages) {
      expect(payloadBytes(result.body)).toBeLessThanOrEqual(RESPONSE_BYTE_BUDGET);
      expect(invokeBytes(result)).toBeLessThan(LAMBDA_RESPONSE_LIMIT_BYTES);
    }
    const seen = pages.flatMap((p) => p.body.items.map((i) => i.id));
    expect(seen).toEqual([...ids].sort());
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.at(-1)!.body.nextToken).toBeUndefined();
  });

  it('finding 11.12: one item can always be read back: an item whose stored size could not be returned is refused, whatever the body limit', async () => {
    const wide = createItemsHandler(testServices(dynamo, { settings: { maxBodyBytes: 10 * 1024 * 1024 } }));
    const alice = tenant('one-item');
    for (const data of [bulk(5 * 1024 * 1024), bulk(5 * 1024 * 1024, true), bulk(400 * 1024)]) {
      const res = await wide(apiEvent({ method: 'POST', path: '/v1/items', principal: alice, body: { name: 'huge', data } }), lambdaContext());
      expect(res.statusCode).toBe(413);
      expect(invokeBytes(res)).toBeLessThan(4096);
    }
    expect(bodyOf<ListBody>(await call({ method: 'GET', path: '/v1/items', principal: alice })).items).toEqual([]);
  });

  it('finding 11.12: a 400 about item data names a bounded number of problems, however many the body holds', async () => {
    const alice = tenant('many-problems');
    const small = '1e-200,'.repeat(140_000);
    const res = await post(alice, `{"name":"x","data":{"a":[${small}0]}}`);
    expect(res.statusCode).toBe(400);
    const problem = bodyOf<Problem>(res);
    expect(problem.code).toBe('VALIDATION_ERROR');
    expect(problem.errors?.[0]?.field).toBe('data.a.0');
    expect(problem.errors!.length).toBeLessThanOrEqual(20);
    expect(invokeBytes(res)).toBeLessThan(16 * 1024);
  });
});

describe('finding 11.12: the byte budget', () => {
  it('finding 11.12: counts a body as the Lambda invoke payload does: escaping included, element by element', () => {
    expect(payloadBytes('abc')).toBe(3);
    expect(payloadBytes('"\\')).toBe(4); // each escaped once more
    expect(payloadBytes('\u0001')).toBe(6);
    expect(payloadBytes('é€😀')).toBe(2 + 3 + 4);
    const elements = [{ s: '"'.repeat(100) }, { t: 'plain' }, { u: '\\\n' }];
    const whole = payloadBytes(JSON.stringify(elements));
    expect(whole).toBe(2 + elements.reduce((n, e) => n + jsonPayloadBytes(e), 0) + (elements.length - 1));
    // {"s":"\"\"…"} is 2008 bytes of JSON and 4012 in the payload: escaping nearly doubles it.
    expect(JSON.stringify({ s: '"'.repeat(1000) })).toHaveLength(2008);
    expect(jsonPayloadBytes({ s: '"'.repeat(1000) })).toBe(4012);
  });

  it('finding 11.12: a page takes the longest prefix that fits, and refuses to make an empty page', () => {
    const budget = new ByteBudget(100, 10);
    expect(budget.tryAdd('a'.repeat(40))).toBe(true); // "aaa…" escaped: 44, and a comma: 55 in all
    expect(budget.tryAdd('b'.repeat(40))).toBe(true); // 100 in all
    expect(budget.tryAdd('c')).toBe(false); // 6 more would pass 100
    expect(budget.used).toBe(100);
    expect(takeWithinBudget([1, 2, 3], (n) => 'x'.repeat(n * 20), new ByteBudget(100, 10))).toEqual({ taken: [1, 2], complete: false });
    expect(takeWithinBudget([1, 2], undefined, new ByteBudget(100, 10))).toEqual({ taken: [1, 2], complete: true });
    expect(() => takeWithinBudget(['x'.repeat(200)], undefined, new ByteBudget(100, 10))).toThrow(/exceeds/);
    expect(() => new ByteBudget(100, 100)).toThrow();
  });

  it('finding 11.12: bounded by construction: one item, a usage page, and the budget itself', async () => {
    const { MAX_ITEM_BYTES } = await import('../../lambdas/core/item-store.js');
    const { USAGE_PAGE_LIMIT } = await import('../../lambdas/core/usage-store.js');
    expect(RESPONSE_BYTE_BUDGET).toBeLessThan(6_000_000 - 512 * 1024); // margin under either reading of "6 MB"
    expect(RESPONSE_BYTE_BUDGET).toBeLessThan(LAMBDA_RESPONSE_LIMIT_BYTES);
    // One item, escaped at worst twice over, plus its fixed fields, fits an empty page many times over.
    expect(2 * MAX_ITEM_BYTES + 64 * 1024).toBeLessThan(RESPONSE_BYTE_BUDGET / 4);
    // The largest usage row there can be, times the largest page.
    const row = { keyId: 'A'.repeat(12), requests: -Number.MAX_VALUE, lastUsedAt: '2030-12-31T23:59:59.999Z' };
    expect(USAGE_PAGE_LIMIT.max * (jsonPayloadBytes(row) + 1) + 4096).toBeLessThan(RESPONSE_BYTE_BUDGET / 20);
  });
});

describe('finding 11.12: GET /v1/usage pages', () => {
  it('finding 11.12: usage is listed in pages of at most `limit` rows with a nextToken, every key once', async () => {
    const usageTenant = `usage-pages-${randomUUID().slice(0, 8)}`;
    const keyIds = Array.from({ length: 23 }, (_, i) => `upage${String(i).padStart(7, '0')}`);
    for (const keyId of keyIds) await services.usage.add(keyId, usageTenant, 3, '2030-03-03T03:03:03.000Z');
    const handler = createUsageHandler(services);
    const seen: string[] = [];
    const sizes: number[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const res = await handler(
        apiEvent({ method: 'GET', path: '/v1/usage', principal: principal(usageTenant), query: { limit: '10', ...(nextToken ? { nextToken } : {}) } }),
        lambdaContext(),
      );
      expect(res.statusCode, res.body).toBe(200);
      const body = bodyOf<{ usage: { keyId: string }[]; nextToken?: string }>(res);
      sizes.push(body.usage.length);
      seen.push(...body.usage.map((u) => u.keyId));
      nextToken = body.nextToken;
    } while (nextToken && ++pages < 10);
    expect(sizes).toEqual([10, 10, 3]);
    expect(seen).toEqual(keyIds);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Through the local gateway over HTTP
// ---------------------------------------------------------------------------------------------------------------

describe('over HTTP through the local gateway', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startTestStack({ GATEHOUSE_RATE_LIMIT_PER_IP: '1000000', GATEHOUSE_RATE_LIMIT_PER_CREDENTIAL: '1000000', GATEHOUSE_THROTTLE_RATE_LIMIT: '10000', GATEHOUSE_THROTTLE_BURST_LIMIT: '5000' });
  }, 60_000);
  afterAll(() => stack?.close());

  it('finding 11.6: data with __proto__ and constructor members round-trips over HTTP (POST, GET, PUT, list)', async () => {
    const admin = { key: stack.config.adminKey };
    const body = '{"name":"constructor","data":{"constructor":{"name":"String"},"a":{"__proto__":{"x":1}},"list":[{"valueOf":1,"toString":"t"}]}}';
    const created = await httpCall<ItemBody>(stack, 'POST', '/v1/items', { credential: admin, body });
    expect(created.status, created.text).toBe(201);
    const read = await httpCall<ItemBody>(stack, 'GET', `/v1/items/${created.json.id}`, { credential: admin });
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.json.data)).toBe(dataText(body));
    const body2 = '{"name":"__proto__","data":{"__proto__":{"hasOwnProperty":null},"prototype":[]}}';
    const replaced = await httpCall<ItemBody>(stack, 'PUT', `/v1/items/${created.json.id}`, { credential: admin, body: body2, headers: { 'If-Match': '"1"' } });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.headers.get('etag')).toBe('"2"');
    const list = await httpCall<ListBody>(stack, 'GET', '/v1/items?limit=100', { credential: admin });
    const listed = list.json.items.find((i) => i.id === created.json.id);
    expect(JSON.stringify(listed?.data)).toBe(dataText(body2));
    expect(listed?.name).toBe('__proto__');

    // The same names anywhere else a client can put them: query parameters and the item id are 400s naming them.
    for (const name of SPECIAL) {
      for (const path of [`/v1/items?${name}=1`, `/v1/usage?${name}=1`, `/v1/items?limit=1&${name}[limit]=5`]) {
        const res = await httpCall<Problem>(stack, 'GET', path, { credential: admin });
        expect(res.status, `${path} ${res.text}`).toBe(400);
        expect(res.json.errors?.map((e) => e.field).join(',')).toContain(name);
      }
      const byId = await httpCall<Problem>(stack, 'GET', `/v1/items/${name}`, { credential: admin });
      expect(byId.status).toBe(400);
      expect(byId.json.errors?.map((e) => e.field)).toEqual(['itemId']);
    }
  });

  it('finding 11.12: GET /v1/items over HTTP: every page stays within the byte budget and the pages cover every item once', async () => {
    const token = { key: stack.config.adminKey };
    const ids: string[] = [];
    for (let i = 0; i < 18; i++) {
      const res = await httpCall<ItemBody>(stack, 'POST', '/v1/items', { credential: token, body: { name: `big ${i}`, data: bulk(330 * 1024, i % 3 === 0) } });
      expect(res.status, res.text.slice(0, 200)).toBe(201);
      ids.push(res.json.id);
    }
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const res = await httpCall<ListBody>(stack, 'GET', `/v1/items?limit=100${nextToken ? `&nextToken=${nextToken}` : ''}`, { credential: token });
      expect(res.status).toBe(200);
      // The body, escaped as the Lambda invoke payload carries it, stays well under 6 MB.
      expect(payloadBytes(res.text)).toBeLessThanOrEqual(RESPONSE_BYTE_BUDGET);
      seen.push(...res.json.items.map((i) => i.id));
      nextToken = res.json.nextToken;
    } while (nextToken && ++pages < 20);
    expect(pages).toBeGreaterThan(0);
    expect(seen.filter((id) => ids.includes(id))).toEqual([...ids].sort());
    expect(new Set(seen).size).toBe(seen.length);
  }, 60_000);
});
