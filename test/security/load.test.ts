/**
 * Load through the local gateway (loopback only, bounded in time and concurrency): mixed create / revoke / use /
 * verify for GATEHOUSE_LOAD_SECONDS (default 20 s in `npm test`; SECURITY.md gives the figures of a 60 s run).
 *
 * - create: POST /v1/keys with the bootstrap admin key;
 * - revoke: DELETE /v1/keys/{id} of a key created earlier;
 * - use:    GET /v1/whoami with a created key (the authorizer path, with its ≤ 3 s decision cache);
 * - verify: POST /v1/verify, SigV4-signed with the stack's IAM user (no cache: must answer the truth at once).
 * Checks: no status other than the expected one or 429 (429s are counted; the limits are raised for this test so
 * the WAF rules do not dominate); every created key is retrievable at the end; no revoked key is accepted 5 s after
 * its revocation — checked for every revoked key at revocation + 5 s, and again for all of them at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import { call, callSigned, startTestStack } from './support/http.js';

const SECONDS = Number(process.env.GATEHOUSE_LOAD_SECONDS ?? '20');
const CONCURRENCY = Number(process.env.GATEHOUSE_LOAD_CONCURRENCY ?? '8');
const REVOCATION_WINDOW_MS = 5_000;

let stack: LocalStack;

interface Created {
  readonly id: string;
  readonly key: string;
  /** When the DELETE was sent: from then on a refusal is no error (the revocation may already be applied). */
  revokeSentAt?: number;
  /** When the DELETE answered 204. */
  revokedAt?: number;
}

beforeAll(async () => {
  stack = await startTestStack({
    GATEHOUSE_RATE_LIMIT_PER_IP: '2000000000',
    GATEHOUSE_RATE_LIMIT_PER_CREDENTIAL: '2000000000',
    GATEHOUSE_THROTTLE_RATE_LIMIT: '10000',
    GATEHOUSE_THROTTLE_BURST_LIMIT: '5000',
  });
}, 30_000);
afterAll(() => stack?.close());

