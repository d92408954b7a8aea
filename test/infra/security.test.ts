/**
 * Security properties of the synthesised app, asserted on the CloudFormation templates (cdk.json context, bundling
 * skipped). The app is synthesised once for the whole file.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_SETTINGS } from '../../lambdas/api/services.js';
import { AUTHORIZER_SETTINGS } from '../../lambdas/authorizer/wiring.js';
import { PROBLEM_CONTENT_TYPE } from '../../lambdas/core/errors.js';
import { GATEWAY_RESPONSES, WAF_RATE_LIMITED, gatewayResponseBody } from '../../lambdas/core/gateway-responses.js';
import { JWKS_SOURCE_ENV } from '../../lambdas/core/jwks-store.js';
import { DEPLOYMENT_ENV } from '../../lambdas/core/metrics-catalog.js';
import { SETTINGS } from '../../lambdas/core/settings.js';
import { createTableInput, GSI1, TTL_ATTRIBUTE } from '../../lambdas/core/table.js';
import { ALL_SCOPES, ROUTES } from '../../lambdas/routes.js';
import { CONSOLE_GROUP } from '../../lambdas/api/console/config.js';
import { CONSOLE_SIGN_IN_ENV } from '../../lambdas/api/console/sign-in.js';
import { AUTHORIZER_TABLE_ACTIONS } from '../../infra/api-stack.js';
import { DEFAULT_CLI_CALLBACK_URL } from '../../infra/config.js';
import { FUNCTION_DESCRIPTION_PREFIX } from '../../infra/function.js';
import { RESOURCE_SERVER_ID } from '../../infra/identity-stack.js';
import { FREE_FORM_BODY_RULES } from '../../infra/constructs/waf.js';
import { WAF_REQUEST_ID } from '../../infra/waf-stack.js';
import { resourcesOf, STACK_KEYS, synthGatehouse, type StackKey, type SynthResult } from './synth.js';
import { actionsOf, grantsOf, json, logicalId, props, resourcePaths, statementsOfRole, type Props } from './template.js';

// This file checks templates; the built-in CloudFormation schema validation is covered by nag.test.ts.
process.env.CDK_VALIDATION = 'false';

let synth: SynthResult;
let t: Record<StackKey, Template>;

beforeAll(() => {
  synth = synthGatehouse();
  t = synth.templates;
});

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const only = <T>(record: Record<string, T>): [string, T] => {
  const entries = Object.entries(record);
  expect(entries).toHaveLength(1);
  return entries[0]!;
};

describe('network: isolated subnets, no route out', () => {
  it('has no NAT gateway, internet gateway or route of any kind', () => {
    for (const type of ['AWS::EC2::NatGateway', 'AWS::EC2::InternetGateway', 'AWS::EC2::VPCGatewayAttachment', 'AWS::EC2::EgressOnlyInternetGateway', 'AWS::EC2::Route']) {
      for (const key of STACK_KEYS) t[key].resourceCountIs(type, 0);
    }
    const subnets = Object.values(resourcesOf(t.network, 'AWS::EC2::Subnet'));
    expect(subnets.length).toBe(2);
    for (const subnet of subnets) {
      expect(props(subnet).MapPublicIpOnLaunch).toBe(false);
      expect(props(subnet).Tags).toContainEqual({ Key: 'aws-cdk:subnet-type', Value: 'Isolated' });
    }
  });

  it('has a DynamoDB gateway endpoint on the isolated route tables and Secrets Manager and X-Ray interface endpoints (no Logs: issue 13)', () => {
    const endpoints = Object.values(resourcesOf(t.network, 'AWS::EC2::VPCEndpoint')).map(props);
    const byService = (suffix: string) => endpoints.find((e) => json(e.ServiceName).includes(`.${suffix}"`));
    const dynamo = byService('dynamodb');
    expect(dynamo?.VpcEndpointType).toBe('Gateway');
    expect((dynamo?.RouteTableIds as unknown[]).length).toBe(2);
    for (const service of ['secretsmanager', 'xray']) {
      const endpoint = byService(service);
      expect(endpoint, service).toBeDefined();
      expect(endpoint!.VpcEndpointType).toBe('Interface');
      expect(endpoint!.PrivateDnsEnabled).toBe(true);
      // Only principals of this account may use the endpoint.
      expect(json(endpoint!.PolicyDocument)).toContain('aws:PrincipalAccount');
    }
    expect(endpoints).toHaveLength(3);
  });

  it('records all traffic in flow logs', () => {
    t.network.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
  });

  it("lets the functions' security group send only HTTPS, to the endpoints and DynamoDB's prefix list", () => {
    const groups = resourcesOf(t.network, 'AWS::EC2::SecurityGroup');
    const fnSg = Object.keys(groups).find((id) => id.startsWith('FunctionSecurityGroup'))!;
    const endpointSg = Object.keys(groups).find((id) => id.startsWith('EndpointSecurityGroup'))!;
    // allowAllOutbound: false — no inline rule at all (CloudFormation drops EC2's default allow-all egress once an
    // egress rule resource exists for the group; CDK relies on the same behaviour).
    expect(props(groups[fnSg]!).SecurityGroupEgress).toBeUndefined();
    expect(props(groups[fnSg]!).SecurityGroupIngress).toBeUndefined();
    expect(json(t.network.toJSON())).not.toContain('0.0.0.0/0');
    const egress = Object.values(resourcesOf(t.network, 'AWS::EC2::SecurityGroupEgress'))
      .map(props)
      .filter((e) => json(e.GroupId).includes(fnSg));
    expect(egress).toHaveLength(2);
    for (const rule of egress) expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
    expect(egress.some((e) => json(e.DestinationSecurityGroupId).includes(endpointSg))).toBe(true);
    expect(egress.some((e) => json(e.DestinationPrefixListId).includes('PrefixLists.0.PrefixListId'))).toBe(true);
    // Nothing but the functions may reach the endpoints.
    const ingress = Object.values(resourcesOf(t.network, 'AWS::EC2::SecurityGroupIngress')).map(props);
    expect(ingress).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: expect.objectContaining({ 'Fn::GetAtt': [fnSg, 'GroupId'] }) })]);
  });
});

describe('functions: no internet egress', () => {
  const isolatedSubnetOutputs = () =>
    Object.entries(t.network.toJSON().Outputs as Record<string, { Value: { Ref?: string }; Export?: { Name: string } }>)
      .filter(([, o]) => {
        const subnet = resourcesOf(t.network, 'AWS::EC2::Subnet')[o.Value.Ref ?? ''];
        return subnet !== undefined && json(props(subnet).Tags).includes('"Isolated"');
      })
      .map(([, o]) => o.Export!.Name);

  it('puts every Gatehouse function but the JWKS mirror in the isolated subnets behind the functions security group', () => {
    const outputs = isolatedSubnetOutputs();
    expect(outputs).toHaveLength(2);
    let inVpc = 0;
    for (const key of STACK_KEYS) {
      for (const [id, fn] of Object.entries(resourcesOf(t[key], 'AWS::Lambda::Function'))) {
        const p = props(fn);
        const description = text(p.Description);
        if (!description.startsWith(FUNCTION_DESCRIPTION_PREFIX) || description.startsWith(`${FUNCTION_DESCRIPTION_PREFIX} JWKS mirror`)) continue;
        const vpc = p.VpcConfig as { SubnetIds: unknown[]; SecurityGroupIds: unknown[] } | undefined;
        expect(vpc, `${key}/${id} must be in the VPC`).toBeDefined();
        // Strong references (issue 13): the subnets are the network stack's exports.
        expect(vpc!.SubnetIds.map((s) => (s as { 'Fn::ImportValue': string })['Fn::ImportValue']).sort()).toEqual([...outputs].sort());
        expect(json(vpc!.SecurityGroupIds)).toContain('FunctionSecurityGroup');
        inVpc++;
      }
    }
    // bootstrap + authorizer + one per handler group (+ the bookkeeper, issue 13)
    expect(inVpc).toBe(2 + new Set(ROUTES.map((r) => r.handler)).size + (synth.stacks.api.gatehouse.bookkeeper ? 1 : 0));
  });

  it('leaves outside the VPC only the JWKS mirror and CDK framework functions', () => {
    const outside: string[] = [];
    for (const key of STACK_KEYS) {
      for (const [id, fn] of Object.entries(resourcesOf(t[key], 'AWS::Lambda::Function'))) {
        if (props(fn).VpcConfig) continue;
        const description = text(props(fn).Description);
        if (description.startsWith(`${FUNCTION_DESCRIPTION_PREFIX} JWKS mirror`)) outside.push('jwks-mirror');
        else if (description.startsWith('AWS CDK resource provider framework - onEvent')) outside.push(`provider-framework:${key}`);
        else if (id.startsWith('AWS679f53fac002430cb0da5b7982bd2287')) outside.push('aws-custom-resource:prefix-list-lookup');
        else if (id.startsWith('CustomVpcRestrictDefaultSGCustomResourceProvider')) outside.push('restrict-default-security-group');
        else outside.push(`UNEXPECTED ${key}/${id}`);
      }
    }
    expect(outside.sort()).toEqual(
      ['aws-custom-resource:prefix-list-lookup', 'jwks-mirror', 'provider-framework:data', 'provider-framework:identity', 'restrict-default-security-group'].sort(),
    );
  });

  it('runs every Gatehouse function on nodejs24.x, ARM64, with active tracing and its own log group', () => {
    let count = 0;
    for (const key of STACK_KEYS) {
      for (const fn of Object.values(resourcesOf(t[key], 'AWS::Lambda::Function'))) {
        const p = props(fn);
        if (!text(p.Description).startsWith(FUNCTION_DESCRIPTION_PREFIX)) continue;
        expect(p).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' }, Handler: 'index.handler' });
        expect(p.LoggingConfig).toMatchObject({ LogGroup: { Ref: expect.any(String) } });
        count++;
      }
    }
    expect(count).toBe(3 + new Set(ROUTES.map((r) => r.handler)).size + (synth.stacks.api.gatehouse.bookkeeper ? 1 : 0));
  });

  it('gives no Gatehouse function an AWS managed policy', () => {
    for (const key of STACK_KEYS) {
      for (const role of Object.values(resourcesOf(t[key], 'AWS::IAM::Role'))) {
        if (text(props(role).Description).startsWith(FUNCTION_DESCRIPTION_PREFIX)) expect(props(role).ManagedPolicyArns).toBeUndefined();
      }
    }
  });
});

describe('data', () => {
  it('creates the one table from lambdas/core/table.ts, encrypted, with PITR, deletion protection, TTL and RETAIN (except on a failed create)', () => {
    const [, table] = only(resourcesOf(t.data, 'AWS::DynamoDB::Table'));
    const expected = createTableInput('x');
    const p = props(table);
    expect(p.KeySchema).toEqual(expected.KeySchema);
    expect(new Set(p.AttributeDefinitions as unknown[])).toEqual(new Set(expected.AttributeDefinitions));
    expect(p.GlobalSecondaryIndexes).toEqual(expected.GlobalSecondaryIndexes);
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    // SSEEnabled without a key: KMS with the AWS managed key aws/dynamodb (auditable in CloudTrail).
    expect(p.SSESpecification).toEqual({ SSEEnabled: true });
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.DeletionProtectionEnabled).toBe(true);
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
    expect(table.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  it('generates a pepper of at least 32 characters and creates the admin-key secret empty; both retained', () => {
    const secrets = Object.entries(resourcesOf(t.data, 'AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(2);
    const pepper = secrets.find(([id]) => id.startsWith('Pepper'))![1];
    const admin = secrets.find(([id]) => id.startsWith('AdminKey'))![1];
    const generate = props(pepper).GenerateSecretString as { PasswordLength: number };
    expect(generate.PasswordLength).toBeGreaterThanOrEqual(32);
    expect(props(admin).GenerateSecretString).toBeUndefined();
    expect(props(admin).SecretString).toBeUndefined();
    for (const [, s] of secrets) expect([s.DeletionPolicy, s.UpdateReplacePolicy]).toEqual(['RetainExceptOnCreate', 'Retain']);
  });

  it('creates the bootstrap admin key with a custom resource whose function gets the table, pepper and secret', () => {
    const [, resource] = only(resourcesOf(t.data, 'Custom::GatehouseAdminKey'));
    expect(json(props(resource).ServiceToken)).toContain('BootstrapProviderframeworkonEvent');
    const bootstrap = synth.stacks.data.data.bootstrapFunction;
    const fnId = logicalId(bootstrap.fn.node.defaultChild);
    const fn = resourcesOf(t.data, 'AWS::Lambda::Function')[fnId]!;
    const env = (props(fn).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env).sort()).toEqual(
      ['GATEHOUSE_ADMIN_KEY_SECRET_ID', DEPLOYMENT_ENV, SETTINGS.keyEnvironment.env, SETTINGS.pepperRefreshSeconds.env, SETTINGS.pepperSecretId.env, SETTINGS.tableName.env].sort(),
    );
    expect(env.GATEHOUSE_ADMIN_KEY_SECRET_ID).toEqual({ Ref: expect.stringMatching(/^AdminKey/) });
    const roleId = logicalId(bootstrap.role.node.defaultChild);
    const statements = statementsOfRole(t.data, roleId);
    expect(actionsOf(statements).filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(statements.find((s) => json(s.Action).includes('PutSecretValue'))?.Resource).toEqual({ Ref: expect.stringMatching(/^AdminKey/) });
  });

  it('keeps the logical ids the retained resources were first deployed with (another id would create a second table, pepper or pool)', () => {
    // Pinned: the constructs sit under the id `Default`, which CDK leaves out of logical ids (infra/*-stack.ts).
    expect(Object.keys(resourcesOf(t.data, 'AWS::DynamoDB::Table'))).toEqual(['TableCD117FA1']);
    expect(Object.keys(resourcesOf(t.data, 'AWS::SecretsManager::Secret')).sort()).toEqual(['AdminKeyC19094DA', 'Pepper2B9638F2']);
    expect(Object.keys(resourcesOf(t.identity, 'AWS::Cognito::UserPool'))).toEqual(['UserPool6BA7E5F2']);
  });

  it('outputs the admin-key secret ARN', () => {
    const outputs = t.data.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.AdminKeySecretArn?.Value).toEqual({ Ref: expect.stringMatching(/^AdminKey/) });
  });
});

describe('identity', () => {
  it('has a strong password policy, TOTP MFA (optional by default), admin-only sign-up and deletion protection', () => {
    const [, pool] = only(resourcesOf(t.identity, 'AWS::Cognito::UserPool'));
    const p = props(pool);
    expect((p.Policies as { PasswordPolicy: Props }).PasswordPolicy).toMatchObject({
      MinimumLength: 14,
      RequireLowercase: true,
      RequireUppercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
    });
    expect(p.MfaConfiguration).toBe('OPTIONAL');
    expect(p.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
    expect(p.AdminCreateUserConfig).toMatchObject({ AllowAdminCreateUserOnly: true });
    expect(p.DeletionProtection).toBe('ACTIVE');
    expect(pool.DeletionPolicy).toBe('RetainExceptOnCreate');
  });

  it('has managed login v2 with a branding style for the people client', () => {
    t.identity.hasResourceProperties('AWS::Cognito::UserPoolDomain', { ManagedLoginVersion: 2 });
    const branding = props(only(resourcesOf(t.identity, 'AWS::Cognito::ManagedLoginBranding'))[1]);
    expect(branding.ClientId).toEqual({ Ref: logicalId(synth.stacks.identity.peopleClient.node.defaultChild) });
    expect(branding.UseCognitoProvidedValues).toBe(true);
  });

  it('has the gatehouse resource server with every contract scope, and the admins and users groups', () => {
    const server = props(only(resourcesOf(t.identity, 'AWS::Cognito::UserPoolResourceServer'))[1]);
    expect(server.Identifier).toBe(RESOURCE_SERVER_ID);
    expect((server.Scopes as { ScopeName: string }[]).map((s) => s.ScopeName)).toEqual([...ALL_SCOPES]);
    const groups = Object.values(resourcesOf(t.identity, 'AWS::Cognito::UserPoolGroup')).map((g) => props(g).GroupName);
    expect(groups.sort()).toEqual(['admins', 'users']);
  });

  it('people client: authorization code (PKCE) only, public, loopback callback; no implicit flow, no passwords', () => {
    const client = props(resourcesOf(t.identity, 'AWS::Cognito::UserPoolClient')[logicalId(synth.stacks.identity.peopleClient.node.defaultChild)]!);
    expect(client.GenerateSecret).toBe(false);
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(client.CallbackURLs).toEqual([DEFAULT_CLI_CALLBACK_URL]);
    expect(client.ExplicitAuthFlows).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
    expect(client.PreventUserExistenceErrors).toBe('ENABLED');
    expect(client.SupportedIdentityProviders).toEqual(['COGNITO']);
    const scopes = json(client.AllowedOAuthScopes);
    for (const scope of ['openid', ...ALL_SCOPES.map((s) => `/${s}`)]) expect(scopes).toContain(scope);
  });

  it('machine client: client credentials with a secret and every resource-server scope', () => {
    const client = props(resourcesOf(t.identity, 'AWS::Cognito::UserPoolClient')[logicalId(synth.stacks.identity.machineClient.node.defaultChild)]!);
    expect(client.GenerateSecret).toBe(true);
    expect(client.AllowedOAuthFlows).toEqual(['client_credentials']);
    const scopes = client.AllowedOAuthScopes as unknown[];
    expect(scopes).toHaveLength(ALL_SCOPES.length);
    for (const scope of ALL_SCOPES) expect(json(scopes)).toContain(`/${scope}`);
    expect(json(scopes)).not.toContain('openid');
  });

  it('runs the JWKS mirror outside the VPC, every 5 minutes and once at deploy, allowed to write (and read back) JWKS items only', () => {
    const mirror = synth.stacks.identity.identity.jwksMirror;
    const fn = props(resourcesOf(t.identity, 'AWS::Lambda::Function')[logicalId(mirror.fn.node.defaultChild)]!);
    expect(fn.VpcConfig).toBeUndefined();
    const env = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env).sort()).toEqual([DEPLOYMENT_ENV, SETTINGS.cognito.env, SETTINGS.jwksTimeoutMs.env, SETTINGS.oidcIssuers.env, SETTINGS.tableName.env].sort());
    const statements = statementsOfRole(t.identity, logicalId(mirror.role.node.defaultChild));
    const data = statements.filter((s) => json(s.Action).includes('dynamodb'));
    expect(data).toEqual([expect.objectContaining({ Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['JWKS#*'] } } })]);
    expect(json(statements)).not.toContain('secretsmanager');
    t.identity.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED' });
    only(resourcesOf(t.identity, 'Custom::GatehouseJwksMirror'));
  });

  it('outputs the pool, both client ids and the hosted login URL', () => {
    const outputs = Object.keys(t.identity.toJSON().Outputs as object);
    for (const name of ['UserPoolId', 'PeopleClientId', 'MachineClientId', 'HostedLoginUrl']) expect(outputs).toContain(name);
  });
});

describe('WAF', () => {
  const rules = () => props(only(resourcesOf(t.waf, 'AWS::WAFv2::WebACL'))[1]).Rules as Props[];
  const rule = (name: string) => rules().find((r) => r.Name === name)!;

  it('is regional, allows by default, and keeps sampled requests (which show credentials) off', () => {
    const acl = props(only(resourcesOf(t.waf, 'AWS::WAFv2::WebACL'))[1]);
    expect(acl.Scope).toBe('REGIONAL');
    expect(acl.DefaultAction).toEqual({ Allow: {} });
    expect(json(acl)).not.toContain('"SampledRequestsEnabled":true');
  });

  it('rate-limits per IP and per credential (Authorization and X-API-Key) with 429, Retry-After and the envelope', () => {
    const s = synth.stacks.config.settings;
    const perIp = rule('RateLimitPerIp').Statement as { RateBasedStatement: Props };
    expect(perIp.RateBasedStatement).toMatchObject({ Limit: s.rateLimitPerIp, EvaluationWindowSec: s.rateLimitWindowSeconds, AggregateKeyType: 'IP' });
    for (const [name, header] of [['RateLimitPerAuthorization', 'authorization'], ['RateLimitPerApiKey', 'x-api-key']] as const) {
      const statement = (rule(name).Statement as { RateBasedStatement: Props }).RateBasedStatement;
      expect(statement).toMatchObject({ Limit: s.rateLimitPerCredential, EvaluationWindowSec: s.rateLimitWindowSeconds, AggregateKeyType: 'CUSTOM_KEYS' });
      // Every spelling of one credential ("bearer", "BEARER  ", tabs) counts in the same bucket.
      expect(statement.CustomKeys).toEqual([
        { Header: { Name: header, TextTransformations: [{ Priority: 0, Type: 'LOWERCASE' }, { Priority: 1, Type: 'COMPRESS_WHITE_SPACE' }] } },
      ]);
    }
    for (const name of ['RateLimitPerIp', 'RateLimitPerAuthorization', 'RateLimitPerApiKey']) {
      expect(rule(name).Action).toEqual({
        Block: {
          CustomResponse: {
            ResponseCode: 429,
            CustomResponseBodyKey: WAF_RATE_LIMITED.customResponseBodyKey,
            // cdk.json configures no CORS origin: no CORS headers, and never cached.
            ResponseHeaders: [
              { Name: 'Retry-After', Value: String(WAF_RATE_LIMITED.retryAfterSeconds) },
              { Name: 'Cache-Control', Value: 'no-store' },
            ],
          },
        },
      });
    }
    const bodies = props(only(resourcesOf(t.waf, 'AWS::WAFv2::WebACL'))[1]).CustomResponseBodies as Record<string, { ContentType: string; Content: string }>;
    const body = bodies[WAF_RATE_LIMITED.customResponseBodyKey]!;
    // WAF refuses a custom Content-Type header; APPLICATION_JSON is the closest it allows (documented limitation).
    expect(body.ContentType).toBe('APPLICATION_JSON');
    expect(JSON.parse(body.Content)).toEqual(JSON.parse(gatewayResponseBody(WAF_RATE_LIMITED, WAF_REQUEST_ID)));
    expect(JSON.parse(body.Content)).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
  });

  it('applies the AWS managed groups with SizeRestrictions_BODY, NoUserAgent_HEADER, the body rules (issue 13) and HostingProviderIPList counted, not blocked', () => {
    const managed: Record<string, Props> = {};
    for (const r of rules()) {
      const group = (r.Statement as Props).ManagedRuleGroupStatement as Props | undefined;
      if (group) managed[text(group.Name)] = r;
    }
    expect(Object.keys(managed).sort()).toEqual(
      ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesAnonymousIpList', 'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet'].sort(),
    );
    const overrides = (name: string) => ((managed[name]!.Statement as Props).ManagedRuleGroupStatement as Props).RuleActionOverrides;
    // The body rules still block outside the free-form routes (waf-payloads.test.ts).
    expect(overrides('AWSManagedRulesCommonRuleSet')).toEqual(
      ['SizeRestrictions_BODY', 'NoUserAgent_HEADER', ...FREE_FORM_BODY_RULES].map((name) => ({ Name: name, ActionToUse: { Count: {} } })),
    );
    expect(overrides('AWSManagedRulesAnonymousIpList')).toEqual([{ Name: 'HostingProviderIPList', ActionToUse: { Count: {} } }]);
    for (const r of Object.values(managed)) expect(r.OverrideAction).toEqual({ None: {} });
  });

  it('logs to aws-waf-logs-… with the credential headers redacted', () => {
    const logging = props(only(resourcesOf(t.waf, 'AWS::WAFv2::LoggingConfiguration'))[1]);
    expect(logging.RedactedFields).toEqual([{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'x-api-key' } }]);
    const [groupId, group] = only(resourcesOf(t.waf, 'AWS::Logs::LogGroup'));
    // aws-waf-logs-<prefix>-<web ACL id>: never the same name twice (issue 13).
    expect(props(group).LogGroupName).toEqual({ 'Fn::Join': ['', ['aws-waf-logs-gatehouse-', { 'Fn::GetAtt': [expect.stringMatching(/^WebAcl/), 'Id'] }]] });
    expect(json(logging.LogDestinationConfigs)).toContain(`":log-group:",{"Ref":"${groupId}"}]`);
  });

  it('is associated with the API stage itself', () => {
    const association = props(only(resourcesOf(t.api, 'AWS::WAFv2::WebACLAssociation'))[1]);
    const stageId = logicalId(synth.stacks.api.api.deploymentStage.node.defaultChild);
    expect(json(association.ResourceArn)).toContain(`{"Ref":"${stageId}"}`);
    expect(json(association.WebACLArn)).toContain('GatehouseWaf');
  });
});

describe('API', () => {
  const methods = () =>
    Object.values(resourcesOf(t.api, 'AWS::ApiGateway::Method'))
      .map(props)
      .filter((m) => m.HttpMethod !== 'OPTIONS');
  const authorizerId = () => only(resourcesOf(t.api, 'AWS::ApiGateway::Authorizer'))[0];

  it('has exactly the methods of the route table, with the REQUEST authorizer on token routes, IAM on iam routes, none on public ones', () => {
    const paths = resourcePaths(t.api);
    const found = methods().map((m) => ({ key: `${String(m.HttpMethod)} ${paths.get((m.ResourceId as { Ref: string }).Ref)}`, m }));
    expect(found.map((f) => f.key).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of ROUTES) {
      const m = found.find((f) => f.key === `${route.method} ${route.path}`)!.m;
      if (route.auth === 'token') {
        expect(m.AuthorizationType, route.path).toBe('CUSTOM');
        expect(m.AuthorizerId).toEqual({ Ref: authorizerId() });
      } else {
        expect(m.AuthorizationType, route.path).toBe(route.auth === 'iam' ? 'AWS_IAM' : 'NONE');
        expect(m.AuthorizerId, route.path).toBeUndefined();
      }
      const fnId = logicalId(synth.stacks.api.handlers[route.handler]!.fn.node.defaultChild);
      expect(m.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
      expect(json(m.Integration)).toContain(`"${fnId}"`);
    }
  });

  it('runs the authorizer uncached with no required identity source, so either credential header works', () => {
    const authorizer = props(only(resourcesOf(t.api, 'AWS::ApiGateway::Authorizer'))[1]);
    expect(authorizer.Type).toBe('REQUEST');
    expect(authorizer.AuthorizerResultTtlInSeconds).toBe(0);
    expect(authorizer).not.toHaveProperty('IdentitySource');
    expect(json(authorizer.AuthorizerUri)).toContain(logicalId(synth.stacks.api.authorizerFunction.fn.node.defaultChild));
  });

  it('answers every gateway response type in the error envelope with its status and headers', () => {
    const responses = Object.values(resourcesOf(t.api, 'AWS::ApiGateway::GatewayResponse')).map(props);
    expect(responses).toHaveLength(GATEWAY_RESPONSES.length);
    for (const def of GATEWAY_RESPONSES) {
      const r = responses.find((x) => x.ResponseType === def.type);
      expect(r, def.type).toBeDefined();
      expect(r!.StatusCode).toBe(String(def.status));
      const headers = r!.ResponseParameters as Record<string, string>;
      expect(headers['gatewayresponse.header.Content-Type']).toBe(`'${PROBLEM_CONTENT_TYPE}'`);
      for (const [name, value] of Object.entries(def.headers)) expect(headers[`gatewayresponse.header.${name}`], `${def.type} ${name}`).toBe(`'${value}'`);
      // No CORS headers when no origin is configured.
      expect(Object.keys(headers).some((h) => h.includes('Access-Control'))).toBe(false);
      const template = (r!.ResponseTemplates as Record<string, string>)['application/json']!;
      expect(template).toContain('"requestId":"$context.requestId"');
      // A response with variants (the plan-limit 429) is a VTL choice: each branch is the envelope.
      const branches = def.variants ? template.split(/#(?:if|elseif)\([^)]*\)|#else|#end/).filter((x) => x !== '') : [template];
      expect(branches).toHaveLength(def.variants ? def.variants.cases.length + 1 : 1);
      expect(JSON.parse(branches.at(-1)!)).toMatchObject({ status: def.status, code: def.code, detail: def.detail, type: expect.stringContaining('https://') });
      def.variants?.cases.forEach((c, i) => expect(JSON.parse(branches[i]!)).toMatchObject({ status: def.status, code: c.code, detail: c.detail }));
      for (const [name, key] of Object.entries(def.contextHeaders ?? {})) expect(headers[`gatewayresponse.header.${name}`]).toBe(`context.authorizer.${key}`);
    }
    const unauthorized = responses.find((x) => x.ResponseType === 'UNAUTHORIZED')!.ResponseParameters as Record<string, string>;
    expect(unauthorized['gatewayresponse.header.WWW-Authenticate']).toBe(`'Bearer realm="gatehouse"'`);
    const throttled = responses.find((x) => x.ResponseType === 'THROTTLED')!;
    expect(throttled.StatusCode).toBe('429');
    expect((throttled.ResponseParameters as Record<string, string>)['gatewayresponse.header.Retry-After']).toMatch(/^'\d+'$/);
  });

  it('has no CORS preflight methods when no origin is configured', () => {
    expect(Object.values(resourcesOf(t.api, 'AWS::ApiGateway::Method')).filter((m) => props(m).HttpMethod === 'OPTIONS')).toHaveLength(0);
  });

  it('throttles the stage, traces it, never logs request data, and writes JSON access logs', () => {
    const s = synth.stacks.config.settings;
    const stage = props(only(resourcesOf(t.api, 'AWS::ApiGateway::Stage'))[1]);
    expect(stage.TracingEnabled).toBe(true);
    expect(stage.MethodSettings).toEqual([
      expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: s.throttleRateLimit, ThrottlingBurstLimit: s.throttleBurstLimit, LoggingLevel: 'ERROR', DataTraceEnabled: false }),
    ]);
    const format = JSON.parse((stage.AccessLogSetting as { Format: string }).Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      principalId: '$context.authorizer.principalId',
      status: '$context.status',
      latency: '$context.responseLatency',
      wafStatus: '$context.waf.status',
    });
    expect(json(format)).not.toMatch(/header|Authorization/i);
    t.api.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
  });

  it('grants each handler group exactly what its code uses, and the authorizer Get/Put/Update plus the pepper', () => {
    const tableArnOutput = /"Fn::ImportValue":"GatehouseData:ExportsOutputFnGetAttTable[A-Za-z0-9]*Arn/;
    const check = (roleConstruct: unknown, table: readonly string[], index: readonly string[], pepper: boolean) => {
      const grants = grantsOf(statementsOfRole(t.api, logicalId(roleConstruct)));
      const dynamo = grants.filter((g) => g.action.startsWith('dynamodb:'));
      const onTable = dynamo.filter((g) => !g.resource.includes('/index/'));
      const onIndex = dynamo.filter((g) => g.resource.includes('/index/'));
      expect(onTable.map((g) => g.action).sort()).toEqual(table.map((a) => `dynamodb:${a}`).sort());
      expect(onIndex.map((g) => g.action).sort()).toEqual(index.map((a) => `dynamodb:${a}`).sort());
      for (const g of onTable) expect(g.resource).toMatch(tableArnOutput);
      for (const g of onIndex) expect(g.resource).toContain(`/index/${GSI1.name}"`);
      const secrets = grants.filter((g) => g.action.startsWith('secretsmanager:'));
      expect(secrets.map((g) => g.action)).toEqual(pepper ? ['secretsmanager:GetSecretValue'] : []);
      for (const g of secrets) expect(g.resource).toContain('GatehouseData:ExportsOutputRefPepper');
      // Nothing is granted on '*' but the ENI and X-Ray actions, and nothing else exists but the function's own logs.
      for (const g of grants.filter((x) => x.resource === '"*"')) expect(g.action).toMatch(/^(ec2:(Create|Describe|Delete|Assign|Unassign)[A-Za-z]*|xray:Put[A-Za-z]*)$/);
      for (const g of grants.filter((x) => !/^(dynamodb|secretsmanager|ec2|xray):/.test(x.action))) {
        expect(['logs:CreateLogStream', 'logs:PutLogEvents']).toContain(g.action);
      }
    };
    // Each group's access is declared in its own folder (lambdas/api/<group>/index.ts) and derived from there.
    expect([...synth.stacks.groups.keys()].sort()).toEqual([...new Set(ROUTES.map((r) => r.handler))].sort());
    for (const [name, group] of synth.stacks.groups) {
      check(synth.stacks.api.handlers[name]!.role.node.defaultChild, group.access.table ?? [], group.access.index ?? [], group.access.pepper ?? false);
    }
    check(synth.stacks.api.authorizerFunction.role.node.defaultChild, AUTHORIZER_TABLE_ACTIONS, [], true);
    const access = (name: string) => synth.stacks.groups.get(name)!.access;
    expect(access('health')).toEqual({});
    expect(access('openapi')).toEqual({});
    expect(access('verify')).toEqual({ table: ['GetItem'], pepper: true });
  });

  it('configures the functions from settings.ts names: authorizer reads JWKS from the store, Cognito ids come from the pool', () => {
    const env = (fn: { node: { defaultChild?: unknown } }) =>
      (props(resourcesOf(t.api, 'AWS::Lambda::Function')[logicalId(fn.node.defaultChild)]!).Environment as { Variables: Record<string, unknown> }).Variables;
    const authorizer = env(synth.stacks.api.authorizerFunction.fn);
    // No plan limits anything by default (no usage keys, docs/plans.md); clientCertificates is set only beside a
    // mutual-TLS custom domain (custom-domain.test.ts).
    const expectedNames = AUTHORIZER_SETTINGS.filter((n) => n !== 'localPepper' && n !== 'usageKeys' && n !== 'clientCertificates').map((n) => SETTINGS[n].env);
    expect(Object.keys(authorizer).sort()).toEqual([...new Set([...expectedNames, JWKS_SOURCE_ENV, DEPLOYMENT_ENV])].sort());
    expect(authorizer[JWKS_SOURCE_ENV]).toBe('store');
    expect(authorizer[SETTINGS.keyEnvironment.env]).toBe('live');
    expect(authorizer[SETTINGS.authMode.env]).toBe('enforce');
    const cognito = json(authorizer[SETTINGS.cognito.env]);
    expect(cognito).toContain('userPoolId');
    expect(cognito).toContain('tokenUse\\":\\"access');
    expect(cognito).toMatch(/PeopleClient[\s\S]*MachineClient/);
    for (const name of new Set(ROUTES.map((r) => r.handler))) {
      const handlerEnv = env(synth.stacks.api.handlers[name]!.fn);
      // The console's function also holds how its page signs people in (its app client on the pool).
      const own = name === CONSOLE_GROUP ? [CONSOLE_SIGN_IN_ENV] : [];
      expect(Object.keys(handlerEnv).sort()).toEqual([...API_SETTINGS.filter((n) => n !== 'localPepper').map((n) => SETTINGS[n].env), DEPLOYMENT_ENV, ...own].sort());
    }
  });

  it('outputs the API URL', () => {
    expect(Object.keys(t.api.toJSON().Outputs as object)).toContain('ApiUrl');
  });
});
