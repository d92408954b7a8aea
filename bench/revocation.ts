/**
 * Part 3 — revocation propagation through the local gateway: with the key's decision cached (the authorizer's
 * decision cache, default TTL 3 s), the time from `DELETE /v1/keys/{id}` answering 204 until a request with the
 * key is refused (401), polling every 50 ms.
 *
 * The cached Allow of a key lives at most the TTL from the decision that stored it and is not refreshed by hits, so
 * the delay depends on when in that life the revocation lands. Each key is revoked at a different phase (spread
 * over one TTL since its first allowed request) so that the keys sample the whole range, worst case included.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchStack } from './stack.js';

export interface KeyRevocation {
  readonly keyId: string;
  /** ms after the key's first allowed request at which DELETE was sent. */
  readonly revokedAfterMs: number;
  readonly allowedPollsBefore: number;
  readonly deleteStatus: number;
  /** ms from DELETE answering until the first refusal. */
  readonly propagationMs: number;
  readonly refusedStatus: number;
  /** Every request after the first refusal was refused too. */
  readonly stayedRefused: boolean;
}

export interface RevocationResults {
  readonly pollIntervalMs: number;
  readonly cacheTtlSeconds: number;
  readonly keys: readonly KeyRevocation[];
  readonly medianMs: number;
  readonly maxMs: number;
}

const POLL_MS = 50;

async function status(baseUrl: string, key: string): Promise<number> {
  const res = await fetch(`${baseUrl}/v1/whoami`, { headers: { 'x-api-key': key } });
  await res.arrayBuffer();
  return res.status;
}

async function revokeOne(s: BenchStack, index: number, phaseMs: number): Promise<KeyRevocation> {
  const { id, key } = await s.createKey(`revocation-${index}`, ['items:read']);
  // Warm: the first allowed request stores the decision; keep using the key until the phase is reached.
  const first = await status(s.baseUrl, key);
  if (first !== 200) throw new Error(`new key answered ${first}`);
  const warmStart = performance.now();
  let allowedPolls = 1;
  while (performance.now() - warmStart < phaseMs) {
    await sleep(POLL_MS);
    if ((await status(s.baseUrl, key)) === 200) allowedPolls++;
  }
  const revokedAfterMs = performance.now() - warmStart;
  const deleteStatus = await s.revokeKey(id);
  const answered = performance.now();
  let refusedAt: number | undefined;
  let refusedStatus = 0;
  for (;;) {
    const st = await status(s.baseUrl, key);
    if (st !== 200) {
      refusedAt = performance.now();
      refusedStatus = st;
      break;
    }
    if (performance.now() - answered > 30_000) break;
    await sleep(POLL_MS);
  }
  let stayedRefused = refusedAt !== undefined;
  for (let i = 0; i < 5 && stayedRefused; i++) {
    await sleep(POLL_MS);
    if ((await status(s.baseUrl, key)) === 200) stayedRefused = false;
  }
  return {
    keyId: id,
    revokedAfterMs,
    allowedPollsBefore: allowedPolls,
    deleteStatus,
    propagationMs: refusedAt === undefined ? Infinity : refusedAt - answered,
    refusedStatus,
    stayedRefused,
  };
}

export async function runRevocation(s: BenchStack, options: { keys?: number; log?: (line: string) => void } = {}): Promise<RevocationResults> {
  const n = options.keys ?? 8;
  const ttlSeconds = s.stack.settings.cacheTtlSeconds;
  options.log?.(`revocation: ${n} keys, revoked at phases spread over the ${ttlSeconds} s decision-cache TTL…`);
  const keys = await Promise.all(Array.from({ length: n }, (_, i) => revokeOne(s, i, (i * ttlSeconds * 1000) / n)));
  const sorted = keys.map((k) => k.propagationMs).sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const medianMs = sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { pollIntervalMs: POLL_MS, cacheTtlSeconds: ttlSeconds, keys, medianMs, maxMs: sorted[sorted.length - 1]! };
}