describe(`load: ${SECONDS} s of mixed create / revoke / use / verify through the local gateway`, () => {
  it('no error but 429, every created key retrievable, no revoked key accepted after the 5 s window', async () => {
    const admin = { key: stack.config.adminKey };
    const created: Created[] = [];
    const active: Created[] = [];
    const stats = { requests: 0, create: 0, revoke: 0, use: 0, verify: 0, status429: 0, lateChecks: 0, useOfRevokedWithinWindow: 0 };
    const errors: string[] = [];
    const lateChecks: Promise<void>[] = [];
    const latencies: number[] = [];
    const pick = <T>(list: readonly T[]): T | undefined => list[Math.floor(Math.random() * list.length)];
    const expectStatus = (op: string, status: number, ok: number[], text: string) => {
      stats.requests++;
      if (status === 429) stats.status429++;
      else if (!ok.includes(status)) errors.push(`${op}: ${status} ${text.slice(0, 200)}`);
    };

    /** The 5 s check: at revocation + 5 s the key must be refused by the authorizer and by /v1/verify. */
    const checkRevokedLater = (k: Created) => {
      lateChecks.push(
        (async () => {
          await new Promise((r) => setTimeout(r, Math.max(0, k.revokedAt! + REVOCATION_WINDOW_MS - Date.now())));
          const [who, verified] = await Promise.all([call(stack, 'GET', '/v1/whoami', { credential: { key: k.key } }), callSigned<{ valid: boolean }>(stack, 'POST', '/v1/verify', { key: k.key })]);
          stats.lateChecks++;
          if (who.status !== 401) errors.push(`revoked key ${k.id} answered ${who.status} at revocation + 5 s`);
          if (verified.status !== 200 || verified.json.valid !== false) errors.push(`verify of revoked key ${k.id} at + 5 s: ${verified.status} ${verified.text}`);
        })(),
      );
    };

    const ops: [number, () => Promise<void>][] = [
      [
        20,
        async () => {
          const r = await call<{ id: string; key: string }>(stack, 'POST', '/v1/keys', { credential: admin, body: { name: 'load', scopes: ['items:read'] } });
          stats.create++;
          expectStatus('create', r.status, [201], r.text);
          if (r.status === 201) {
            const k = { id: r.json.id, key: r.json.key };
            created.push(k);
            active.push(k);
          }
        },
      ],
      [
        10,
        async () => {
          if (active.length < 5) return;
          const k = active.splice(Math.floor(Math.random() * active.length), 1)[0]!;
          k.revokeSentAt = Date.now();
          const r = await call(stack, 'DELETE', `/v1/keys/${k.id}`, { credential: admin });
          stats.revoke++;
          expectStatus('revoke', r.status, [204], r.text);
          if (r.status === 204) {
            k.revokedAt = Date.now();
            checkRevokedLater(k);
          } else {
            delete k.revokeSentAt;
            active.push(k);
          }
        },
      ],
      [
        30,
        async () => {
          const k = pick(created);
          if (!k) return;
          const revokedAt = k.revokedAt;
          const racing = k.revokeSentAt !== undefined;
          const r = await call(stack, 'GET', '/v1/whoami', { credential: { key: k.key } });
          stats.use++;
          if (revokedAt === undefined) {
            // Not revoked when sent; a revocation racing this request (sent before or during it) may already refuse it.
            expectStatus('use (active)', r.status, racing || k.revokeSentAt !== undefined ? [200, 401] : [200], r.text);
          } else if (Date.now() - revokedAt >= REVOCATION_WINDOW_MS) {
            expectStatus('use (revoked > 5 s ago)', r.status, [401], r.text);
          } else {
            if (r.status === 200) stats.useOfRevokedWithinWindow++;
            expectStatus('use (revoked < 5 s ago)', r.status, [200, 401], r.text);
          }
        },
      ],
      [
        40,
        async () => {
          const k = pick(created);
          if (!k) return;
          const revokedBefore = k.revokedAt !== undefined;
          const racing = k.revokeSentAt !== undefined;
          const r = await callSigned<{ valid: boolean }>(stack, 'POST', '/v1/verify', { key: k.key });
          stats.verify++;
          expectStatus('verify', r.status, [200], r.text);
          // /v1/verify has no cache: a key revoked before the request is invalid at once.
          if (r.status === 200 && revokedBefore && r.json.valid !== false) errors.push(`verify said valid for ${k.id}, revoked before the request`);
          if (r.status === 200 && !racing && k.revokeSentAt === undefined && r.json.valid !== true) errors.push(`verify said invalid for active ${k.id}`);
        },
      ],
    ];
    const total = ops.reduce((s, [w]) => s + w, 0);
    const choose = () => {
      let n = Math.random() * total;
      for (const [w, op] of ops) if ((n -= w) < 0) return op;
      return ops[0]![1];
    };

    const started = Date.now();
    const deadline = started + SECONDS * 1000;
    const worker = async () => {
      while (Date.now() < deadline) {
        const t0 = performance.now();
        await choose()();
        latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const elapsedS = (Date.now() - started) / 1000;

    // Every revoked key: its own check at revocation + 5 s, then all of them again now.
    await Promise.all(lateChecks);
    const revoked = created.filter((k) => k.revokedAt !== undefined);
    for (const k of revoked) {
      const r = await call(stack, 'GET', '/v1/whoami', { credential: { key: k.key } });
      if (r.status !== 401) errors.push(`final check: revoked key ${k.id} answered ${r.status}`);
    }
    // Every created key is retrievable (revoked ones as revoked).
    let retrievable = 0;
    for (const k of created) {
      const r = await call<{ id: string; status: string }>(stack, 'GET', `/v1/keys/${k.id}`, { credential: admin });
      if (r.status === 200 && r.json.id === k.id && r.json.status === (k.revokedAt === undefined ? 'active' : 'revoked')) retrievable++;
      else errors.push(`key ${k.id} not retrievable as expected: ${r.status} ${r.text.slice(0, 200)}`);
    }

    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]?.toFixed(1);
    console.log(
      `\nLoad (${SECONDS} s, ${CONCURRENCY} concurrent clients, loopback): ${stats.requests} requests in ${elapsedS.toFixed(1)} s = ${(stats.requests / elapsedS).toFixed(0)} req/s` +
        `\n  create ${stats.create}, revoke ${stats.revoke}, use ${stats.use}, verify ${stats.verify}; 429s ${stats.status429}; errors ${errors.length}` +
        `\n  latency ms p50 ${q(0.5)} p95 ${q(0.95)} p99 ${q(0.99)} max ${q(1)}` +
        `\n  keys created ${created.length}, retrievable at the end ${retrievable}; revoked ${revoked.length}, checked at revocation + 5 s ${stats.lateChecks} and again at the end;` +
        ` uses of a key inside its 5 s window after revocation that were still accepted: ${stats.useOfRevokedWithinWindow}`,
    );
    expect(errors).toEqual([]);
    expect(created.length).toBeGreaterThan(0);
    expect(revoked.length).toBeGreaterThan(0);
    expect(retrievable).toBe(created.length);
    expect(stats.lateChecks).toBe(revoked.length);
  }, (SECONDS + 60) * 1000);
});
