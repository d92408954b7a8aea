/**
 * The WAF rate-based rules of CONTRACT §5, from the same settings and definitions the CDK stack deploys
 * (`rateLimitPerIp`, `rateLimitPerCredential`, `rateLimitWindowSeconds`; lambdas/core/waf-rules.ts).
 *
 * WAF runs before routing and before any authorizer, so a blocked request never reaches either.
 * Rules are evaluated in priority order; the first that blocks terminates evaluation (later rules do not
 * count that request). A rate-based rule counts every request it evaluates, blocked ones included, and
 * blocks while more than `limit` requests of one aggregation key fall in the window. A rule keyed on a header does
 * not count a request without that header, and a request with neither credential header is counted by the per-IP
 * rule only.
 *
 * Header values become keys through exactly the web ACL's text transformations ({@link credentialRateKey}).
 *
 * Local differences (documented, deliberate; each stricter than AWS, never looser):
 * - WAF evaluates its counts about every 10 s, so in AWS a burst can overshoot the limit for a few seconds and a
 *   block can outlast the burst by as much; the local counter is exact and immediate.
 * - ONE budget per credential. In AWS the two per-credential rules count separately (WAF cannot key one rule on
 *   "whichever credential header is present"), and the transformations cannot trim, so one API key has up to
 *   five buckets there: `Bearer <key>` in Authorization, and in X-API-Key the bare key and the key with padding
 *   the authorizer ignores (non-breaking spaces) before, after, or on both sides. Locally both rules share one
 *   counter, keyed on the credential as the authorizer reads it: the transformed value without its one leading and
 *   trailing space and, in Authorization, without the `bearer ` scheme (see {@link credentialBudgetKey}). A request
 *   carrying the same credential in both headers is counted once.
 */
import type { SettingsValues } from '../../lambdas/core/settings.js';
import { credentialRateKey, WAF_RATE_RULES, type CredentialHeader, type WafRateRuleDefinition } from '../../lambdas/core/waf-rules.js';

export { WAF_RATE_RULES };

const BEARER_PREFIX = 'bearer ';

/**
 * The local per-credential budget key: the web ACL's rate key, with what the authorizer ignores around the
 * credential taken off, so that `Authorization: Bearer K`, `X-API-Key: K` and `X-API-Key: <NBSP>K` are one budget.
 */
export function credentialBudgetKey(header: CredentialHeader, value: string): string {
  // After COMPRESS_WHITE_SPACE any padding is at most one space at each end.
  const key = credentialRateKey(value).replace(/^ /, '').replace(/ $/, '');
  return header === 'authorization' && key.startsWith(BEARER_PREFIX) ? key.slice(BEARER_PREFIX.length) : key;
}

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
    // Every per-credential rule draws on one counter per limit setting: one credential, one budget.
    const credentialCounters = new Map<WafRateRuleDefinition['limitSetting'], RateCounter>();
    const credentialCounter = (setting: WafRateRuleDefinition['limitSetting']): RateCounter => {
      let counter = credentialCounters.get(setting);
      if (counter === undefined) {
        counter = new RateCounter(settings[setting], windowMs);
        credentialCounters.set(setting, counter);
      }
      return counter;
    };
    this.rules = [...definitions]
      .sort((a, b) => a.priority - b.priority)
      .map((definition) => ({
        definition,
        counter: definition.aggregateKey.kind === 'ip' ? new RateCounter(settings[definition.limitSetting], windowMs) : credentialCounter(definition.limitSetting),
      }));
  }

  check(request: WafRequest, nowMs: number): WafVerdict {
    const counted = new Set<string>();
    for (const { definition, counter } of this.rules) {
      let key: string;
      if (definition.aggregateKey.kind === 'ip') {
        key = request.sourceIp;
      } else {
        const value = request.header(definition.aggregateKey.name);
        // CUSTOM_KEYS: a request without the key is not counted by this rule.
        if (value === undefined) continue;
        key = credentialBudgetKey(definition.aggregateKey.name, value);
        // The same credential in both headers is one request against its one budget.
        if (counted.has(key)) continue;
        counted.add(key);
      }
      if (counter.hit(key, nowMs)) return { blocked: true, rule: definition.name };
    }
    return { blocked: false };
  }
}
