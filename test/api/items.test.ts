/** The sample resource through the real middleware stack and a real DynamoDB API (dynalite). */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createItemsHandler, parseIfMatch } from '../../lambdas/api/items/operations.js';
import type { Services } from '../../lambdas/api/services.js';
import { decodeItemPageToken, encodeItemPageToken, ItemStore, ItemTooLargeError, tenantItemsPk } from '../../lambdas/core/item-store.js';
import { apiEvent, bodyOf, lambdaContext, principal } from '../support/api-events.js';
import { startDynalite, type TestDynamo } from '../support/dynalite.js';
import { captureOutput, testServices } from '../support/services.js';

let dynamo: TestDynamo;
let services: Services;
let items: ReturnType<typeof createItemsHandler>;

type Call = Parameters<typeof apiEvent>[0];
const call = (args: Call) => items(apiEvent(args), lambdaContext());

interface ItemBody {
  id: string;
  name: string;
  data: Record<string, unknown>;
  version: number;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
}
interface ListBody {
  items: ItemBody[];
  nextToken?: string;
}
interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  errors?: { field: string; message: string }[];
}

/** A fresh tenant per test: tests share one table and never see each other's items. */
const tenant = (label: string) => principal(`${label}-${randomUUID().slice(0, 8)}`);

async function create(p: ReturnType<typeof principal>, body: Record<string, unknown> = { name: 'widget', data: { colour: 'blue' } }) {
  const res = await call({ method: 'POST', path: '/v1/items', principal: p, body });
  expect(res.statusCode).toBe(201);
  return bodyOf<ItemBody>(res);
}

async function read(p: ReturnType<typeof principal>, id: string) {
  return call({ method: 'GET', path: `/v1/items/${id}`, principal: p });
}

/** Every error is the RFC 9457 envelope with exactly the contract's keys (plus `errors` for field problems). */
function expectProblem(res: APIGatewayProxyResult, status: number, code: string): Problem {
  expect(res.statusCode).toBe(status);
  expect(res.headers?.['Content-Type']).toBe('application/problem+json');
  const body = bodyOf<Problem>(res);
  const keys = Object.keys(body).filter((k) => k !== 'errors').sort();
  expect(keys).toEqual(['code', 'detail', 'requestId', 'status', 'title', 'type']);
  expect(body).toMatchObject({ status, code });
  expect(body.requestId).toMatch(/^req-\d+$/);
  expect(body.type).toMatch(/^https:\/\//);
  return body;
}

/** The error names the field, both in `detail` and in `errors`. */
function expectNamesField(problem: Problem, field: string): void {
  expect(problem.detail).toContain(field);
  expect(problem.errors?.map((e) => e.field).join(',')).toContain(field);
}

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-items-api');
  services = testServices(dynamo);
  items = createItemsHandler(services);
});
afterAll(() => dynamo.stop());

