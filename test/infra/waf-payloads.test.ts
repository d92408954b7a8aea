/**
 * Issue 13, "Serve real payloads": the AWS managed Common rule set blocked documented valid requests — item payloads
 * holding HTML, `../` or metadata-service URLs (CrossSiteScripting_BODY, GenericLFI_BODY, EC2MetaDataSSRF_BODY, and
 * GenericRFI_BODY for URLs with IP addresses), key names with the same text, and clients without a User-Agent
 * (NoUserAgent_HEADER). The synthesised web ACL is read and evaluated here for representative requests: the body
 * rules count on the routes whose bodies are free-form data and still block everywhere else.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { GATEHOUSE_APP } from '../../lambdas/app.js';
import { CORE_RULE_SET_LABEL, FREE_FORM_BODY_RULES, freeFormBodyPaths } from '../../infra/constructs/waf.js';
import { WEATHER_APP } from './fixtures/weather-app.js';
import { resourcesOf, synthGatehouse } from './synth.js';
import { props, type Props } from './template.js';

process.env.CDK_VALIDATION = 'false';

let waf: Template;
beforeAll(() => {
  waf = synthGatehouse().templates.waf;
});

const rules = () => (props(Object.values(resourcesOf(waf, 'AWS::WAFv2::WebACL'))[0]!).Rules as Props[]).sort((a, b) => (a.Priority as number) - (b.Priority as number));

interface Request {
  readonly path: string;
  /** Labels the managed groups before the rule added (what their counted rules matched). */
  readonly labels: readonly string[];
}

/** Evaluates the statements Gatehouse's own label rule uses, as WAF does (regexes are PCRE-compatible here). */
function matches(statement: Props, request: Request): boolean {
  if (statement.AndStatement) return ((statement.AndStatement as Props).Statements as Props[]).every((s) => matches(s, request));
  if (statement.OrStatement) return ((statement.OrStatement as Props).Statements as Props[]).some((s) => matches(s, request));
  if (statement.NotStatement) return !matches((statement.NotStatement as Props).Statement as Props, request);
  if (statement.LabelMatchStatement) {
    const { Key, Scope } = statement.LabelMatchStatement as { Key: string; Scope: string };
    expect(Scope).toBe('LABEL');
    return request.labels.includes(Key);
  }
  if (statement.RegexMatchStatement) {
    const r = statement.RegexMatchStatement as { RegexString: string; FieldToMatch: Props; TextTransformations: { Type: string }[] };
    expect(r.FieldToMatch).toEqual({ UriPath: {} });
    expect(r.TextTransformations.map((x) => x.Type)).toEqual(['URL_DECODE', 'NORMALIZE_PATH']);
    return new RegExp(r.RegexString).test(request.path);
  }
  throw new Error(`statement not evaluated by this test: ${JSON.stringify(statement)}`);
}

/** Whether Gatehouse's custom rules (not the managed groups, which only count these rules now) block the request. */
function blocked(request: Request): boolean {
  return rules()
    .filter((r) => !(r.Statement as Props).ManagedRuleGroupStatement && !(r.Statement as Props).RateBasedStatement)
    .some((r) => (r.Action as Props | undefined)?.Block !== undefined && matches(r.Statement as Props, request));
}

const label = (rule: string) => `${CORE_RULE_SET_LABEL}${rule.replace(/_BODY$/, '_Body').replace(/_HEADER$/, '_Header')}`;
const bodyLabels = FREE_FORM_BODY_RULES.map(label);

