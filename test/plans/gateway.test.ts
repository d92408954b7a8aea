/**
 * Plans end to end on the local stack (real sockets, real dynalite, the gateway's usage-plan emulation): a key on a
 * small plan gets exactly its quota with RateLimit fields that match, then API Gateway's 429 (INVALID_API_KEY, as
 * deployed) with Retry-After and the reset instant; a key cannot be put on a plan its creator could not use; a plan
 * change takes effect within the decision cache's TTL; GET /v1/usage shows plan, use and what remains.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, machineToken, startTestStack, type TestStack } from '../local/support.js';

const PLANS = {
  plans: {
    tiny: { quota: { limit: 3, period: 'day' } },
    writer: { quota: { limit: 50, period: 'day' } },
    roomy: { rate: 100, burst: 200, quota: { limit: 1000, period: 'day' } },
  },
  defaultPlan: 'roomy',
};

let stack: TestStack;
let admin: Record<string, string>;

beforeAll(async () => {
  stack = await startTestStack({ env: { GATEHOUSE_PLANS: JSON.stringify(PLANS) } });
  admin = { 'x-api-key': stack.config.adminKey };
});
afterAll(async () => stack?.stop());

async function createKey(headers: Record<string, string>, body: Record<string, unknown>): Promise<Response> {
  return stack.api('/v1/keys', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function newKey(plan: string, scopes: string[]): Promise<{ id: string; key: string }> {
  const res = await createKey(admin, { name: `on ${plan}`, scopes, plan });
  expect(res.status, await res.clone().text()).toBe(201);
  const body = (await res.json()) as { id: string; key: string; plan: string };
  expect(body.plan).toBe(plan);
  return body;
}

const secondsToUtcMidnight = () => {
  const now = new Date();
  return Math.ceil((Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) / 1000);
};

describe('a key on a small plan', () => {
  it('gets exactly its quota, each success saying what remains (RateLimit, draft-09), then 429 QUOTA_EXCEEDED with Retry-After and the reset instant', async () => {
    const { key } = await newKey('tiny', ['items:read']);
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await stack.api('/v1/whoami', { headers: { 'x-api-key': key } });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-policy')).toBe('"quota";q=3;w=86400');
      remaining.push(res.headers.get('ratelimit') ?? '');
      expect(((await res.json()) as { plan: string }).plan).toBe('tiny');
    }
    expect(remaining.map((r) => r.replace(/;t=\d+$/, ''))).toEqual(['"quota";r=2', '"quota";r=1', '"quota";r=0']);
    const t = Number(/;t=(\d+)$/.exec(remaining[2]!)?.[1]);
    expect(Math.abs(t - secondsToUtcMidnight())).toBeLessThanOrEqual(2);

    const refused = await stack.api('/v1/whoami', { headers: { 'x-api-key': key } });
    const problem = await expectProblem(refused, 429, 'QUOTA_EXCEEDED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Math.abs(retryAfter - secondsToUtcMidnight())).toBeLessThanOrEqual(2);
    const midnight = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1)).toISOString();
    expect(problem.detail).toContain(midnight);
    // Answered by the gateway, as API Gateway would: no handler ran.
    expect(refused.headers.get('x-gatehouse-gateway-response')).toBe('INVALID_API_KEY');
    // Every further request is refused too: the quota never overshoots.
    expect((await stack.api('/v1/items', { headers: { 'x-api-key': key } })).status).toBe(429);
  });

  it('a plan change takes effect within the decision cache TTL (3 s by default)', async () => {
    const { id, key } = await newKey('tiny', ['items:read']);
    for (let i = 0; i < 3; i++) expect((await stack.api('/v1/whoami', { headers: { 'x-api-key': key } })).status).toBe(200);
    expect((await stack.api('/v1/whoami', { headers: { 'x-api-key': key } })).status).toBe(429);
    const changed = await stack.api(`/v1/keys/${id}/plan`, { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ plan: 'roomy' }) });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as { plan: string }).plan).toBe('roomy');
    const started = Date.now();
    let status = 429;
    while (status === 429 && Date.now() - started < 6000) {
      status = (await stack.api('/v1/whoami', { headers: { 'x-api-key': key } })).status;
      if (status === 429) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    expect(Date.now() - started).toBeLessThanOrEqual(3000 + 1000);
  });
});

describe('a key cannot be put on a plan its creator could not use', () => {
  it('create: a looser plan is 403 and nothing is created; an unknown plan is 400 naming the plans; a narrower one works', async () => {
    const { key: writer } = await newKey('writer', ['keys:write', 'keys:read', 'items:read']);
    const headers = { 'x-api-key': writer };
    const before = (await (await stack.api('/v1/keys', { headers: admin })).json()) as { keys: unknown[] };
    const looser = await expectProblem(await createKey(headers, { name: 'x', scopes: ['items:read'], plan: 'roomy' }), 403, 'PERMISSION_DENIED');
    expect(looser.detail).toContain('writer');
    const unknown = await expectProblem(await createKey(headers, { name: 'x', scopes: ['items:read'], plan: 'gold' }), 400, 'VALIDATION_ERROR');
    expect(JSON.stringify(unknown)).toContain('tiny');
    const after = (await (await stack.api('/v1/keys', { headers: admin })).json()) as { keys: unknown[] };
    expect(after.keys).toHaveLength(before.keys.length);
    // Without a plan, the default (roomy) is looser than the creator's: the new key gets the creator's own.
    const implicit = await createKey(headers, { name: 'implicit', scopes: ['items:read'] });
    expect(implicit.status).toBe(201);
    expect(((await implicit.json()) as { plan: string }).plan).toBe('writer');
    const narrower = await createKey(headers, { name: 'narrow', scopes: ['items:read'], plan: 'tiny' });
    expect(narrower.status).toBe(201);
  });

  it('change: a keys:write holder cannot lift a key of its tenant to a looser plan, nor decide for a looser key', async () => {
    const { key: writer } = await newKey('writer', ['keys:write', 'keys:read']);
    const { id: small } = await newKey('tiny', ['items:read']);
    const { id: big } = await newKey('roomy', ['items:read']);
    const put = (id: string, plan: string) =>
      stack.api(`/v1/keys/${id}/plan`, { method: 'PUT', headers: { 'x-api-key': writer, 'content-type': 'application/json' }, body: JSON.stringify({ plan }) });
    await expectProblem(await put(small, 'roomy'), 403, 'PERMISSION_DENIED');
    await expectProblem(await put(big, 'tiny'), 403, 'PERMISSION_DENIED');
    expect((await put(small, 'writer')).status).toBe(200);
  });
});

describe('GET /v1/usage', () => {
  it("shows each used key's plan, the period's use and what remains", async () => {
    const { id, key } = await newKey('writer', ['items:read']);
    for (let i = 0; i < 2; i++) expect((await stack.api('/v1/whoami', { headers: { 'x-api-key': key } })).status).toBe(200);
    // Request counts arrive through the bookkeeping feed: wait for this key's row.
    let row: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !row; i++) {
      const res = await stack.api(`/v1/usage?keyId=${id}`, { headers: admin });
      row = ((await res.json()) as { usage: Record<string, unknown>[] }).usage[0];
      if (!row) await new Promise((r) => setTimeout(r, 100));
    }
    expect(row).toMatchObject({ keyId: id, plan: 'writer', quota: { limit: 50, period: 'day', used: 2, remaining: 48 } });
  });
});

describe('tokens on plans', () => {
  it("a machine client's tokens share one counter (its principal, not the token string) and are held to their plan", async () => {
    // No mapping names this stack's (random) machine client: its tokens are on the default plan, here the tiny one.
    const tokenStack = await startTestStack({ env: { GATEHOUSE_PLANS: JSON.stringify({ ...PLANS, defaultPlan: 'tiny' }) } });
    try {
      const first = await machineToken(tokenStack.config, 'gatehouse/items:read');
      const second = await machineToken(tokenStack.config, 'gatehouse/items:read');
      expect(second).not.toBe(first);
      const call = (token: string) => tokenStack.api('/v1/whoami', { headers: bearer(token) });
      expect((await call(first)).status).toBe(200);
      expect((await call(first)).status).toBe(200);
      const third = await call(second);
      expect(third.status).toBe(200);
      expect(third.headers.get('ratelimit')).toMatch(/^"quota";r=0;t=\d+$/);
      expect(((await third.json()) as { plan: string }).plan).toBe('tiny');
      await expectProblem(await call(second), 429, 'QUOTA_EXCEEDED');
      await expectProblem(await call(first), 429, 'QUOTA_EXCEEDED');
    } finally {
      await tokenStack.stop();
    }
  });
});