describe('CRUD with ETags', () => {
  it('creates, reads, replaces and deletes an item', async () => {
    const alice = tenant('crud');
    const post = await call({ method: 'POST', path: '/v1/items', principal: alice, body: { name: 'widget', data: { colour: 'blue', n: [1, 2.5, null, true] } } });
    expect(post.statusCode).toBe(201);
    const created = bodyOf<ItemBody>(post);
    expect(Object.keys(created).sort()).toEqual(['createdAt', 'createdBy', 'data', 'id', 'name', 'updatedAt', 'version']);
    expect(created).toMatchObject({ name: 'widget', data: { colour: 'blue', n: [1, 2.5, null, true] }, version: 1, createdBy: alice.principalId });
    expect(created.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.updatedAt).toBe(created.createdAt);
    expect(post.headers).toMatchObject({ ETag: '"1"', Location: `/v1/items/${created.id}`, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });

    const got = await read(alice, created.id);
    expect(got.statusCode).toBe(200);
    expect(got.headers?.ETag).toBe('"1"');
    expect(bodyOf(got)).toEqual(created);

    const put = await call({
      method: 'PUT',
      path: `/v1/items/${created.id}`,
      principal: alice,
      headers: { 'If-Match': '"1"' },
      body: { name: 'gadget', data: { colour: 'red' } },
    });
    expect(put.statusCode).toBe(200);
    expect(put.headers?.ETag).toBe('"2"');
    const replaced = bodyOf<ItemBody>(put);
    expect(replaced).toMatchObject({ id: created.id, name: 'gadget', data: { colour: 'red' }, version: 2, createdAt: created.createdAt, createdBy: alice.principalId });
    expect(replaced.data).not.toHaveProperty('n'); // a replace, not a merge

    // Without If-Match the last writer wins.
    const blind = await call({ method: 'PUT', path: `/v1/items/${created.id}`, principal: alice, body: { name: 'blind', data: {} } });
    expect(blind.statusCode).toBe(200);
    expect(blind.headers?.ETag).toBe('"3"');

    const del = await call({ method: 'DELETE', path: `/v1/items/${created.id}`, principal: alice, headers: { 'If-Match': '"3"' } });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expectProblem(await read(alice, created.id), 404, 'NOT_FOUND');
    expectProblem(await call({ method: 'DELETE', path: `/v1/items/${created.id}`, principal: alice }), 404, 'NOT_FOUND');
    expectProblem(await call({ method: 'PUT', path: `/v1/items/${created.id}`, principal: alice, body: { name: 'x', data: {} } }), 404, 'NOT_FOUND');
  });

  it('data defaults to {} on create; accepts an upper-case id for the same item', async () => {
    const alice = tenant('defaults');
    const created = await create(alice, { name: 'bare' });
    expect(created.data).toEqual({});
    const got = await read(alice, created.id.toUpperCase());
    expect(got.statusCode).toBe(200);
    expect(bodyOf<ItemBody>(got).id).toBe(created.id);
  });

  it('stores the item under the tenant partition', async () => {
    const alice = tenant('layout');
    const created = await create(alice);
    const raw = await dynamo.doc.send(new GetCommand({ TableName: dynamo.tableName, Key: { pk: `TENANT#${alice.tenant}#ITEMS`, sk: `ITEM#${created.id}` } }));
    expect(raw.Item).toMatchObject({ id: created.id, tenant: alice.tenant, version: 1, entity: 'item' });
    // data is kept as its JSON text (item-store.ts explains why), never as a DynamoDB map.
    expect(raw.Item?.dataJson).toBe('{"colour":"blue"}');
    expect(raw.Item).not.toHaveProperty('data');
  });

  it('an itemId that is not a UUID is 400 naming itemId', async () => {
    const alice = tenant('badid');
    for (const id of ['not-a-uuid', '123', `${randomUUID()}x`]) {
      expectNamesField(expectProblem(await read(alice, id), 400, 'VALIDATION_ERROR'), 'itemId');
    }
    const del = await call({ method: 'DELETE', path: '/v1/items/nope', principal: alice });
    expectNamesField(expectProblem(del, 400, 'VALIDATION_ERROR'), 'itemId');
  });

  it('an unknown item is 404', async () => {
    expectProblem(await read(tenant('unknown'), randomUUID()), 404, 'NOT_FOUND');
  });
});