describe('the Common rule set on free-form bodies', () => {
  it('counts the body rules and NoUserAgent_HEADER in the managed group (as well as SizeRestrictions_BODY)', () => {
    const common = rules().find((r) => ((r.Statement as Props).ManagedRuleGroupStatement as Props | undefined)?.Name === 'AWSManagedRulesCommonRuleSet')!;
    const overrides = ((common.Statement as Props).ManagedRuleGroupStatement as Props).RuleActionOverrides as { Name: string; ActionToUse: Props }[];
    expect(overrides.map((o) => o.Name).sort()).toEqual(
      ['CrossSiteScripting_BODY', 'EC2MetaDataSSRF_BODY', 'GenericLFI_BODY', 'GenericRFI_BODY', 'NoUserAgent_HEADER', 'SizeRestrictions_BODY'].sort(),
    );
    for (const o of overrides) expect(o.ActionToUse).toEqual({ Count: {} });
    expect([...FREE_FORM_BODY_RULES].sort()).toEqual(['CrossSiteScripting_BODY', 'EC2MetaDataSSRF_BODY', 'GenericLFI_BODY', 'GenericRFI_BODY']);
  });

  it.each([
    ['an item holding HTML', 'POST', '/prod/v1/items', 'CrossSiteScripting_BODY'],
    ['an item replaced with a ../ path', 'PUT', '/prod/v1/items/4b0e0b8e-8f3c-4a38-9d0a-0d6c3e1f7a11', 'GenericLFI_BODY'],
    ['an item holding a metadata-service URL', 'POST', '/prod/v1/items', 'EC2MetaDataSSRF_BODY'],
    ['an item holding a URL with an IP address', 'POST', '/prod/v1/items', 'GenericRFI_BODY'],
    ['a key named <b>ci</b>', 'POST', '/prod/v1/keys', 'CrossSiteScripting_BODY'],
    ['a rotation naming its successor ../ci', 'POST', '/prod/v1/keys/gth_live_abc/rotate', 'GenericLFI_BODY'],
    ['an item through a custom domain without a stage in the path', 'POST', '/v1/items', 'CrossSiteScripting_BODY'],
  ])('lets %s through (%s %s)', (_what, _method, path, rule) => {
    expect(blocked({ path, labels: [label(rule)] })).toBe(false);
  });

  it.each([
    ['POST /v1/verify', '/prod/v1/verify'],
    ['a path that only ends like an item route after normalisation is not assumed', '/prod/v1/verify/x'],
    ['an unknown path', '/prod/v1/anything'],
  ])('still blocks the body rules on %s', (_what, path) => {
    for (const l of bodyLabels) expect(blocked({ path, labels: [l] }), `${path} ${l}`).toBe(true);
  });

  it('never blocks a request for lacking a User-Agent, and blocks nothing that no counted rule labelled', () => {
    expect(blocked({ path: '/prod/v1/verify', labels: [label('NoUserAgent_HEADER')] })).toBe(false);
    expect(blocked({ path: '/prod/v1/verify', labels: [] })).toBe(false);
  });

  it('runs the label rule after the Common rule set (labels exist only for later rules)', () => {
    const ordered = rules();
    const common = ordered.findIndex((r) => ((r.Statement as Props).ManagedRuleGroupStatement as Props | undefined)?.Name === 'AWSManagedRulesCommonRuleSet');
    const labelRule = ordered.findIndex((r) => JSON.stringify(r.Statement).includes('LabelMatchStatement'));
    expect(labelRule).toBeGreaterThan(common);
    expect(ordered[labelRule]!.VisibilityConfig).toMatchObject({ CloudWatchMetricsEnabled: true, SampledRequestsEnabled: false });
  });
});

describe('free-form body routes come from the route table', () => {
  it('Gatehouse’s own: the item and key writes with a body, nothing else', () => {
    expect(freeFormBodyPaths(GATEHOUSE_APP)).toEqual(['/v1/keys', '/v1/keys/{keyId}/rotate', '/v1/keys/{keyId}/plan', '/v1/items', '/v1/items/{itemId}']);
  });

  it('a team’s app: Gatehouse’s routes under the mount, plus the targets the team names', () => {
    expect(freeFormBodyPaths(WEATHER_APP)).toEqual(['/gatehouse/v1/keys', '/gatehouse/v1/keys/{keyId}/rotate', '/gatehouse/v1/keys/{keyId}/plan']);
    expect(freeFormBodyPaths(WEATHER_APP, ['stations'])).toContain('/stations/{stationId}/readings');
    expect(() => freeFormBodyPaths(WEATHER_APP, ['nothing'])).toThrow(/no target or handler group nothing/);
  });
});
