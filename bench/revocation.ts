/**
 * Part 3 — revocation propagation through the local gateway, in each mode the deployment offers: with the key's
 * answer cached (the authorizer's decision cache, default TTL 3 s; in gateway cache mode also the gateway's cache of
 * the authorizer's answer), the time from `DELETE /v1/keys/{id}` answering 204 until a request with the key is
 * refused (401), polling every 50 ms.
 *
 * A cached Allow lives at most its TTL from the answer that stored it and is not refreshed by hits; in gateway cache
 * mode the gateway may store an answer the authorizer gave from its own cache, so the bound is the sum of the two
 * TTLs (lambdas/core/revocation-window.ts). The delay depends on when in those lives the revocation lands, so each
 * key is revoked at a different phase (spread over the bound since its first allowed request) and the keys sample
 * the whole range, worst case included.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { revocationBoundSeconds } from '../lambdas/core/revocation-window.js';
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
  /** What the mode is called in the report. */
  readonly mode: string;
  readonly pollIntervalMs: number;
  readonly cacheTtlSeconds: number;
  readonly gatewayCacheTtlSeconds: number;
  /** The window the deployment promises (GATEHOUSE_REVOCATION_WINDOW_SECONDS). */
  readonly windowSeconds: number;
  /** The worst case the settings allow: decision cache + gateway cache. */
  readonly boundSeconds: number;
  readonly keys: readonly KeyRevocation[];
  readonly medianMs: number;
  readonly maxMs: number;
}

/** The modes §3 measures: the default, and gateway cache mode filling the default 5 s window (3 s + 2 s). */
export const REVOCATION_MODES = [
  { mode: 'default mode', settings: {} },
  { mode: 'gateway cache mode', settings: { GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: '2' } },
] as const;

const POLL_MS = 50;

async function status(baseUrl: string, key: string): Promise<number> {
  // Authorization: the one header that works in both modes.
  const res = await fetch(`${baseUrl}/v1/whoami`, { headers: { authorization: `Bearer ${key}` } });
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

export async function runRevocation(s: BenchStack, options: { mode: string; keys?: number; log?: (line: string) => void }): Promise<RevocationResults> {
  const n = options.keys ?? 8;
  const settings = s.stack.settings;
  const bound = revocationBoundSeconds(settings);
  options.log?.(`revocation (${options.mode}): ${n} keys, revoked at phases spread over the ${bound} s the caches may keep an answer…`);
  const keys = await Promise.all(Array.from({ length: n }, (_, i) => revokeOne(s, i, (i * bound * 1000) / n)));
  const sorted = keys.map((k) => k.propagationMs).sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const medianMs = sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    mode: options.mode,
    pollIntervalMs: POLL_MS,
    cacheTtlSeconds: settings.cacheTtlSeconds,
    gatewayCacheTtlSeconds: settings.gatewayCacheTtlSeconds,
    windowSeconds: settings.revocationWindowSeconds,
    boundSeconds: bound,
    keys,
    medianMs,
    maxMs: sorted[sorted.length - 1]!,
  };
}
