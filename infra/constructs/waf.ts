/**
 * GatehouseWaf: the regional web ACL in front of an API stage ({@link GatehouseWaf.associate}, or GatehouseApi's
 * `webAclArn`, associates it with the stage itself).
 *
 * Rules, in evaluation order:
 * 1. AWSManagedRulesAmazonIpReputationList — addresses AWS threat intelligence has seen attacking.
 * 2. AWSManagedRulesAnonymousIpList — VPNs, Tor, proxies. Its HostingProviderIPList rule is set to COUNT: Gatehouse's
 *    machine clients (client credentials, SigV4 callers of /v1/verify) run in clouds, and blocking hosting providers
 *    would block exactly them.
 * 3. Rate per client IP (rateLimitPerIp per rateLimitWindowSeconds).
 * 4. Rate per credential: one rule keyed on the `Authorization` header, one on `X-API-Key` (rateLimitPerCredential),
 *    each value transformed first by {@link CREDENTIAL_KEY_TRANSFORMATIONS} (LOWERCASE, then COMPRESS_WHITE_SPACE:
 *    every spelling of `Bearer <credential>` is one key, and any run of padding — spaces, tabs, NBSP — counts as one
 *    space). WAF does not count a request that lacks the key header, so rule 3 stays beside them for anonymous
 *    floods. What WAF cannot do, so the deployed limit is looser than one budget per credential:
 *    - one rule cannot key on "whichever credential header is present" (a request missing any custom key is not
 *      counted), and counts of two rules never add up, so an API key sent alternately as `Authorization: Bearer K`
 *      and `X-API-Key: K` has two budgets;
 *    - CloudFormation offers no TRIM transformation, so padding the authorizer ignores around an X-API-Key value
 *      (a non-breaking space: HTTP itself strips spaces and tabs around a header value) makes up to four keys of one
 *      API key: bare, padded before, after, or on both sides.
 *    An API key therefore gets at most 5 × rateLimitPerCredential requests per window (2 × once the authorizer
 *    refuses such padding), a JWT (Authorization only) 1 ×; the per-IP rule and stage throttling bound both. The
 *    local gateway keeps exactly one budget per credential (local/gateway/waf.ts).
 * 5. AWSManagedRulesKnownBadInputsRuleSet — Log4Shell, Java deserialisation and similar payloads.
 * 6. AWSManagedRulesCommonRuleSet — OWASP-style checks. Its SizeRestrictions_BODY rule is set to COUNT: it blocks
 *    bodies over 8 KB, while the API accepts up to maxBodyBytes (1 MiB by default) and enforces that limit itself.
 *
 * Rate blocks answer 429 in the error envelope with Retry-After (CONTRACT §5), Cache-Control no-store and the static
 * CORS headers of lambdas/core/cors.ts (one configured origin: that origin; several: none). Two limits of WAF apply:
 * - custom response bodies are static, so the body's requestId is a fixed placeholder ({@link WAF_REQUEST_ID});
 * - WAF forbids a custom Content-Type header and sets it from the body's type, so these 429s are
 *   `application/json` (the body is still the problem document); every other error is `application/problem+json`.
 * Other WAF blocks (managed rules) reach the client as API Gateway's WAF_FILTERED gateway response: 403, envelope.
 *
 * Logging goes to a log group named aws-waf-logs-… with the Authorization and X-API-Key headers redacted. Sampled
 * requests are off: the console's sampled requests would show those headers unredacted to anyone with WAF read access.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { CfnLoggingConfiguration, CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { gatewayResponseBody, WAF_RATE_LIMITED, wafRateLimitedHeaders } from '../../lambdas/core/gateway-responses.js';
import { CREDENTIAL_HEADERS, CREDENTIAL_KEY_TRANSFORMATIONS, WAF_RATE_RULES, WAF_REQUEST_ID, type WafRateRuleDefinition } from '../../lambdas/core/waf-rules.js';
import { retention, type GatehouseConfig } from '../config.js';
import { defaultConfig } from './defaults.js';

export { CREDENTIAL_HEADERS, CREDENTIAL_KEY_TRANSFORMATIONS, WAF_REQUEST_ID };

export const MANAGED_RULE_GROUPS = [
  { name: 'AWSManagedRulesAmazonIpReputationList', countOnly: [] },
  { name: 'AWSManagedRulesAnonymousIpList', countOnly: ['HostingProviderIPList'] },
  { name: 'AWSManagedRulesKnownBadInputsRuleSet', countOnly: [] },
  { name: 'AWSManagedRulesCommonRuleSet', countOnly: ['SizeRestrictions_BODY'] },
] as const;

/** WAF's CustomHTTPHeader limits: names `^[a-zA-Z0-9._$-]{1,64}$`, values of 1 to 255 characters. */
function customHeaders(headers: Readonly<Record<string, string>>): CfnWebACL.CustomHTTPHeaderProperty[] {
  return Object.entries(headers).map(([name, value]) => {
    if (!/^[a-zA-Z0-9._$-]{1,64}$/.test(name) || value.length < 1 || value.length > 255) {
      throw new Error(`WAF cannot send the response header ${name}: ${value}`);
    }
    return { name, value };
  });
}