describe('listing', () => {
  it('pages through 7 items with limit 3 (3 pages, no duplicates, no token on the last page)', async () => {
    const alice = tenant('pages');
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++) ids.add((await create(alice, { name: `item ${i}` })).id);

    const seen: string[] = [];
    const sizes: number[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const res = await call({ method: 'GET', path: '/v1/items', principal: alice, query: { limit: '3', ...(nextToken ? { nextToken } : {}) } });
      expect(res.statusCode).toBe(200);
      const page = bodyOf<ListBody>(res);
      sizes.push(page.items.length);
      seen.push(...page.items.map((i) => i.id));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken && pages < 10);
    expect(sizes).toEqual([3, 3, 1]);
    expect(new Set(seen)).toEqual(ids);
    expect(seen).toHaveLength(7);
  });

  it('no trailing empty page when the count is a multiple of the limit; default limit 25', async () => {
    const alice = tenant('exact');
    for (let i = 0; i < 4; i++) await create(alice);
    const first = bodyOf<ListBody>(await call({ method: 'GET', path: '/v1/items', principal: alice, query: { limit: '2' } }));
    expect(first.items).toHaveLength(2);
    const second = bodyOf<ListBody>(await call({ method: 'GET', path: '/v1/items', principal: alice, query: { limit: '2', nextToken: first.nextToken! } }));
    expect(second.items).toHaveLength(2);
    expect(second.nextToken).toBeUndefined();

    const all = bodyOf<ListBody>(await call({ method: 'GET', path: '/v1/items', principal: alice }));
    expect(all.items).toHaveLength(4);
    expect(all).not.toHaveProperty('nextToken');
  });

  it('an empty tenant lists nothing', async () => {
    const res = await call({ method: 'GET', path: '/v1/items', principal: tenant('empty') });
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ items: [] });
  });

  it('refuses bad limits and unknown query parameters naming them', async () => {
    const alice = tenant('limits');
    for (const limit of ['0', '101', 'abc', '-1', '2.5', '']) {
      expectNamesField(expectProblem(await call({ method: 'GET', path: '/v1/items', principal: alice, query: { limit } }), 400, 'VALIDATION_ERROR'), 'limit');
    }
    const unknown = await call({ method: 'GET', path: '/v1/items', principal: alice, query: { sort: 'name' } });
    expectNamesField(expectProblem(unknown, 400, 'VALIDATION_ERROR'), 'sort');
    const ok = await call({ method: 'GET', path: '/v1/items', principal: alice, query: { limit: '100' } });
    expect(ok.statusCode).toBe(200);
  });

  it('refuses malformed nextTokens with 400 naming nextToken', async () => {
    const alice = tenant('tokens');
    const forged = [
      'not a token!',
      '',
      Buffer.from('{"v":1,"after":"x"}').toString('base64url'),
      Buffer.from('{"v":2,"after":"' + randomUUID() + '"}').toString('base64url'),
      Buffer.from('{"v":1,"after":"' + randomUUID() + '","pk":"TENANT#other#ITEMS"}').toString('base64url'),
      Buffer.from('[1]').toString('base64url'),
      Buffer.from('garbage').toString('base64url'),
      `${encodeItemPageToken(randomUUID())}=`,
      'A'.repeat(5000),
    ];
    for (const nextToken of forged) {
      const res = await call({ method: 'GET', path: '/v1/items', principal: alice, query: { nextToken } });
      expectNamesField(expectProblem(res, 400, 'VALIDATION_ERROR'), 'nextToken');
    }
  });

  it('the store refuses a token it did not mint, too', async () => {
    const store = new ItemStore(dynamo.doc, dynamo.tableName);
    await expect(store.list('t', { nextToken: 'bogus!' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', fields: [{ field: 'nextToken' }] });
  });
});

describe('tenant isolation', () => {
  it('tenant B cannot read, replace, delete or list A’s item; A’s item is unchanged afterwards', async () => {
    const a = tenant('iso-a');
    const b = tenant('iso-b');
    const item = await create(a, { name: 'secret', data: { owner: 'a' } });
    const path = `/v1/items/${item.id}`;
    const missing = `/v1/items/${randomUUID()}`;

    const attempts: Call[] = [
      { method: 'GET', path, principal: b },
      { method: 'PUT', path, principal: b, body: { name: 'pwned', data: {} } },
      { method: 'PUT', path, principal: b, body: { name: 'pwned', data: {} }, headers: { 'If-Match': '"1"' } },
      { method: 'PUT', path, principal: b, body: { name: 'pwned', data: {} }, headers: { 'If-Match': '*' } },
      { method: 'DELETE', path, principal: b },
      { method: 'DELETE', path, principal: b, headers: { 'If-Match': '"1"' } },
      { method: 'DELETE', path, principal: b, headers: { 'If-Match': '*' } },
    ];
    for (const attempt of attempts) {
      const res = await call(attempt);
      const problem = expectProblem(res, 404, 'NOT_FOUND');
      // Same answer as an item that does not exist at all (only the request id differs).
      const absent = expectProblem(await call({ ...attempt, path: missing }), 404, 'NOT_FOUND');
      expect({ ...problem, requestId: '' }).toEqual({ ...absent, requestId: '' });
      expect(res.headers?.ETag).toBeUndefined();
    }

    const list = bodyOf<ListBody>(await call({ method: 'GET', path: '/v1/items', principal: b }));
    expect(list.items.map((i) => i.id)).not.toContain(item.id);

    const after = await read(a, item.id);
    expect(after.statusCode).toBe(200);
    expect(bodyOf(after)).toEqual(item);
    expect(after.headers?.ETag).toBe('"1"');
  });

  it('a nextToken issued to A never returns A’s items to B', async () => {
    const a = tenant('tok-a');
    const b = tenant('tok-b');
    const aIds = new Set<string>();
    for (let i = 0; i < 5; i++) aIds.add((await create(a)).id);
    const bIds = new Set<string>();
    for (let i = 0; i < 3; i++) bIds.add((await create(b)).id);

    const first = bodyOf<ListBody>(await call({ method: 'GET', path: '/v1/items', principal: a, query: { limit: '1' } }));
    expect(first.nextToken).toBeDefined();
    // Also a token naming A's *lowest* id, so B's page after it is as full as it can be.
    const lowest = [...aIds].sort()[0]!;
    for (const nextToken of [first.nextToken!, encodeItemPageToken(lowest)]) {
      let token: string | undefined = nextToken;
      let pages = 0;
      while (token && pages++ < 10) {
        const res = await call({ method: 'GET', path: '/v1/items', principal: b, query: { limit: '2', nextToken: token } });
        expect(res.statusCode).toBe(200);
        const page = bodyOf<ListBody>(res);
        for (const it of page.items) {
          expect(aIds.has(it.id)).toBe(false);
          expect(bIds.has(it.id)).toBe(true);
        }
        token = page.nextToken;
      }
    }
    expect(decodeItemPageToken(first.nextToken!)).toMatch(/^[0-9a-f-]{36}$/);
    expect(Buffer.from(first.nextToken!, 'base64url').toString()).not.toContain(a.tenant);
  });

  it('partitions are built from the tenant alone', () => {
    expect(tenantItemsPk('a')).toBe('TENANT#a#ITEMS');
    expect(tenantItemsPk('a')).not.toBe(tenantItemsPk('a#ITEMS'));
  });
});

describe('conditional writes (If-Match)', () => {
  it('a mismatching If-Match is 412 with the current ETag, and nothing changes', async () => {
    const alice = tenant('412');
    const item = await create(alice);
    const path = `/v1/items/${item.id}`;
    for (const ifMatch of ['"2"', '"0"', 'W/"1"', '"abc"', '"2", "3"']) {
      const put = await call({ method: 'PUT', path, principal: alice, headers: { 'If-Match': ifMatch }, body: { name: 'changed', data: { x: 1 } } });
      const problem = expectProblem(put, 412, 'PRECONDITION_FAILED');
      expect(problem.title).toBe('Precondition failed');
      expect(put.headers?.ETag).toBe('"1"');
      expectProblem(await call({ method: 'DELETE', path, principal: alice, headers: { 'If-Match': ifMatch } }), 412, 'PRECONDITION_FAILED');
    }
    const after = await read(alice, item.id);
    expect(bodyOf(after)).toEqual(item);
  });

  it('If-Match: * matches any existing item; a list matches any of its versions', async () => {
    const alice = tenant('star');
    const item = await create(alice);
    const path = `/v1/items/${item.id}`;
    const star = await call({ method: 'PUT', path, principal: alice, headers: { 'If-Match': '*' }, body: { name: 'star', data: {} } });
    expect(star.statusCode).toBe(200);
    expect(star.headers?.ETag).toBe('"2"');
    const list = await call({ method: 'PUT', path, principal: alice, headers: { 'if-match': '"7", W/"2", "2"' }, body: { name: 'list', data: {} } });
    expect(list.statusCode).toBe(200);
    expect(list.headers?.ETag).toBe('"3"');
    const del = await call({ method: 'DELETE', path, principal: alice, headers: { 'If-Match': '*' } });
    expect(del.statusCode).toBe(204);
    // `*` on an absent item: 404 (preconditions only apply to an existing item).
    expectProblem(await call({ method: 'DELETE', path, principal: alice, headers: { 'If-Match': '*' } }), 404, 'NOT_FOUND');
  });

  it('a malformed If-Match is 400 naming If-Match', async () => {
    const alice = tenant('badmatch');
    const item = await create(alice);
    for (const ifMatch of ['1', '"1",', '"1" "2"', '  ', 'W/1', '"1", ,"2"']) {
      const res = await call({ method: 'PUT', path: `/v1/items/${item.id}`, principal: alice, headers: { 'If-Match': ifMatch }, body: { name: 'x', data: {} } });
      expectNamesField(expectProblem(res, 400, 'VALIDATION_ERROR'), 'If-Match');
    }
    expect(bodyOf(await read(alice, item.id))).toEqual(item);
  });

  it('10 concurrent PUTs with the same If-Match: exactly one wins, the others get 412', async () => {
    const alice = tenant('race');
    const item = await create(alice);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call({ method: 'PUT', path: `/v1/items/${item.id}`, principal: alice, headers: { 'If-Match': '"1"' }, body: { name: `writer ${i}`, data: { i } } }),
      ),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 412, 412, 412, 412, 412, 412, 412, 412, 412]);
    const winner = bodyOf<ItemBody>(results.find((r) => r.statusCode === 200)!);
    for (const loser of results.filter((r) => r.statusCode === 412)) expectProblem(loser, 412, 'PRECONDITION_FAILED');

    const final = await read(alice, item.id);
    expect(final.headers?.ETag).toBe('"2"');
    expect(bodyOf<ItemBody>(final)).toMatchObject({ version: 2, name: winner.name, data: winner.data });
  });

  it('parses If-Match per RFC 9110 (strong comparison)', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch('*')).toBeUndefined();
    expect(parseIfMatch('"3"')).toEqual([3]);
    expect(parseIfMatch(' "3" , "4","3" ')).toEqual([3, 4]);
    expect(parseIfMatch('W/"3"')).toEqual([0]);
    expect(parseIfMatch('"a,b", "5"')).toEqual([5]);
    expect(() => parseIfMatch(Array.from({ length: 21 }, (_, i) => `"${i + 1}"`).join(','))).toThrow();
  });
});

