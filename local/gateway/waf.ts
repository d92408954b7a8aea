/**
 * The WAF rate-based rules of CONTRACT §5, from the same settings the CDK stack reads
 * (`rateLimitPerIp`, `rateLimitPerCredential`, `rateLimitWindowSeconds`).
 *
 * WAF runs before routing and before any authorizer, so a blocked request never reaches either.
 * Rules are evaluated in priority order; the first that blocks terminates evaluation (later rules do not
 * count that request). A rate-based rule counts every request it evaluates, blocked ones included, and
 * blocks while more than `limit` requests of one aggregation key fall in the window.
 *
 * The per-credential limit is TWO rules, one per header: a WAF rule with CUSTOM_KEYS does not count a
 * request that lacks any of its keys, so one rule keyed on both Authorization and X-API-Key would only
 * see requests carrying both. One rule per header counts every credential wherever it is sent, and a
 * request with neither header is counted by the per-IP rule only. {@link WAF_RATE_RULES} is that
 * definition, for the CDK stack to deploy as it is.
 *
 * Local differences (documented, deliberate): WAF evaluates its counts about every 10 s, so in AWS a burst
 * can overshoot the limit for a few seconds and a block can outlast the burst by as much; the local
 * counter is exact and immediate (stricter, never looser).
 */
import type { SettingsValues } from '../../lambdas/core/settings.js';
import { credentialRateKey, WAF_RATE_RULES, type WafRateRuleDefinition } from '../../lambdas/core/waf-rules.js';

export { WAF_RATE_RULES };

export type WafSettings = Pick<SettingsValues, 'rateLimitPerIp' | 'rateLimitPerCredential' | 'rateLimitWindowSeconds'>;

export interface WafRequest {
  readonly sourceIp: string;
  /** Header lookup by lower-case name; undefined when absent. */
  header(name: string): string | undefined;
}

export type WafVerdict = { readonly blocked: false } | { readonly blocked: true; readonly rule: string };

/** One key's request times inside the window: a queue whose head index advances (no per-request array shifting). */
interface Window {
  times: number[];
  head: number;
}

/** Sliding-window counts per aggregation key. */
class RateCounter {
  private readonly hits = new Map<string, Window>();
  private lastSweep = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one request for `key`; true when the key is now over the limit. */
  hit(key: string, nowMs: number): boolean {
    this.sweep(nowMs);
    const since = nowMs - this.windowMs;
    let window = this.hits.get(key);
    if (window === undefined) {
      window = { times: [], head: 0 };
      this.hits.set(key, window);
    }
    const { times } = window;
    while (window.head < times.length && (times[window.head] ?? 0) <= since) window.head += 1;
    // Compact now and then, so the queue's memory follows the window, at amortised O(1) per request.
    if (window.head > 1024 && window.head * 2 > times.length) {
      window.times = times.slice(window.head);
      window.head = 0;
    }
    window.times.push(nowMs);
    return window.times.length - window.head > this.limit;
  }

  /** Forgets keys with no request in the window, so random credentials cannot grow memory without bound. */
  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweep < this.windowMs) return;
    this.lastSweep = nowMs;
    const since = nowMs - this.windowMs;
    for (const [key, { times }] of this.hits) if ((times[times.length - 1] ?? 0) <= since) this.hits.delete(key);
  }
}

export class Waf {
  private readonly rules: { readonly definition: WafRateRuleDefinition; readonly counter: RateCounter }[];

  constructor(settings: WafSettings, definitions: readonly WafRateRuleDefinition[] = WAF_RATE_RULES) {
    const windowMs = settings.rateLimitWindowSeconds * 1000;
    this.rules = [...definitions]
      .sort((a, b) => a.priority - b.priority)
      .map((definition) => ({ definition, counter: new RateCounter(settings[definition.limitSetting], windowMs) }));
  }

  check(request: WafRequest, nowMs: number): WafVerdict {
    for (const { definition, counter } of this.rules) {
      const header = definition.aggregateKey.kind === 'ip' ? undefined : request.header(definition.aggregateKey.name);
      const key = definition.aggregateKey.kind === 'ip' ? request.sourceIp : header === undefined ? undefined : credentialRateKey(header);
      // CUSTOM_KEYS: a request without the key is not counted by this rule.
      if (key === undefined) continue;
      if (counter.hit(key, nowMs)) return { blocked: true, rule: definition.name };
    }
    return { blocked: false };
  }
}