export interface GatehouseWafProps {
  /** @default gatehouseConfig() (every default): the rate limits, corsOrigins, stackPrefix and logRetentionDays */
  readonly config?: GatehouseConfig;
  /** Prefix of the CloudWatch metric names. @default config.stackPrefix */
  readonly metricPrefix?: string;
  /** The log group's name: WAF requires the prefix `aws-waf-logs-`. @default aws-waf-logs-<stack name, lower case> */
  readonly logGroupName?: string;
}

export class GatehouseWaf extends Construct {
  readonly webAcl: CfnWebACL;
  readonly logGroup: LogGroup;
  readonly loggingConfiguration: CfnLoggingConfiguration;

  constructor(scope: Construct, id: string, props: GatehouseWafProps = {}) {
    super(scope, id);
    const { settings, infra } = props.config ?? defaultConfig();
    const prefix = props.metricPrefix ?? infra.stackPrefix;
    const metric = (name: string) => ({ cloudWatchMetricsEnabled: true, metricName: `${prefix}${name}`, sampledRequestsEnabled: false });

    const rateLimited: CfnWebACL.RuleActionProperty = {
      block: {
        customResponse: {
          responseCode: WAF_RATE_LIMITED.status,
          customResponseBodyKey: WAF_RATE_LIMITED.customResponseBodyKey,
          responseHeaders: customHeaders(wafRateLimitedHeaders(settings.corsOrigins)),
        },
      },
    };
    const rateRule = (rule: WafRateRuleDefinition): CfnWebACL.RuleProperty => ({
      name: rule.name,
      priority: rule.priority,
      action: rateLimited,
      visibilityConfig: metric(rule.name),
      statement: {
        rateBasedStatement: {
          limit: settings[rule.limitSetting],
          evaluationWindowSec: settings.rateLimitWindowSeconds,
          aggregateKeyType: rule.aggregateKey.kind === 'ip' ? 'IP' : 'CUSTOM_KEYS',
          ...(rule.aggregateKey.kind === 'header'
            ? { customKeys: [{ header: { name: rule.aggregateKey.name, textTransformations: [...CREDENTIAL_KEY_TRANSFORMATIONS] } }] }
            : {}),
        },
      },
    });
    const managed = (group: (typeof MANAGED_RULE_GROUPS)[number], priority: number): CfnWebACL.RuleProperty => ({
      name: group.name,
      priority,
      overrideAction: { none: {} },
      visibilityConfig: metric(group.name),
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name: group.name,
          ...(group.countOnly.length > 0 ? { ruleActionOverrides: group.countOnly.map((rule) => ({ name: rule, actionToUse: { count: {} } })) } : {}),
        },
      },
    });

    const [reputation, anonymous, badInputs, common] = MANAGED_RULE_GROUPS;
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: 'Gatehouse API: rate limits per IP and per credential, AWS managed rule groups',
      defaultAction: { allow: {} },
      visibilityConfig: metric('WebAcl'),
      customResponseBodies: {
        [WAF_RATE_LIMITED.customResponseBodyKey]: { contentType: 'APPLICATION_JSON', content: gatewayResponseBody(WAF_RATE_LIMITED, WAF_REQUEST_ID) },
      },
      rules: [
        managed(reputation, 0),
        managed(anonymous, 1),
        ...WAF_RATE_RULES.map(rateRule),
        managed(badInputs, 5),
        managed(common, 6),
      ],
    });

    const stack = Stack.of(this);
    const logGroupName = props.logGroupName ?? `aws-waf-logs-${stack.stackName.toLowerCase()}`;
    if (!logGroupName.startsWith('aws-waf-logs-')) throw new Error(`GatehouseWaf: logGroupName must start with aws-waf-logs- (${logGroupName})`);
    this.logGroup = new LogGroup(this, 'WafLogs', { logGroupName, retention: retention(infra.logRetentionDays) });
    this.loggingConfiguration = new CfnLoggingConfiguration(this, 'WafLogging', {
      resourceArn: this.webAcl.attrArn,
      // WAF wants the log group ARN without the trailing ":*" that LogGroup.logGroupArn carries.
      logDestinationConfigs: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: this.logGroup.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      redactedFields: CREDENTIAL_HEADERS.map((name) => ({ singleHeader: { Name: name } })),
    });
  }

  get webAclArn(): string {
    return this.webAcl.attrArn;
  }

  /** Puts the web ACL in front of a stage (`stage.stageArn`), or any resource WAF accepts, by its ARN. */
  associate(scope: Construct, id: string, resourceArn: string): CfnWebACLAssociation {
    return new CfnWebACLAssociation(scope, id, { resourceArn, webAclArn: this.webAcl.attrArn });
  }
}
