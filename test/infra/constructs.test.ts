/**
 * The construct library's "existing resource" props (aws-solutions-constructs style pairs) and where
 * GatehouseFunction finds its code: a team's VPC, a team's user pool, an imported REST API, an installed package.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Template } from 'aws-cdk-lib/assertions';
import { UserPool } from 'aws-cdk-lib/aws-cognito';
import { SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/core/errors.js';
import { GATEWAY_RESPONSES } from '../../lambdas/core/gateway-responses.js';
import { GATEHOUSE_APP } from '../../lambdas/app.js';
import {
  defaultProjectRoot,
  Gatehouse,
  GatehouseData,
  GatehouseIdentity,
  GatehouseNetwork,
  gatehouseConfig,
  loadAppGroups,
  type HandlerGroup,
} from '../../infra/index.js';
import { GATEHOUSE_CODE_ROOT, resolveEntry } from '../../infra/function.js';
import { resourcesOf } from './synth.js';
import { json, props } from './template.js';

process.env.CDK_VALIDATION = 'false';

const newStack = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Team');
const synth = (stack: Stack) => Template.fromStack(stack);

let groups: ReadonlyMap<string, HandlerGroup>;
beforeAll(async () => {
  groups = await loadAppGroups();
});

describe('GatehouseNetwork', () => {
  it('with existingVpc: creates no VPC or flow log, puts the endpoints and groups in that VPC, functions in its isolated subnets', () => {
    const stack = newStack();
    const vpc = new Vpc(stack, 'TeamVpc', { natGateways: 0, subnetConfiguration: [{ name: 'data', subnetType: SubnetType.PRIVATE_ISOLATED }] });
    const network = new GatehouseNetwork(stack, 'Network', { existingVpc: vpc });
    const template = synth(stack);
    expect(Object.keys(resourcesOf(template, 'AWS::EC2::VPC'))).toEqual([expect.stringMatching(/^TeamVpc/)]);
    template.resourceCountIs('AWS::EC2::FlowLog', 0);
    for (const endpoint of Object.values(resourcesOf(template, 'AWS::EC2::VPCEndpoint'))) expect(json(props(endpoint).VpcId)).toContain('TeamVpc');
    expect(network.functionNetwork.subnets).toEqual({ subnetType: SubnetType.PRIVATE_ISOLATED });
    // No CloudWatch Logs endpoint since issue 13 (nothing calls the Logs API from the VPC).
    expect([...network.services!].sort()).toEqual(['dynamodb', 'secretsmanager', 'xray']);
  });

  it('with createEndpoints false: uses the given security group as it is, and knows no services to check', () => {
    const stack = newStack();
    const vpc = new Vpc(stack, 'TeamVpc', { natGateways: 0, subnetConfiguration: [{ name: 'data', subnetType: SubnetType.PRIVATE_ISOLATED }] });
    const sg = new SecurityGroup(stack, 'TeamSg', { vpc, allowAllOutbound: false });
    const network = new GatehouseNetwork(stack, 'Network', { existingVpc: vpc, existingSecurityGroup: sg, createEndpoints: false });
    const template = synth(stack);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
    expect(network.functionSecurityGroup).toBe(sg);
    expect(network.services).toBeUndefined();
  });

  it('refuses contradictory or incomplete props', () => {
    const stack = newStack();
    const vpc = new Vpc(stack, 'TeamVpc', { natGateways: 0 });
    expect(() => new GatehouseNetwork(stack, 'A', { existingVpc: vpc, vpcProps: { maxAzs: 3 } })).toThrow(/existingVpc or vpcProps, not both/);
    expect(() => new GatehouseNetwork(stack, 'B', { existingVpc: vpc, createEndpoints: false })).toThrow(/pass existingSecurityGroup/);
  });
});

describe('GatehouseIdentity', () => {
  it('with existingUserPool: creates nothing in the pool, accepts the given clients and resource server, still mirrors JWKS', () => {
    const stack = newStack();
    const network = new GatehouseNetwork(stack, 'Network');
    const data = new GatehouseData(stack, 'Data', { network: network.functionNetwork });
    const pool = UserPool.fromUserPoolId(stack, 'TeamPool', 'eu-west-1_AbCdEf123');
    const identity = new GatehouseIdentity(stack, 'Identity', { table: data.table, existingUserPool: pool, existingClientIds: ['client-a', 'client-b'], resourceServerId: 'weather' });
    const template = synth(stack);
    for (const type of ['AWS::Cognito::UserPool', 'AWS::Cognito::UserPoolClient', 'AWS::Cognito::UserPoolResourceServer', 'AWS::Cognito::UserPoolGroup', 'AWS::Cognito::UserPoolDomain']) {
      template.resourceCountIs(type, 0);
    }
    expect(identity.peopleClient).toBeUndefined();
    const setting = JSON.parse(stack.resolve(identity.cognitoSetting) as string) as Record<string, unknown>;
    expect(setting).toEqual({ userPoolId: 'eu-west-1_AbCdEf123', clientIds: ['client-a', 'client-b'], tokenUse: 'access', resourceServerId: 'weather' });
    template.resourceCountIs('Custom::GatehouseJwksMirror', 1);
  });

  it('refuses an existing pool without client ids, and an OIDC issuer a deployment cannot reach', () => {
    const stack = newStack();
    const network = new GatehouseNetwork(stack, 'Network');
    const data = new GatehouseData(stack, 'Data', { network: network.functionNetwork });
    const pool = UserPool.fromUserPoolId(stack, 'TeamPool', 'eu-west-1_AbCdEf123');
    expect(() => new GatehouseIdentity(stack, 'A', { table: data.table, existingUserPool: pool })).toThrow(/pass existingClientIds/);
    expect(
      () => new GatehouseIdentity(stack, 'B', { table: data.table, oidcIssuers: [{ issuer: 'http://127.0.0.1:9', jwksUri: 'http://127.0.0.1:9/jwks', audience: ['a'] }] }),
    ).toThrow(/https JWKS URIs in a deployment/);
  });
});

describe('Gatehouse on an imported REST API', () => {
  it('adds its methods and gateway responses to the imported API; WAF left to the team', () => {
    const stack = newStack();
    const restApi = RestApi.fromRestApiAttributes(stack, 'Imported', { restApiId: 'abc123', rootResourceId: 'root456' });
    const gatehouse = new Gatehouse(stack, 'Gatehouse', { groups, existingRestApi: restApi, waf: false });
    const template = synth(stack);
    const methods = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method')).map(props);
    expect(methods).toHaveLength(GATEHOUSE_APP.api.routes.length);
    for (const m of methods) expect(m.RestApiId).toBe('abc123');
    const responses = Object.keys(resourcesOf(template, 'AWS::ApiGateway::GatewayResponse'));
    expect(responses).toHaveLength(GATEWAY_RESPONSES.length);
    for (const id of responses) expect(id).toMatch(/^ImportedResponse/);
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    expect(gatehouse.waf).toBeUndefined();
  });
});

describe('gatehouseConfig', () => {
  it('validates a team’s configuration exactly like cdk.json context', () => {
    expect(gatehouseConfig({ corsOrigins: ['https://app.example.com'] }).settings.corsOrigins).toEqual(['https://app.example.com']);
    expect(() => gatehouseConfig({ corsOrigins: ['*'] })).toThrow(ConfigError);
    expect(() => gatehouseConfig({ rateLimitPerIp: 5 })).toThrow(/Invalid configuration rateLimitPerIp/);
  });
});

describe('where GatehouseFunction finds its code', () => {
  let dir: string;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves a relative entry under the code root, .ts in the repository', () => {
    expect(resolveEntry('lambdas/authorizer/handler')).toBe(join(GATEHOUSE_CODE_ROOT, 'lambdas/authorizer/handler.ts'));
    expect(() => resolveEntry('lambdas/nothing/here')).toThrow(/does not exist/);
  });

  it('in an installed package: finds the .js entry, and the project root by the lockfile of the folder that contains it', () => {
    // A team's project with gatehouse installed: <team>/package-lock.json, <team>/node_modules/gatehouse/dist/lambdas/…
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-team-'));
    const lambdas = join(dir, 'node_modules', 'gatehouse', 'dist', 'lambdas', 'authorizer');
    mkdirSync(lambdas, { recursive: true });
    writeFileSync(join(lambdas, 'handler.js'), 'export const handler = () => {};\n');
    writeFileSync(join(dir, 'package-lock.json'), '{}\n');
    const entry = resolveEntry(join(lambdas, 'handler'));
    expect(entry).toBe(join(lambdas, 'handler.js'));
    // The working directory (this repository) does not contain the entry, so the search starts from the entry.
    expect(defaultProjectRoot(entry)).toEqual({ projectRoot: dir, depsLockFilePath: join(dir, 'package-lock.json') });
  });
});