describe('bad requests', () => {
  it('invalid JSON → 400', async () => {
    const res = await call({ method: 'POST', path: '/v1/items', principal: tenant('json'), rawBody: '{"name": "x",', headers: { 'Content-Type': 'application/json' } });
    expect(expectProblem(res, 400, 'VALIDATION_ERROR').detail).toMatch(/JSON/);
  });

  it('wrong types → 400 naming the field', async () => {
    const alice = tenant('types');
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 5 }, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ name: 'x', data: [1, 2] }, 'data'],
      [{ name: 'x', data: 'text' }, 'data'],
      [{ name: 'x', data: null }, 'data'],
      [{}, 'name'],
      [{ name: 'x', data: { deep: { n: 2 ** 53 } } }, 'data.deep.n'],
      [{ name: 'x', data: { tiny: 1e-200 } }, 'data.tiny'],
      [{ name: 'x', data: { '': 1 } }, 'data'],
    ];
    for (const [body, field] of cases) {
      const res = await call({ method: 'POST', path: '/v1/items', principal: alice, body });
      expectNamesField(expectProblem(res, 400, 'VALIDATION_ERROR'), field);
    }
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++) deep = { d: deep };
    expectNamesField(expectProblem(await call({ method: 'POST', path: '/v1/items', principal: alice, body: { name: 'x', data: deep } }), 400, 'VALIDATION_ERROR'), 'data');

    // PUT needs both fields.
    const item = await create(alice);
    const put = await call({ method: 'PUT', path: `/v1/items/${item.id}`, principal: alice, body: { name: 'only name' } });
    expectNamesField(expectProblem(put, 400, 'VALIDATION_ERROR'), 'data');
    const list = bodyOf<ListBody>(await call({ method: 'GET', path: '/v1/items', principal: alice }));
    expect(list.items).toHaveLength(1);
  });

  it('an unknown field → 400 naming it', async () => {
    const alice = tenant('unknown-field');
    const res = await call({ method: 'POST', path: '/v1/items', principal: alice, body: { name: 'x', colour: 'red' } });
    expectNamesField(expectProblem(res, 400, 'VALIDATION_ERROR'), 'colour');
    const item = await create(alice);
    const put = await call({ method: 'PUT', path: `/v1/items/${item.id}`, principal: alice, body: { name: 'x', data: {}, version: 9 } });
    expectNamesField(expectProblem(put, 400, 'VALIDATION_ERROR'), 'version');
  });

  it('a body over the configured limit → 413', async () => {
    const small = createItemsHandler(testServices(dynamo, { settings: { maxBodyBytes: 2048 } }));
    const res = await small(apiEvent({ method: 'POST', path: '/v1/items', principal: tenant('big'), body: { name: 'x', data: { s: 'a'.repeat(4000) } } }), lambdaContext());
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('an item that would not fit DynamoDB → 413, not a store error (create and replace)', async () => {
    const alice = tenant('huge');
    const text = { name: 'x', data: { s: 'a'.repeat(360 * 1024) } };
    expectProblem(await call({ method: 'POST', path: '/v1/items', principal: alice, body: text }), 413, 'PAYLOAD_TOO_LARGE');
    // Under 350 Ki characters but over 350 KiB: sizes are counted in UTF-8 bytes, as DynamoDB counts them.
    const wide = { name: 'x', data: { s: 'é'.repeat(200 * 1024) } };
    expect(JSON.stringify(wide).length).toBeLessThan(350 * 1024);
    expectProblem(await call({ method: 'POST', path: '/v1/items', principal: alice, body: wide }), 413, 'PAYLOAD_TOO_LARGE');
    // Data is stored as its JSON text, so a list of numbers costs what its JSON costs (it used to cost 3 bytes per
    // number as a DynamoDB list): 300 KB of zeros fits.
    const numbers = { name: 'x', data: { n: new Array<number>(150_000).fill(0) } };
    expect((await call({ method: 'POST', path: '/v1/items', principal: alice, body: numbers })).statusCode).toBe(201);

    const item = await create(alice);
    expectProblem(await call({ method: 'PUT', path: `/v1/items/${item.id}`, principal: alice, body: text }), 413, 'PAYLOAD_TOO_LARGE');
    expect(bodyOf(await read(alice, item.id))).toEqual(item);

    // Just under the limit is fine.
    const fits = await call({ method: 'POST', path: '/v1/items', principal: alice, body: { name: 'x', data: { s: 'a'.repeat(300 * 1024) } } });
    expect(fits.statusCode).toBe(201);
  });

  it('the store itself refuses an oversize item', async () => {
    const store = new ItemStore(dynamo.doc, dynamo.tableName);
    await expect(
      store.create({ id: randomUUID(), tenant: 't', name: 'x', data: { s: 'b'.repeat(400 * 1024) }, createdBy: 'me', createdAt: new Date().toISOString() }),
    ).rejects.toBeInstanceOf(ItemTooLargeError);
  });

  it('a wrong content type → 415', async () => {
    const res = await call({ method: 'POST', path: '/v1/items', principal: tenant('ct'), rawBody: '{"name":"x"}', headers: { 'Content-Type': 'text/plain' } });
    expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('authentication and scopes', () => {
  it('a principal without items:write cannot create → 403 insufficient_scope, nothing stored', async () => {
    const reader = principal(`ro-${randomUUID().slice(0, 8)}`, ['items:read']);
    const res = await call({ method: 'POST', path: '/v1/items', principal: reader, body: { name: 'x' } });
    expectProblem(res, 403, 'PERMISSION_DENIED');
    expect(res.headers?.['WWW-Authenticate']).toContain('insufficient_scope');
    const list = await call({ method: 'GET', path: '/v1/items', principal: reader });
    expect(bodyOf<ListBody>(list).items).toEqual([]);
  });

  it('items:read is needed to read', async () => {
    const writer = principal(`wo-${randomUUID().slice(0, 8)}`, ['items:write']);
    const item = await create(writer);
    const res = await read(writer, item.id);
    expectProblem(res, 403, 'PERMISSION_DENIED');
    expect(res.headers?.['WWW-Authenticate']).toContain('insufficient_scope');
  });

  it('no principal → 401 with WWW-Authenticate', async () => {
    for (const args of [
      { method: 'POST', path: '/v1/items', body: { name: 'x' } },
      { method: 'GET', path: '/v1/items' },
      { method: 'DELETE', path: `/v1/items/${randomUUID()}` },
    ] satisfies Call[]) {
      const res = await call(args);
      expectProblem(res, 401, 'AUTHENTICATION_FAILED');
      expect(res.headers?.['WWW-Authenticate']).toBe('Bearer realm="gatehouse"');
    }
  });
});

describe('store failures', () => {
  it('an unreachable table → 503 with Retry-After, no internals leaked', async () => {
    const down = await startDynalite('gatehouse-items-down');
    const handler = createItemsHandler(testServices(down));
    await down.stop();
    const out = captureOutput();
    try {
      for (const args of [
        { method: 'GET', path: '/v1/items', principal: tenant('down') },
        { method: 'POST', path: '/v1/items', principal: tenant('down'), body: { name: 'x' } },
        { method: 'PUT', path: `/v1/items/${randomUUID()}`, principal: tenant('down'), body: { name: 'x', data: {} }, headers: { 'If-Match': '"1"' } },
      ] satisfies Call[]) {
        const res = await handler(apiEvent(args), lambdaContext());
        const problem = expectProblem(res, 503, 'SERVICE_UNAVAILABLE');
        expect(res.headers?.['Retry-After']).toBe('1');
        expect(problem.detail).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|dynamo/i);
      }
    } finally {
      out.restore();
    }
  });
});
