/**
 * Issue 12 (A): a handler group's own declaration (`access` in lambdas/api/<group>/index.ts) is all CDK needs. Two
 * fixture groups are added to Gatehouse's route table (the template path) and the five-stack app is built from it:
 * - `exports` declares a table action, an S3 statement with deploy-time variables and `network: 'internet'`;
 * - `archive` declares an S3 statement and `endpoints: ['s3']`, in the isolated VPC.
 * Each function gets exactly that; the network gains the S3 gateway endpoint and nothing else; cdk-nag stays clean.
 */
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HandlerGroup } from '../../lambdas/api/group.js';
import type { GatehouseApp } from '../../lambdas/app.js';
import { defineApi, mergeApiDefinitions } from '../../lambdas/core/api-definition.js';
import { GSI1 } from '../../lambdas/core/table.js';
import { GATEHOUSE_API } from '../../lambdas/routes.js';
import { accessStatements, statementResource } from '../../infra/access.js';
import { GatehouseApi } from '../../infra/constructs/api.js';
import { GatehouseData } from '../../infra/constructs/data.js';
import { GatehouseIdentity } from '../../infra/constructs/identity.js';
import { GatehouseNetwork } from '../../infra/constructs/network.js';
import { buildGatehouse, type GatehouseStacks } from '../../infra/gatehouse.js';
import { loadAppGroups } from '../../infra/groups.js';
import { group as archiveGroup } from './fixtures/groups/archive/index.js';
import { group as exportsGroup } from './fixtures/groups/exports/index.js';
import { createApp, resourcesOf } from './synth.js';
import { grantsOf, idOf, json, props, statementsOfRole } from './template.js';

