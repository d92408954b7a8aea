/**
 * Stage throttling as API Gateway applies it: a token bucket per stage holding at most `burst` tokens,
 * refilled at `rate` tokens per second; a request takes one token or is answered with the THROTTLED gateway
 * response (429). The settings are the CDK stack's (`throttleRateLimit`, `throttleBurstLimit`).
 * It runs after WAF (a request WAF blocked never reaches the stage) and before the authorizer.
 */
import type { SettingsValues } from '../../lambdas/core/settings.js';

export type ThrottleSettings = Pick<SettingsValues, 'throttleRateLimit' | 'throttleBurstLimit'>;

export class TokenBucket {
  private tokens: number;
  private updatedAt: number | undefined;
  private readonly rate: number;
  private readonly burst: number;

  constructor(settings: ThrottleSettings) {
    this.rate = settings.throttleRateLimit;
    this.burst = settings.throttleBurstLimit;
    this.tokens = this.burst;
  }

  /** Takes a token; false when the bucket is empty (the request is throttled). */
  take(nowMs: number): boolean {
    if (this.updatedAt !== undefined && nowMs > this.updatedAt) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.updatedAt) / 1000) * this.rate);
    }
    this.updatedAt = Math.max(this.updatedAt ?? nowMs, nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
