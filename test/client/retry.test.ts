/**
 * Retry policy of the client against tiny local gateways that misbehave on purpose: Retry-After honoured (seconds
 * and HTTP dates), exponential backoff with full jitter otherwise, bounded in count and time, and no retry of a
 * request the server may have acted on (POST, conditional PUT) except on 429 and on failures before sending.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { bearerAuth } from '../../client/auth.js';
import { GatehouseClient } from '../../client/client.js';
import { GatehouseApiError, GatehouseNetworkError } from '../../client/errors.js';
import { backoffDelayMs, isIdempotent, parseRetryAfter, resolveRetryOptions } from '../../client/retry.js';
import { ok, problem, scriptedServer, type ScriptedServer } from './support.js';

const servers: ScriptedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function gateway(handler: Parameters<typeof scriptedServer>[0]): Promise<ScriptedServer> {
  const server = await scriptedServer(handler);
  servers.push(server);
  return server;
}

/** A client whose waits are recorded instead of slept. */
function recordingClient(baseUrl: string, extra: Partial<ConstructorParameters<typeof GatehouseClient>[0]> = {}) {
  const waits: number[] = [];
  const client = new GatehouseClient({
    baseUrl,
    auth: bearerAuth('gth_test_AAAAAAAAAAAA_notarealkeynotarealkeynotarealkeynotarealkey0'),
    ...extra,
    retry: {
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
      ...extra.retry,
    },
  });
  return { client, waits };
}

const whoami = { principalId: 'p', authMethod: 'api_key', tenant: 't', scopes: [] };

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 7 ', now)).toBe(7);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5);
    expect(parseRetryAfter('Thursday, 01-Jan-26 00:00:09 GMT', now)).toBe(9); // RFC 850 form
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0); // in the past
  });
  it('ignores anything else', () => {
    for (const value of [undefined, null, '', '-1', '1.5', 'soon', '2026-01-01T00:00:05Z']) expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('backoff', () => {
  it('is full jitter: uniform below min(maxDelay, base · 2^n)', () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(0, { ...opts, random: () => 0 })).toBe(0);
    expect(backoffDelayMs(0, { ...opts, random: () => 0.999 })).toBe(99);
    expect(backoffDelayMs(2, { ...opts, random: () => 0.5 })).toBe(200);
    expect(backoffDelayMs(10, { ...opts, random: () => 0.999 })).toBe(999);
  });
  it('defaults to 3 retries within 30 s', () => {
    expect(resolveRetryOptions()).toMatchObject({ maxRetries: 3, maxTotalMs: 30_000 });
    expect(() => resolveRetryOptions({ maxRetries: -1 })).toThrow(RangeError);
  });
  it('knows which requests are idempotent', () => {
    expect(isIdempotent('GET', new Headers())).toBe(true);
    expect(isIdempotent('PUT', new Headers())).toBe(true);
    expect(isIdempotent('DELETE', new Headers())).toBe(true);
    expect(isIdempotent('POST', new Headers())).toBe(false);
    expect(isIdempotent('PATCH', new Headers())).toBe(false);
    expect(isIdempotent('PUT', new Headers({ 'if-match': '"3"' }))).toBe(false);
  });
});

