/**
 * WAF: the regional web ACL in front of the API stage (the association lives in the API stack, on the stage itself).
 *
 * Rules, in evaluation order:
 * 1. AWSManagedRulesAmazonIpReputationList — addresses AWS threat intelligence has seen attacking.
 * 2. AWSManagedRulesAnonymousIpList — VPNs, Tor, proxies. Its HostingProviderIPList rule is set to COUNT: Gatehouse's
 *    machine clients (client credentials, SigV4 callers of /v1/verify) run in clouds, and blocking hosting providers
 *    would block exactly them.
 * 3. Rate per client IP (rateLimitPerIp per rateLimitWindowSeconds).
 * 4. Rate per credential: one rule keyed on the `Authorization` header, one on `X-API-Key` (rateLimitPerCredential),
 *    each value lower-cased and white-space-collapsed first ({@link CREDENTIAL_KEY_TRANSFORMATIONS}). WAF does not
 *    count a request that lacks the key header, so rule 3 stays beside them for anonymous floods. The two rules count
 *    separately: a client that alternates the same key between the two headers gets twice the limit (WAF cannot key
 *    one rule on "whichever header is present"); the per-IP rule and stage throttling still bound it.
 * 5. AWSManagedRulesKnownBadInputsRuleSet — Log4Shell, Java deserialisation and similar payloads.
 * 6. AWSManagedRulesCommonRuleSet — OWASP-style checks. Its SizeRestrictions_BODY rule is set to COUNT: it blocks
 *    bodies over 8 KB, while the API accepts up to maxBodyBytes (1 MiB by default) and enforces that limit itself.
 *
 * Rate blocks answer 429 in the error envelope with Retry-After (CONTRACT §5). Two limits of WAF apply:
 * - custom response bodies are static, so the body's requestId is a fixed placeholder ({@link WAF_REQUEST_ID});
 * - WAF forbids a custom Content-Type header and sets it from the body's type, so these 429s are
 *   `application/json` (the body is still the problem document); every other error is `application/problem+json`.
 * Other WAF blocks (managed rules) reach the client as API Gateway's WAF_FILTERED gateway response: 403, envelope.
 *
 * Logging goes to a log group named aws-waf-logs-… with the Authorization and X-API-Key headers redacted. Sampled
 * requests are off: the console's sampled requests would show those headers unredacted to anyone with WAF read access.
 */
import { ArnFormat, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { CfnLoggingConfiguration, CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { gatewayResponseBody, WAF_RATE_LIMITED } from '../lambdas/core/gateway-responses.js';
import { CREDENTIAL_HEADERS, CREDENTIAL_KEY_TRANSFORMATIONS, WAF_RATE_RULES, WAF_REQUEST_ID, type WafRateRuleDefinition } from '../lambdas/core/waf-rules.js';
import { retention, type GatehouseConfig } from './config.js';

export { CREDENTIAL_HEADERS, CREDENTIAL_KEY_TRANSFORMATIONS, WAF_REQUEST_ID };

export const MANAGED_RULE_GROUPS = [
  { name: 'AWSManagedRulesAmazonIpReputationList', countOnly: [] },
  { name: 'AWSManagedRulesAnonymousIpList', countOnly: ['HostingProviderIPList'] },
  { name: 'AWSManagedRulesKnownBadInputsRuleSet', countOnly: [] },
  { name: 'AWSManagedRulesCommonRuleSet', countOnly: ['SizeRestrictions_BODY'] },
] as const;

export interface WafStackProps extends StackProps {
  readonly config: GatehouseConfig;
}

export class WafStack extends Stack {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: WafStackProps) {
    super(scope, id, props);
    const { settings, infra } = props.config;
    const metric = (name: string) => ({ cloudWatchMetricsEnabled: true, metricName: `${infra.stackPrefix}${name}`, sampledRequestsEnabled: false });

    const rateLimited: CfnWebACL.RuleActionProperty = {
      block: {
        customResponse: {
          responseCode: WAF_RATE_LIMITED.status,
          customResponseBodyKey: WAF_RATE_LIMITED.customResponseBodyKey,
          responseHeaders: [{ name: 'Retry-After', value: String(WAF_RATE_LIMITED.retryAfterSeconds) }],
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

    const logs = new LogGroup(this, 'WafLogs', {
      logGroupName: `aws-waf-logs-${Stack.of(this).stackName.toLowerCase()}`,
      retention: retention(infra.logRetentionDays),
    });
    new CfnLoggingConfiguration(this, 'WafLogging', {
      resourceArn: this.webAcl.attrArn,
      // WAF wants the log group ARN without the trailing ":*" that LogGroup.logGroupArn carries.
      logDestinationConfigs: [Stack.of(this).formatArn({ service: 'logs', resource: 'log-group', resourceName: logs.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      redactedFields: CREDENTIAL_HEADERS.map((name) => ({ singleHeader: { Name: name } })),
    });

    new CfnOutput(this, 'WebAclArn', { value: this.webAcl.attrArn });
  }
}
