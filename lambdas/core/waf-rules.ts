/**
 * The WAF rate rules of CONTRACT §5, as data: CDK deploys them (infra/waf-stack.ts) and the local gateway enforces
 * them (local/gateway/waf.ts) from this one definition.
 *
 * WAF's CUSTOM_KEYS do not count a request that lacks the key header, so there is one per-credential rule per
 * credential header, and the per-IP rule stays beside them for requests that carry no credential at all.
 */
import type { SettingsValues } from './settings.js';

/** Header names the per-credential rules key on and WAF logs redact (lower case, as WAF matches them). */
export const CREDENTIAL_HEADERS = ['authorization', 'x-api-key'] as const;

export type WafAggregateKey = { readonly kind: 'ip' } | { readonly kind: 'header'; readonly name: (typeof CREDENTIAL_HEADERS)[number] };

export interface WafRateRuleDefinition {
  /** WAF rule and metric name. */
  readonly name: string;
  /** Evaluation order inside the web ACL (lower first; the managed groups take the other slots). */
  readonly priority: number;
  readonly aggregateKey: WafAggregateKey;
  readonly limitSetting: keyof Pick<SettingsValues, 'rateLimitPerIp' | 'rateLimitPerCredential'>;
}

export const WAF_RATE_RULES: readonly WafRateRuleDefinition[] = [
  { name: 'RateLimitPerIp', priority: 2, aggregateKey: { kind: 'ip' }, limitSetting: 'rateLimitPerIp' },
  { name: 'RateLimitPerAuthorization', priority: 3, aggregateKey: { kind: 'header', name: 'authorization' }, limitSetting: 'rateLimitPerCredential' },
  { name: 'RateLimitPerApiKey', priority: 4, aggregateKey: { kind: 'header', name: 'x-api-key' }, limitSetting: 'rateLimitPerCredential' },
];

/**
 * The authorizer accepts `Bearer` in any case followed by any run of spaces or tabs, so one credential has many
 * spellings; the per-credential rules count the header value after lower-casing it and collapsing white space, so
 * every spelling lands in the same bucket. (Two credentials differing only in case would share a bucket: a stricter
 * limit, never a looser one; with 256-bit secrets it does not happen.)
 */
export const CREDENTIAL_KEY_TRANSFORMATIONS = [
  { priority: 0, type: 'LOWERCASE' },
  { priority: 1, type: 'COMPRESS_WHITE_SPACE' },
] as const;

/** What WAF's LOWERCASE + COMPRESS_WHITE_SPACE make of a header value (the local gateway's bucket key). */
export function credentialRateKey(value: string): string {
  // COMPRESS_WHITE_SPACE turns tab, LF, VT, FF, CR and space runs into one space.
  return value.toLowerCase().replace(/[\t\n\v\f\r ]+/g, ' ');
}

/** WAF custom response bodies are static: the request id in a WAF 429 is this placeholder. */
export const WAF_REQUEST_ID = 'unavailable';