describe('retries against a gateway', () => {
  it('429 twice with Retry-After, then 200: waits as told (real time) and succeeds on the third attempt', async () => {
    const gw = await gateway((_req, res, i) => (i < 2 ? problem(res, 429, 'RATE_LIMITED', { 'retry-after': '1' }) : ok(res, whoami)));
    const client = new GatehouseClient({ baseUrl: gw.url, auth: bearerAuth('token-value-123') });
    const started = Date.now();
    await expect(client.whoami()).resolves.toEqual(whoami);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(gw.requests).toHaveLength(3);
  });

  it('Retry-After as an HTTP date', async () => {
    const gw = await gateway((_req, res, i) =>
      i < 1 ? problem(res, 429, 'RATE_LIMITED', { 'retry-after': new Date(Date.now() + 3000).toUTCString() }) : ok(res, whoami),
    );
    const { client, waits } = recordingClient(gw.url);
    await client.whoami();
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(2000);
    expect(waits[0]).toBeLessThanOrEqual(4000);
  });

  it('POST is retried on 429 (refused before acting)', async () => {
    const gw = await gateway((_req, res, i) => (i < 2 ? problem(res, 429, 'RATE_LIMITED', { 'retry-after': '0' }) : ok(res, { valid: false })));
    const { client, waits } = recordingClient(gw.url);
    const result = await client.request('POST', '/v1/items', { body: { name: 'x' } });
    expect(result.status).toBe(200);
    expect(waits).toEqual([0, 0]);
    expect(gw.requests.map((r) => r.body)).toEqual(['{"name":"x"}', '{"name":"x"}', '{"name":"x"}']);
  });

  it('503 to a POST: exactly one attempt, the error carries the envelope and Retry-After', async () => {
    const gw = await gateway((_req, res) => problem(res, 503, 'SERVICE_UNAVAILABLE', { 'retry-after': '1' }));
    const { client, waits } = recordingClient(gw.url);
    const error = await client.createKey({ name: 'k', scopes: ['items:read'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseApiError);
    expect(error).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', requestId: 'req-503', detail: 'scripted 503', retryAfterSeconds: 1, attempts: 1 });
    expect(gw.requests).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('503 to a GET is retried with backoff (full jitter), at most 3 times', async () => {
    const gw = await gateway((_req, res) => problem(res, 503, 'SERVICE_UNAVAILABLE'));
    const { client, waits } = recordingClient(gw.url, { retry: { baseDelayMs: 100, maxDelayMs: 10_000, random: () => 0.5 } });
    const error = (await client.listKeys().catch((e: unknown) => e)) as GatehouseApiError;
    expect(error.status).toBe(503);
    expect(error.attempts).toBe(4);
    expect(gw.requests).toHaveLength(4);
    expect(waits).toEqual([50, 100, 200]);
  });

  it('PUT without If-Match is retried on 503; with If-Match it is not', async () => {
    const gw = await gateway((_req, res, i) => (i % 2 === 0 ? problem(res, 503, 'SERVICE_UNAVAILABLE') : ok(res, { id: 'x' })));
    const { client } = recordingClient(gw.url);
    const itemId = '00000000-0000-4000-8000-000000000000';
    await client.replaceItem(itemId, { name: 'n', data: {} });
    expect(gw.requests).toHaveLength(2);
    await expect(client.replaceItem(itemId, { name: 'n', data: {} }, { ifMatch: 3 })).rejects.toMatchObject({ status: 503 });
    expect(gw.requests).toHaveLength(3);
    expect(gw.requests[2]!.headers['if-match']).toBe('"3"');
  });

  it('a Retry-After beyond the time budget is not waited for', async () => {
    const gw = await gateway((_req, res) => problem(res, 429, 'RATE_LIMITED', { 'retry-after': '31' }));
    const { client, waits } = recordingClient(gw.url);
    await expect(client.whoami()).rejects.toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfterSeconds: 31, attempts: 1 });
    expect(waits).toEqual([]);
    // A smaller budget: a 1 s Retry-After no longer fits in 500 ms.
    const gw2 = await gateway((_req, res) => problem(res, 429, 'RATE_LIMITED', { 'retry-after': '1' }));
    const tight = recordingClient(gw2.url, { retry: { maxTotalMs: 500 } });
    await expect(tight.client.health()).rejects.toMatchObject({ status: 429, attempts: 1 });
    expect(tight.waits).toEqual([]);
  });

  it('maxRetries: 0 disables retrying', async () => {
    const gw = await gateway((_req, res) => problem(res, 429, 'RATE_LIMITED', { 'retry-after': '0' }));
    const { client } = recordingClient(gw.url, { retry: { maxRetries: 0 } });
    await expect(client.whoami()).rejects.toMatchObject({ status: 429, attempts: 1 });
  });

  it('POST: retried after a connection error before sending, never after a timeout once sent', async () => {
    const gw = await gateway((req, res) => {
      if (req.url === '/slow') return; // never answers
      ok(res, { ok: true }, 201);
    });
    let calls = 0;
    const flaky: typeof fetch = (input, init) => {
      calls += 1;
      if (calls === 1) return Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }));
      return fetch(input, init);
    };
    const { client, waits } = recordingClient(gw.url, { fetch: flaky });
    await expect(client.request('POST', '/v1/items', { body: { name: 'x' } })).resolves.toMatchObject({ status: 201 });
    expect(calls).toBe(2);
    expect(waits).toHaveLength(1);
    expect(gw.requests).toHaveLength(1);

    const slow = recordingClient(gw.url, { timeoutMs: 200 });
    const error = await slow.client.request('POST', '/slow', { body: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseNetworkError);
    expect(error).toMatchObject({ sent: true, errorCode: 'TimeoutError', attempts: 1 });
    expect(gw.requests.filter((r) => r.path === '/slow')).toHaveLength(1);

    // The same timeout on a GET is retried.
    const get = recordingClient(gw.url, { timeoutMs: 100, retry: { maxRetries: 2 } });
    await expect(get.client.request('GET', '/slow')).rejects.toMatchObject({ errorCode: 'TimeoutError', attempts: 3 });
  });

  it('POST: a connection reset after sending is not retried', async () => {
    const gw = await gateway((req) => req.socket.destroy());
    const { client } = recordingClient(gw.url);
    const error = await client.createItem({ name: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseNetworkError);
    expect((error as GatehouseNetworkError).sent).toBe(true);
    expect(gw.requests).toHaveLength(1);
  });

  it('connection refused: every method is retried, then a GatehouseNetworkError that names no secret', async () => {
    const gw = await gateway(() => undefined);
    await gw.close();
    const key = 'gth_test_AAAAAAAAAAAA_notarealkeynotarealkeynotarealkeynotarealkey0';
    const { client, waits } = recordingClient(gw.url, { auth: bearerAuth(key) });
    const error = (await client.createKey({ name: 'x', scopes: ['items:read'] }).catch((e: unknown) => e)) as GatehouseNetworkError;
    expect(error).toBeInstanceOf(GatehouseNetworkError);
    expect(error).toMatchObject({ sent: false, errorCode: 'ECONNREFUSED', attempts: 4 });
    expect(waits).toHaveLength(3);
    expect(error.message).not.toContain(key);
  });

  it('a caller abort is not retried', async () => {
    const gw = await gateway(() => undefined);
    const { client } = recordingClient(gw.url);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(client.whoami({ signal: controller.signal })).rejects.toMatchObject({ errorCode: 'AbortError', attempts: 1 });
  });

  it('a 401 with a refreshing token provider: one refresh, one more attempt (also for POST)', async () => {
    const gw = await gateway((req, res) => (req.headers.authorization === 'Bearer fresh-token' ? ok(res, { id: 'i' }, 201) : problem(res, 401, 'AUTHENTICATION_FAILED')));
    const asked: boolean[] = [];
    const client = new GatehouseClient({
      baseUrl: gw.url,
      auth: bearerAuth({
        getToken: ({ forceRefresh }) => {
          asked.push(forceRefresh);
          return Promise.resolve(forceRefresh ? 'fresh-token' : 'stale-token');
        },
      }),
    });
    await expect(client.createItem({ name: 'x' })).resolves.toEqual({ id: 'i' });
    expect(asked).toEqual([false, true]);
    // Still 401 after the refresh: the error, no loop.
    const never = new GatehouseClient({ baseUrl: gw.url, auth: bearerAuth({ getToken: () => Promise.resolve('stale-token') }) });
    await expect(never.whoami()).rejects.toMatchObject({ status: 401, attempts: 2 });
  });
});
