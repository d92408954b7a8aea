/**
 * The WAF rate rules of CONTRACT §5, as data: CDK deploys them (infra/waf-stack.ts) and the local gateway enforces
 * them (local/gateway/waf.ts) from this one definition — the rules, and the text transformations that turn a
 * credential header into a rate key, with what each transformation does.
 *
 * WAF's CUSTOM_KEYS do not count a request that lacks the key header, so there is one per-credential rule per
 * credential header, and the per-IP rule stays beside them for requests that carry no credential at all.
 */
import type { SettingsValues } from './settings.js';

/** Header names the per-credential rules key on and WAF logs redact (lower case, as WAF matches them). */
export const CREDENTIAL_HEADERS = ['authorization', 'x-api-key'] as const;
export type CredentialHeader = (typeof CREDENTIAL_HEADERS)[number];

export type WafAggregateKey = { readonly kind: 'ip' } | { readonly kind: 'header'; readonly name: CredentialHeader };

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

// ---------------------------------------------------------------------------------------------------------------
// Text transformations
// ---------------------------------------------------------------------------------------------------------------

/**
 * The WAF text transformations Gatehouse uses, implemented as the AWS WAF Developer Guide ("Text transformation
 * options") defines them. WAF works on bytes; the local gateway's header values are Node's latin1 strings, one
 * character per byte, so the two agree character for character.
 *
 * Only transformations CloudFormation accepts may be used: AWS::WAFv2::WebACL TextTransformation.Type allows NONE,
 * COMPRESS_WHITE_SPACE, HTML_ENTITY_DECODE, LOWERCASE, CMD_LINE, URL_DECODE, BASE64_DECODE, HEX_DECODE, MD5,
 * REPLACE_COMMENTS, ESCAPE_SEQ_DECODE, SQL_HEX_DECODE, CSS_DECODE, JS_DECODE, NORMALIZE_PATH, NORMALIZE_PATH_WIN,
 * REMOVE_NULLS, REPLACE_NULLS, BASE64_DECODE_EXT, URL_DECODE_UNI and UTF8_TO_UNICODE — there is no TRIM (the WAFv2
 * API has been growing TRIM, REMOVE_WHITESPACE and others, but the CloudFormation resource schema does not list
 * them, and CDK's CfnWebACL passes `type` through as a plain string, so nothing would catch one before deploy).
 */
const TEXT_TRANSFORMATIONS = new Map<string, (value: string) => string>([
  // A-Z only: WAF leaves every other byte alone (so latin1 capitals such as À stay as they are).
  ['LOWERCASE', (value) => value.replace(/[A-Z]+/g, (run) => run.toLowerCase())],
  // \f, \t, \n, \r, \v and the non-breaking space (160) become spaces, then every run of spaces becomes one.
  ['COMPRESS_WHITE_SPACE', (value) => value.replace(/[\t\n\v\f\r \u00a0]+/g, ' ')],
]);

export interface WafTextTransformation {
  readonly priority: number;
  readonly type: string;
}

/** Applies transformations as WAF does: lowest priority first. An unknown type throws (implement it here first). */
export function applyTextTransformations(value: string, transformations: readonly WafTextTransformation[]): string {
  return [...transformations]
    .sort((a, b) => a.priority - b.priority)
    .reduce((current, { type }) => {
      const transform = TEXT_TRANSFORMATIONS.get(type);
      if (transform === undefined) throw new Error(`WAF text transformation ${type} has no local implementation`);
      return transform(current);
    }, value);
}

/**
 * The transformations of both per-credential keys. The authorizer accepts `Bearer` in any case followed by any run
 * of spaces or tabs, so one credential has many spellings; lower-casing and compressing white space puts every
 * spelling of `Bearer <credential>` in one bucket, and runs of padding (NBSP included) in one bucket per end.
 * (Two credentials differing only in A-Z case would share a bucket: a stricter limit, never a looser one; with
 * 256-bit secrets it does not happen.)
 */
export const CREDENTIAL_KEY_TRANSFORMATIONS: readonly WafTextTransformation[] = [
  { priority: 0, type: 'LOWERCASE' },
  { priority: 1, type: 'COMPRESS_WHITE_SPACE' },
];

/** What the per-credential rules of the deployed web ACL count a header value as. */
export function credentialRateKey(value: string): string {
  return applyTextTransformations(value, CREDENTIAL_KEY_TRANSFORMATIONS);
}

/** WAF custom response bodies are static: the request id in a WAF 429 is this placeholder. */
export const WAF_REQUEST_ID = 'unavailable';
