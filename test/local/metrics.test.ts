/**
 * Issue 13 on the local stack, over HTTP: the functions' metrics (the same EMF documents as in Lambda) are served
 * aggregated at GET /_local/metrics, and the authorizer's bookkeeping lines reach the same bookkeeper code in
 * batches, so usage and refusals show in GET /v1/usage and GET /v1/audit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../lambdas/core/api-key.js';
import type { MetricsView, SeriesView } from '../../local/metrics-view.js';
import { bearer, startTestStack, type TestStack } from './support.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

async function metrics(): Promise<MetricsView> {
  const res = await fetch(`${stack.apiUrl}/_local/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  return (await res.json()) as MetricsView;
}

const series = (view: MetricsView, name: string, dims: Record<string, string>): SeriesView | undefined =>
  view.metrics[name]?.find((s) => Object.entries(dims).every(([k, v]) => s.dimensions[k] === v));

describe('issue 13: the local stack', () => {
  it('issue 13: GET /_local/metrics answers the functions\' metrics, aggregated per metric and dimension values', async () => {
    const admin = stack.config.adminKey;
    for (let i = 0; i < 3; i++) expect((await stack.api('/v1/whoami', { headers: bearer(admin) })).status).toBe(200);
    expect((await stack.api('/v1/whoami')).status).toBe(401);
    expect((await stack.api('/v1/whoami', { headers: bearer(generateApiKey('test').key) })).status).toBe(401);

    const view = await metrics();
    expect(view.namespace).toBe('Gatehouse');
    expect(view.rejected).toBe(0);
    const allowed = series(view, 'Decisions', { outcome: 'allow', credential: 'api_key', service: 'gatehouse-authorizer', deployment: 'local' });
    expect(allowed).toMatchObject({ unit: 'Count', count: 3, sum: 3, min: 1, max: 1 });
    expect(series(view, 'Decisions', { outcome: 'refused', credential: 'none' })?.count).toBe(1);
    expect(series(view, 'Refusals', { reason: 'unknown' })?.count).toBe(1);
    const latency = series(view, 'DecisionLatency', { service: 'gatehouse-authorizer' });
    expect(latency?.unit).toBe('Milliseconds');
    expect(latency?.count).toBe(5);
    expect(latency!.p50).toBeLessThanOrEqual(latency!.p99);
    expect(latency!.min).toBeLessThanOrEqual(latency!.p50);
    expect(series(view, 'Requests', { route: 'GET /v1/whoami', status: '2xx', service: 'gatehouse-whoami' })?.count).toBe(3);
    // No dimension carries the admin key, its id or its tenant.
    const text = JSON.stringify(view);
    expect(text).not.toContain(admin);
    expect(text).not.toContain(admin.slice(9, 21));

    expect((await fetch(`${stack.apiUrl}/_local/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('issue 13: usage and refusals reach /v1/usage and /v1/audit through the bookkeeper, and it reports what it stored', async () => {
    const admin = stack.config.adminKey;
    const keyId = admin.slice(9, 21);
    const wrong = generateApiKey('test', keyId).key;
    expect((await stack.api('/v1/whoami', { headers: bearer(wrong) })).status).toBe(401);
    await stack.drainBookkeeping();

    const usage = (await (await stack.api(`/v1/usage?keyId=${keyId}`, { headers: bearer(admin) })).json()) as { usage: { requests: number }[] };
    expect(usage.usage[0]?.requests).toBeGreaterThanOrEqual(3);
    const audit = (await (await stack.api('/v1/audit?type=credential.refused', { headers: bearer(admin) })).json()) as { events: { keyId?: string; reason?: string }[] };
    expect(audit.events).toEqual(expect.arrayContaining([expect.objectContaining({ keyId, reason: 'secret_mismatch' })]));

    const view = await metrics();
    expect(series(view, 'BookkeepingRecords', { kind: 'usage', service: 'gatehouse-bookkeeper' })?.sum).toBeGreaterThanOrEqual(3);
    expect(series(view, 'BookkeepingRecords', { kind: 'refusal' })?.sum).toBeGreaterThanOrEqual(1);
    expect(view.metrics.BookkeepingFailures).toBeUndefined();
  });
});