process.env.CDK_VALIDATION = 'false';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/groups/${name}/index.ts`, import.meta.url));
const HANDLER_ENTRIES = { exports: fixture('exports'), archive: fixture('archive') };

/** Gatehouse's own API plus the two fixture groups' routes: what lambdas/routes.ts would say after adding them. */
const API = defineApi(
  mergeApiDefinitions(GATEHOUSE_API.definition, {
    scopes: {
      'exports:read': { description: 'Start an export', groups: ['users'] },
      'archive:write': { description: 'Archive events', groups: ['admins'] },
    },
    routes: [
      { method: 'GET', path: '/v1/exports', handler: 'exports', auth: 'token', scope: 'exports:read', summary: 'Start an export' },
      { method: 'POST', path: '/v1/archive', handler: 'archive', auth: 'token', scope: 'archive:write', summary: 'Archive events' },
    ],
  }),
);
const APP: GatehouseApp = { definition: { ...API.definition, targets: {} }, api: API, targets: {}, title: 'Gatehouse' };
const FIXTURE_GROUPS: readonly HandlerGroup[] = [exportsGroup, archiveGroup];

let cdkApp: App;
let stacks: GatehouseStacks;
let api: Template;
let network: Template;

beforeAll(async () => {
  const groups = await loadAppGroups(APP, { groups: FIXTURE_GROUPS });
  cdkApp = createApp();
  stacks = buildGatehouse(cdkApp, { app: APP, groups, handlerEntries: HANDLER_ENTRIES });
  const assembly = cdkApp.synth();
  const template = (stack: Stack) => Template.fromJSON(assembly.getStackByName(stack.stackName).template as Record<string, unknown>);
  api = template(stacks.api);
  network = template(stacks.network);
});

const functionOf = (name: string) => props(resourcesOf(api, 'AWS::Lambda::Function')[idOf(stacks.api.handlers[name]!.fn)]!);
const grantsOfGroup = (name: string) => grantsOf(statementsOfRole(api, idOf(stacks.api.handlers[name]!.role)));

describe('a handler group gets exactly what it declares', () => {
  it("network: 'internet' runs the function outside the VPC, with no ENI permissions", () => {
    expect(functionOf('exports').VpcConfig).toBeUndefined();
    expect(grantsOfGroup('exports').filter((g) => g.action.startsWith('ec2:'))).toEqual([]);
    expect(functionOf('archive').VpcConfig).toBeDefined();
  });

  it('statements become role statements, ARNs with ${AWS::…} variables as Fn::Sub', () => {
    const exportsGrants = grantsOfGroup('exports');
    expect(exportsGrants.filter((g) => g.action.startsWith('s3:'))).toEqual([
      { action: 's3:GetObject', resource: json({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::exports-${AWS::AccountId}-${AWS::Region}/template.csv' }) },
    ]);
    expect(grantsOfGroup('archive').filter((g) => g.action.startsWith('s3:'))).toEqual([
      { action: 's3:PutObject', resource: json({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::archive-${AWS::AccountId}/events.jsonl' }) },
    ]);
  });

  it('table access only where declared, and nothing else beyond logs, ENIs and X-Ray', () => {
    const exportsGrants = grantsOfGroup('exports');
    expect(exportsGrants.filter((g) => g.action.startsWith('dynamodb:')).map((g) => g.action)).toEqual(['dynamodb:GetItem']);
    expect(exportsGrants.some((g) => g.resource.includes(`/index/${GSI1.name}`))).toBe(false);
    for (const name of ['exports', 'archive']) {
      const grants = grantsOfGroup(name);
      expect(grants.filter((g) => g.action.startsWith('secretsmanager:')), name).toEqual([]);
      const expectedPrefixes = name === 'exports' ? /^(dynamodb|s3|logs|xray):/ : /^(s3|logs|xray|ec2):/;
      for (const g of grants) expect(g.action, name).toMatch(expectedPrefixes);
    }
    expect(grantsOfGroup('archive').filter((g) => g.action.startsWith('dynamodb:'))).toEqual([]);
  });

  it("endpoints: ['s3'] gives the network an S3 gateway endpoint (this account's buckets only) and the functions an egress rule to it", () => {
    const endpoints = Object.values(resourcesOf(network, 'AWS::EC2::VPCEndpoint')).map(props);
    const s3 = endpoints.filter((e) => json(e.ServiceName).includes('.s3"'));
    expect(s3).toHaveLength(1);
    expect(s3[0]!.VpcEndpointType).toBe('Gateway');
    expect(json(s3[0]!.PolicyDocument)).toContain('aws:ResourceAccount');
    expect(json(s3[0]!.PolicyDocument)).toContain('aws:PrincipalAccount');
    // The base set (DynamoDB, Secrets Manager, X-Ray; no Logs since issue 13) plus S3; no interface endpoint for S3.
    expect(endpoints).toHaveLength(4);
    const egress = Object.values(resourcesOf(network, 'AWS::EC2::SecurityGroupEgress')).map(props);
    expect(egress).toHaveLength(3);
    for (const rule of egress) expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
    expect(Object.keys(resourcesOf(network, 'Custom::AWS'))).toHaveLength(2);
  });

  it('is cdk-nag clean without further acknowledgements', () => {
    const report = new AwsSolutionsChecks().validateScope(cdkApp);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });
});

describe('declarations CDK cannot honour fail synthesis', () => {
  it('a group calling a service its network has no endpoint for', async () => {
    const groups = await loadAppGroups(APP, { groups: FIXTURE_GROUPS });
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Team');
    const net = new GatehouseNetwork(stack, 'Network');
    const data = new GatehouseData(stack, 'Data', { network: net.functionNetwork, api: API });
    const identity = new GatehouseIdentity(stack, 'Identity', { table: data.table, api: API });
    expect(() => new GatehouseApi(stack, 'Api', { app: APP, groups, network: net.functionNetwork, data, identity, handlerEntries: HANDLER_ENTRIES })).toThrow(
      /Handler group archive calls s3, which the network has no endpoint for/,
    );
  });

  it('a statement ARN with a variable Fn::Sub would leave unresolved', () => {
    expect(() => statementResource('arn:aws:s3:::${AWS::StackName}-bucket/x', 'Handler group x')).toThrow(/only \$\{AWS::Partition\}, \$\{AWS::Region\} and \$\{AWS::AccountId\}/);
    expect(() => statementResource('arn:aws:s3:::${bucket', 'Handler group x')).toThrow(/unclosed/);
    expect(statementResource('arn:aws:s3:::plain/key', 'Handler group x')).toBe('arn:aws:s3:::plain/key');
  });

  it('table or pepper access for something that is not a Gatehouse handler group', () => {
    expect(() => accessStatements({ table: ['GetItem'] }, 'Target t')).toThrow(/only Gatehouse handler groups are granted the Gatehouse table and pepper/);
  });

  it('a route naming a group that was not loaded', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Team');
    const net = new GatehouseNetwork(stack, 'Network', { endpoints: ['s3'] });
    const data = new GatehouseData(stack, 'Data', { network: net.functionNetwork, api: API });
    const identity = new GatehouseIdentity(stack, 'Identity', { table: data.table, api: API });
    expect(() => new GatehouseApi(stack, 'Api', { app: APP, groups: new Map(), network: net.functionNetwork, data, identity })).toThrow(
      /Route GET \/health names handler group health, which is not loaded/,
    );
  });
});
