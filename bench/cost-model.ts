/**
 * Part 6 — what Gatehouse adds to each request in AWS, in money: authorizer invocations per request, and dollars per
 * million authorized requests, with and without API Gateway's authorizer cache, at several client request rates —
 * from this run's measured decision times (§1), bytes written per decision (§5) and the authorizer's memory (the
 * synthesised template), at the list prices of prices.ts. Pure: numbers in, tables out.
 *
 * The model, per credential, with Poisson arrivals at r requests/s (stated, not measured in AWS):
 * - API Gateway's cache with TTL T answers from its entry until it expires; a request after that invokes the
 *   authorizer and starts a new entry, so 1 + r·T requests share one invocation: invocations/request = 1 / (1 + r·T).
 *   One cache per stage is assumed; should API Gateway keep one per node (AWS does not say), there are more.
 * - The authorizer's decision cache (TTL D, one container) turns an invocation into a store read 1 / (1 + λ·D) of the
 *   time, λ the invocation rate (approximated as Poisson too).
 * - An invocation is billed its duration rounded up to 1 ms: a warm decision (microseconds, §1) bills 1 ms; a
 *   decision that reads DynamoDB bills its own work plus the read, whose latency from a VPC is ASSUMED (below), not
 *   measured here (§1's dynalite figure is loopback HTTP, not DynamoDB).
 */
import { PRICES } from './prices.js';

/** DynamoDB GetItem from the authorizer's VPC (gateway endpoint), assumed: AWS quotes single-digit milliseconds. */
export const ASSUMED_STORE_READ_MS = 5;

/** The per-credential request rates the table shows (requests per second). */
export const RATES = [0.1, 1, 10, 100] as const;

/** The configurations the table compares: each within the default 5 s revocation window. */
export const CONFIGURATIONS = [
  { label: 'API Gateway cache off, decision cache 3 s (default)', gatewayTtl: 0, decisionTtl: 3 },
  { label: 'gateway cache 2 s + decision cache 3 s', gatewayTtl: 2, decisionTtl: 3 },
  { label: 'gateway cache 5 s + decision cache 0 s', gatewayTtl: 5, decisionTtl: 0 },
] as const;

export interface CostInputs {
  /** The authorizer's memory (MB) and CPU architecture, from the synthesised template. */
  readonly memoryMb: number;
  readonly arm: boolean;
  /** Measured (§1): an API-key decision on a decision-cache hit, and the authorizer's own work on a miss (ns). */
  readonly keyHitNs: number;
  readonly keyMissOwnNs: number;
  /** Measured (§5): bytes the authorizer writes to CloudWatch Logs per allowed key decision (EMF + usage line). */
  readonly logBytesPerAllow: number;
  /** Measured (§2): the authorizer's first decision in a fresh process (import + init + decision), ms. */
  readonly firstDecisionMs?: number;
}

export interface CostCell {
  readonly invocationsPerRequest: number;
  readonly storeReadsPerRequest: number;
  /** Dollars per million authorized requests: what the authorizer adds (Lambda requests and duration, reads, logs). */
  readonly perMillion: number;
}

export interface CostModel {
  readonly inputs: CostInputs;
  readonly billedHitMs: number;
  readonly billedMissMs: number;
  readonly perInvocationHit: number;
  readonly perInvocationMiss: number;
  readonly rows: readonly { readonly rate: number; readonly cells: readonly CostCell[] }[];
  /** Dollars per cold start (init billed as duration since August 2025), from the measured first decision. */
  readonly perColdStart?: number;
}

/** Invocations per request with API Gateway's cache (TTL T seconds) for a client at r requests/s. */
export function invocationsPerRequest(rate: number, gatewayTtl: number): number {
  return gatewayTtl > 0 ? 1 / (1 + rate * gatewayTtl) : 1;
}

/** Store reads per request: the invocations the decision cache (TTL D) does not answer. */
export function storeReadsPerRequest(rate: number, gatewayTtl: number, decisionTtl: number): number {
  const invocations = invocationsPerRequest(rate, gatewayTtl);
  return invocations / (1 + rate * invocations * decisionTtl);
}

export function costModel(inputs: CostInputs): CostModel {
  const gb = inputs.memoryMb / 1024;
  const perGbSecond = inputs.arm ? PRICES.lambdaPerGbSecondArm : PRICES.lambdaPerGbSecondX86;
  const billedHitMs = Math.max(1, Math.ceil(inputs.keyHitNs / 1e6));
  const billedMissMs = Math.max(1, Math.ceil(inputs.keyMissOwnNs / 1e6 + ASSUMED_STORE_READ_MS));
  const invocation = (billedMs: number) => PRICES.lambdaPerMillionRequests / 1e6 + gb * (billedMs / 1000) * perGbSecond + (inputs.logBytesPerAllow / 1e9) * PRICES.logsIngestionPerGb;
  const perInvocationHit = invocation(billedHitMs);
  const perInvocationMiss = invocation(billedMissMs) + PRICES.dynamoPerMillionReadUnits / 1e6;
  const rows = RATES.map((rate) => ({
    rate,
    cells: CONFIGURATIONS.map(({ gatewayTtl, decisionTtl }) => {
      const invocations = invocationsPerRequest(rate, gatewayTtl);
      const reads = storeReadsPerRequest(rate, gatewayTtl, decisionTtl);
      return { invocationsPerRequest: invocations, storeReadsPerRequest: reads, perMillion: 1e6 * ((invocations - reads) * perInvocationHit + reads * perInvocationMiss) };
    }),
  }));
  return {
    inputs,
    billedHitMs,
    billedMissMs,
    perInvocationHit,
    perInvocationMiss,
    rows,
    ...(inputs.firstDecisionMs === undefined ? {} : { perColdStart: gb * (inputs.firstDecisionMs / 1000) * perGbSecond }),
  };
}
