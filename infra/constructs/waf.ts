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
 * 6. AWSManagedRulesCommonRuleSet — OWASP-style checks. Rules set to COUNT (they still label what they match, and
 *    WAF logs and metrics show it):
 *    - SizeRestrictions_BODY: it blocks bodies over 8 KB, while the API accepts up to maxBodyBytes (1 MiB by default)
 *      and enforces that limit itself;
 *    - NoUserAgent_HEADER: the contract asks for no User-Agent, and SDKs and machine clients may send none;
 *    - the body rules {@link FREE_FORM_BODY_RULES} (CrossSiteScripting, GenericLFI, GenericRFI, EC2MetaDataSSRF):
 *      item payloads are free-form JSON and key and item names free text, so HTML, `../`, URLs with IP addresses or
 *      the metadata-service address are valid data there.
 * 7. BodyRulesOutsideFreeFormRoutes — blocks a request the counted body rules labelled unless its path is one of the
 *    free-form body routes ({@link freeFormBodyPaths}: Gatehouse's item and key writes, plus the targets a team
 *    names). So the body rules still block everywhere else (POST /v1/verify, unknown paths, a team's other routes);
 *    on the free-form routes the handlers' validation, the store (data kept as JSON text, never interpreted) and the
 *    rules above (known bad inputs in the body, rate limits) remain.
 *
 * Rate blocks answer 429 in the error envelope with Retry-After (CONTRACT §5), Cache-Control no-store and the static
 * CORS headers of lambdas/core/cors.ts (one configured origin: that origin; several: none). Two limits of WAF apply:
 * - custom response bodies are static, so the body's requestId is a fixed placeholder ({@link WAF_REQUEST_ID});
 * - WAF forbids a custom Content-Type header and sets it from the body's type, so these 429s are
 *   `application/json` (the body is still the problem document); every other error is `application/problem+json`.
 * Other WAF blocks (managed rules) reach the client as API Gateway's WAF_FILTERED gateway response: 403, envelope.
 *
 * Logging goes to a log group named aws-waf-logs-<prefix>-<web ACL id> (WAF requires the aws-waf-logs- prefix; the
 * id makes the name new for every web ACL, so the retained group of a torn-down deployment never blocks a redeploy)
 * with the Authorization and X-API-Key headers redacted. Sampled requests are off: the console's sampled requests
 * would show those headers unredacted to anyone with WAF read access.
 */
import { ArnFormat, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { CfnLoggingConfiguration, CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { GATEHOUSE_APP, type GatehouseApp } from '../../lambdas/app.js';
import { gatewayResponseBody, WAF_RATE_LIMITED, wafRateLimitedHeaders } from '../../lambdas/core/gateway-responses.js';
import { CREDENTIAL_HEADERS, CREDENTIAL_KEY_TRANSFORMATIONS, WAF_RATE_RULES, WAF_REQUEST_ID, type WafRateRuleDefinition } from '../../lambdas/core/waf-rules.js';
import { retention, type GatehouseConfig } from '../config.js';
import { defaultConfig } from './defaults.js';

export { CREDENTIAL_HEADERS, CREDENTIAL_KEY_TRANSFORMATIONS, WAF_REQUEST_ID };

/** Common rule set rules that inspect the body and match text that is valid data in a free-form body. */
export const FREE_FORM_BODY_RULES = ['CrossSiteScripting_BODY', 'GenericLFI_BODY', 'GenericRFI_BODY', 'EC2MetaDataSSRF_BODY'] as const;

export const MANAGED_RULE_GROUPS = [
  { name: 'AWSManagedRulesAmazonIpReputationList', countOnly: [] },
  { name: 'AWSManagedRulesAnonymousIpList', countOnly: ['HostingProviderIPList'] },
  { name: 'AWSManagedRulesKnownBadInputsRuleSet', countOnly: [] },
  { name: 'AWSManagedRulesCommonRuleSet', countOnly: ['SizeRestrictions_BODY', 'NoUserAgent_HEADER', ...FREE_FORM_BODY_RULES] },
] as const;

/** The namespace of the labels the Common rule set adds (AWS WAF Developer Guide, "Core rule set"). */
export const CORE_RULE_SET_LABEL = 'awswaf:managed:aws:core-rule-set:';

/** How the Common rule set's labels spell the request component a rule name ends with. */
const LABEL_COMPONENTS: Readonly<Record<string, string>> = { BODY: 'Body', HEADER: 'Header', QUERYARGUMENTS: 'QueryArguments', URIPATH: 'URIPath', COOKIE: 'Cookie' };

/** The label a Common rule set rule adds (`GenericLFI_BODY` → `awswaf:managed:aws:core-rule-set:GenericLFI_Body`). */
export function coreRuleSetLabel(rule: string): string {
  const match = /^(.*)_([A-Z]+)$/.exec(rule);
  const component = match ? LABEL_COMPONENTS[match[2]!] : undefined;
  if (!match || !component) throw new Error(`No known label for Common rule set rule ${rule}`);
  return `${CORE_RULE_SET_LABEL}${match[1]}_${component}`;
}

/** Gatehouse's handler groups whose request bodies carry free text: item data and names, key names. */
export const FREE_FORM_BODY_GROUPS: readonly string[] = ['items', 'keys'];

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The route paths (templates, e.g. `/v1/items/{itemId}`) whose request bodies are free-form data: the body-carrying
 * routes of Gatehouse's {@link FREE_FORM_BODY_GROUPS} in `app` (under its mount), and of `handlers` — a team's
 * targets (or further groups) whose bodies are free-form too.
 */
export function freeFormBodyPaths(app: GatehouseApp, handlers: readonly string[] = []): string[] {
  const declared = new Set(app.api.routes.map((r) => r.handler));
  for (const name of handlers) if (!declared.has(name)) throw new Error(`freeFormBodyPaths: the app has no target or handler group ${name}`);
  const chosen = new Set(handlers);
  const paths = app.api.routes
    .filter((r) => BODY_METHODS.has(r.method) && (chosen.has(r.handler) || (FREE_FORM_BODY_GROUPS.includes(r.handler) && !app.targets[r.handler])))
    .map((r) => r.path);
  return [...new Set(paths)];
}

/** WAF allows a regex of at most 512 characters; the paths are packed into as few alternations as fit. */
const MAX_REGEX = 500;

/**
 * Regexes matching the URI paths of `templates`: a parameter is one segment, and the path may follow a stage name or
 * a custom domain's base path (WAF sees `/prod/v1/items` on the execute-api URL). Anchored at the end.
 */
export function freeFormPathRegexes(templates: readonly string[]): string[] {
  const one = (template: string) =>
    template
      .split(/(\{[^}]+\})/)
      .map((part) => (part.startsWith('{') ? (part.endsWith('+}') ? '.+' : '[^/]+') : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
  const regexes: string[] = [];
  let current: string[] = [];
  const flush = () => {
    if (current.length > 0) regexes.push(`(?:${current.join('|')})$`);
    current = [];
  };
  for (const template of templates) {
    const part = one(template);
    if ([...current, part].join('|').length + 4 > MAX_REGEX) flush();
    current.push(part);
  }
  flush();
  return regexes;
}

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
  /**
   * The log group's name: WAF requires the prefix `aws-waf-logs-`. The group is retained when the stack is deleted,
   * so a fixed name fails the next deployment's create ("already exists"). @default aws-waf-logs-<stackPrefix, lower
   * case>-<web ACL id>: new for every web ACL
   */
  readonly logGroupName?: string;
  /**
   * Route path templates whose request bodies are free-form data: the Common rule set's body rules only count there.
   * @default freeFormBodyPaths(GATEHOUSE_APP); for a team's app, freeFormBodyPaths(app, [its free-form targets])
   */
  readonly freeFormBodyPaths?: readonly string[];
}

/** The rule that blocks, outside the free-form routes, what the counted body rules matched. */
export const BODY_RULES_RULE = 'BodyRulesOutsideFreeFormRoutes';

export class GatehouseWaf extends Construct {
  readonly webAcl: CfnWebACL;
  /** The metric names (the `Rule` dimension of AWS/WAFV2 metrics) of every rule, in evaluation order. */
  readonly ruleMetricNames: readonly string[];
  /** The paths the body rules only count on. */
  readonly freeFormBodyPaths: readonly string[];
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
    this.freeFormBodyPaths = [...(props.freeFormBodyPaths ?? freeFormBodyPaths(GATEHOUSE_APP))];
    const labelled: CfnWebACL.StatementProperty[] = FREE_FORM_BODY_RULES.map((rule) => ({ labelMatchStatement: { scope: 'LABEL', key: coreRuleSetLabel(rule) } }));
    const freeForm: CfnWebACL.StatementProperty[] = freeFormPathRegexes(this.freeFormBodyPaths).map((regexString) => ({
      regexMatchStatement: {
        regexString,
        fieldToMatch: { uriPath: {} },
        // Match the canonical path: %2F and ../ cannot make another route look like a free-form one.
        textTransformations: [
          { priority: 0, type: 'URL_DECODE' },
          { priority: 1, type: 'NORMALIZE_PATH' },
        ],
      },
    }));
    const anyOf = (statements: CfnWebACL.StatementProperty[]): CfnWebACL.StatementProperty => (statements.length === 1 ? statements[0]! : { orStatement: { statements } });
    const bodyRules: CfnWebACL.RuleProperty = {
      name: BODY_RULES_RULE,
      priority: 7,
      action: { block: {} },
      visibilityConfig: metric(BODY_RULES_RULE),
      statement: freeForm.length === 0 ? anyOf(labelled) : { andStatement: { statements: [anyOf(labelled), { notStatement: { statement: anyOf(freeForm) } }] } },
    };
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
        // After the Common rule set: labels exist only for the rules that follow the group that adds them.
        bodyRules,
      ],
    });
    this.ruleMetricNames = (this.webAcl.rules as CfnWebACL.RuleProperty[]).map((r) => (r.visibilityConfig as CfnWebACL.VisibilityConfigProperty).metricName);

    const stack = Stack.of(this);
    const logGroupName = props.logGroupName ?? `aws-waf-logs-${infra.stackPrefix.toLowerCase()}-${this.webAcl.attrId}`;
    if (!logGroupName.startsWith('aws-waf-logs-')) throw new Error(`GatehouseWaf: logGroupName must start with aws-waf-logs- (${logGroupName})`);
    this.logGroup = new LogGroup(this, 'WafLogs', { logGroupName, retention: retention(infra.logRetentionDays), removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE });
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

  /** The web ACL's name (the `WebACL` dimension of its metrics): CloudFormation generates it; Ref is name|id|scope. */
  get webAclName(): string {
    return Fn.select(0, Fn.split('|', this.webAcl.ref));
  }

  /** Puts the web ACL in front of a stage (`stage.stageArn`), or any resource WAF accepts, by its ARN. */
  associate(scope: Construct, id: string, resourceArn: string): CfnWebACLAssociation {
    return new CfnWebACLAssociation(scope, id, { resourceArn, webAclArn: this.webAcl.attrArn });
  }
}
