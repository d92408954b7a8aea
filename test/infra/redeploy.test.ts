/**
 * Issue 13, "Deploy it again and again" and "Choose what you pay", asserted on the synthesised templates:
 * - retained resources are RetainExceptOnCreate and none has a fixed physical name (a redeploy after
 *   `cdk destroy --all` must not meet "already exists");
 * - two deployments (two stack prefixes) in one account and region share no account- or region-unique name;
 * - cross-stack references are strong (Export / Fn::ImportValue), never Fn::GetStackOutput;
 * - subnets are placed in Availability Zones chosen on purpose (context, or a table of supported AZ IDs), not at
 *   positions of Fn::GetAZs that may be an AZ Lambda or an endpoint does not support;
 * - the dev and prod profiles, no CloudWatch Logs endpoint, per-method API metrics only when asked for.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/core/errors.js';
import { DEFAULT_AZ_IDS } from '../../infra/constructs/network.js';
import { buildDefault, createApp, resourcesOf, STACK_KEYS, synthGatehouse, type StackKey, type SynthResult } from './synth.js';
import { json, props, type Props } from './template.js';

process.env.CDK_VALIDATION = 'false';

let synth: SynthResult;
let t: Record<StackKey, Template>;

beforeAll(() => {
  synth = synthGatehouse();
  t = synth.templates;
});

type Resources = Record<string, { Type: string; Properties?: Props; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
const resources = (template: Template): Resources => (template.toJSON() as { Resources: Resources }).Resources;

/**
 * Properties that name a resource in a namespace wider than its own stack (account or region), by type. A name here
 * that is the same for two deployments, or for the deployment before and after a teardown that retained the
 * resource, makes the second create fail with "already exists".
 */
const UNIQUE_NAME_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::Cognito::UserPoolDomain': ['Domain'],
  'AWS::WAFv2::WebACL': ['Name'],
  'AWS::WAFv2::RegexPatternSet': ['Name'],
  'AWS::CloudWatch::Dashboard': ['DashboardName'],
  'AWS::CloudWatch::Alarm': ['AlarmName'],
  'AWS::SNS::Topic': ['TopicName'],
  'AWS::SQS::Queue': ['QueueName'],
  'AWS::DynamoDB::Table': ['TableName'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::IAM::Role': ['RoleName'],
  'AWS::Lambda::Function': ['FunctionName'],
  'AWS::Events::Rule': ['Name'],
  'AWS::KMS::Alias': ['AliasName'],
  'AWS::EC2::SecurityGroup': ['GroupName'],
  'AWS::Cognito::UserPool': ['UserPoolName'],
};

/** Pseudo parameters whose value is the same for every deployment in one account and region. */
const STABLE_PSEUDO = new Set(['AWS::AccountId', 'AWS::Region', 'AWS::Partition', 'AWS::URLSuffix', 'AWS::StackName']);

/**
 * A name is fixed when nothing in it changes from one creation to the next: literals, the account, the region, the
 * stack name. A Ref or GetAtt of a resource (or AWS::StackId) makes it different for every creation.
 */
function isFixed(value: unknown): boolean {
  if (typeof value === 'string' || typeof value === 'number') return true;
  if (Array.isArray(value)) return value.every(isFixed);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    for (const [key, inner] of entries) {
      if (key === 'Ref') return typeof inner === 'string' && STABLE_PSEUDO.has(inner);
      if (key === 'Fn::GetAtt' || key === 'Fn::ImportValue') return false;
    }
    return entries.every(([, inner]) => isFixed(inner));
  }
  return true;
}

function namedResources(template: Template): { id: string; type: string; property: string; value: unknown; deletionPolicy?: string }[] {
  const out: { id: string; type: string; property: string; value: unknown; deletionPolicy?: string }[] = [];
  for (const [id, resource] of Object.entries(resources(template))) {
    for (const property of UNIQUE_NAME_PROPERTIES[resource.Type] ?? []) {
      const value = resource.Properties?.[property];
      if (value !== undefined) out.push({ id, type: resource.Type, property, value, deletionPolicy: resource.DeletionPolicy });
    }
  }
  return out;
}

describe('redeploy after cdk destroy --all', () => {
  it('retains only with RetainExceptOnCreate (a failed first create leaves no orphans), and retains the data', () => {
    const retained: string[] = [];
    for (const key of STACK_KEYS) {
      for (const [id, r] of Object.entries(resources(t[key]))) {
        expect(r.DeletionPolicy, `${key}/${id}`).not.toBe('Retain');
        if (r.DeletionPolicy === 'RetainExceptOnCreate') {
          expect(r.UpdateReplacePolicy, `${key}/${id}`).toBe('Retain');
          retained.push(`${key}:${r.Type}`);
        }
      }
    }
    for (const kept of ['data:AWS::DynamoDB::Table', 'data:AWS::SecretsManager::Secret', 'identity:AWS::Cognito::UserPool', 'waf:AWS::Logs::LogGroup', 'api:AWS::Logs::LogGroup']) {
      expect(retained, kept).toContain(kept);
    }
    // Deletion protection stays on the data: a stack delete (or a replacement) never removes the table or the pool.
    expect(props(Object.values(resourcesOf(t.data, 'AWS::DynamoDB::Table'))[0]!).DeletionProtectionEnabled).toBe(true);
    expect(props(Object.values(resourcesOf(t.identity, 'AWS::Cognito::UserPool'))[0]!).DeletionProtection).toBe('ACTIVE');
  });

  it('gives no retained resource a fixed physical name (the WAF log group was aws-waf-logs-<stack>: "already exists" on redeploy)', () => {
    const fixed = STACK_KEYS.flatMap((key) =>
      namedResources(t[key])
        .filter((r) => r.deletionPolicy !== undefined && r.deletionPolicy !== 'Delete' && isFixed(r.value))
        .map((r) => `${key}/${r.id} ${r.property}=${json(r.value)}`),
    );
    expect(fixed).toEqual([]);
    // WAF still requires its prefix.
    const [waf] = namedResources(t.waf).filter((r) => r.type === 'AWS::Logs::LogGroup');
    expect(json(waf!.value)).toContain('aws-waf-logs-');
  });
});

describe('two deployments in one account and region', () => {
  it('share no account- or region-unique name (the Cognito domain prefix ignored stackPrefix)', () => {
    const other = synthGatehouse({ stackPrefix: 'Second' });
    const names = (s: SynthResult) =>
      new Map(STACK_KEYS.flatMap((key) => namedResources(s.templates[key]).filter((r) => isFixed(r.value)).map((r) => [`${r.type}.${r.property}=${json(r.value)}`, `${key}/${r.id}`])));
    const first = names(synth);
    const second = names(other);
    const shared = [...first.keys()].filter((name) => second.has(name));
    expect(shared).toEqual([]);
    // The default domain prefix is derived from the stack prefix (and still the account, unique per account).
    t.identity.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: { 'Fn::Join': ['', ['gatehouse-', { Ref: 'AWS::AccountId' }]] } });
    other.templates.identity.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: { 'Fn::Join': ['', ['second-', { Ref: 'AWS::AccountId' }]] } });
  });

  it('refuses a stack prefix whose default domain prefix would hold a word Cognito reserves, naming domainPrefix', () => {
    expect(() => buildDefault(createApp({ stackPrefix: 'AwsTeam' }))).toThrow(ConfigError);
    expect(() => buildDefault(createApp({ stackPrefix: 'AwsTeam' }))).toThrow(/Invalid configuration domainPrefix: .*awsteam-<account id>.*aws, amazon or cognito/);
    expect(() => buildDefault(createApp({ stackPrefix: 'AwsTeam', domainPrefix: 'team-login' }))).not.toThrow();
  });
});

describe('cross-stack references', () => {
  it('are strong: no Fn::GetStackOutput anywhere; every import names an export of an earlier stack, every export is imported', () => {
    const exports = new Map<string, StackKey>();
    const order = STACK_KEYS;
    for (const key of order) {
      expect(json(t[key].toJSON()), key).not.toContain('Fn::GetStackOutput');
      for (const output of Object.values((t[key].toJSON() as { Outputs?: Record<string, { Export?: { Name: string } }> }).Outputs ?? {})) {
        if (output.Export) exports.set(output.Export.Name, key);
      }
    }
    const imported = new Set<string>();
    for (const key of order) {
      const text = json(t[key].toJSON());
      for (const [, name] of text.matchAll(/"Fn::ImportValue":"([^"]+)"/g)) {
        const producer = exports.get(name!);
        expect(producer, `${key} imports ${name}`).toBeDefined();
        expect(order.indexOf(producer!), `${key} imports from ${producer}`).toBeLessThan(order.indexOf(key));
        imported.add(name!);
      }
    }
    expect([...exports.keys()].filter((name) => !imported.has(name))).toEqual([]);
    expect(exports.size).toBeGreaterThan(0);
  });

  it('refuses weak references in context, naming the flag', () => {
    expect(() => buildDefault(createApp({ '@aws-cdk/core:defaultCrossStackReferences': 'weak' }))).toThrow(
      /Invalid configuration @aws-cdk\/core:defaultCrossStackReferences: expected "strong" \(it is "weak"\)/,
    );
  });

  it('carries exactly the expected values from producer to consumer', () => {
    const importsOf = (key: StackKey) => [...json(t[key].toJSON()).matchAll(/"Fn::ImportValue":"([^":]+):([^"]+)"/g)].map(([, stack, name]) => `${stack}:${name}`);
    const from = (key: StackKey, producer: string) => new Set(importsOf(key).filter((i) => i.startsWith(`${producer}:`)).map((i) => i.replace(/[0-9A-F]{8}/g, '')));
    // Network → Data (bootstrap function) and Api (functions): the subnets and the functions' security group.
    for (const consumer of ['data', 'api'] as const) {
      const names = [...from(consumer, 'GatehouseNetwork')].join(' ');
      expect(names).toMatch(/isolatedSubnet1/);
      expect(names).toMatch(/isolatedSubnet2/);
      expect(names).toMatch(/FunctionSecurityGroup/);
    }
    // Data → Identity (mirror writes JWKS) and Api (table, pepper).
    expect([...from('identity', 'GatehouseData')].join(' ')).toMatch(/Table/);
    expect([...from('api', 'GatehouseData')].join(' ')).toMatch(/Table[\s\S]*Pepper|Pepper[\s\S]*Table/);
    // Identity → Api (pool and client ids); Waf → Api (the web ACL).
    expect([...from('api', 'GatehouseIdentity')].join(' ')).toMatch(/UserPool/);
    expect([...from('api', 'GatehouseWaf')].join(' ')).toMatch(/WebAcl/);
    // Nothing flows backwards.
    expect(from('network', 'GatehouseData').size + from('data', 'GatehouseApi').size + from('identity', 'GatehouseApi').size).toBe(0);
  });
});

describe('Availability Zones', () => {
  const subnets = (template: Template) => Object.values(resourcesOf(template, 'AWS::EC2::Subnet')).map(props);

  it('does not take positions of Fn::GetAZs where a table of supported AZ IDs exists (us-east-1: never use1-az3)', () => {
    expect(DEFAULT_AZ_IDS['us-east-1']).toBeDefined();
    expect(DEFAULT_AZ_IDS['us-east-1']).not.toContain('use1-az3');
    const placed = subnets(t.network);
    expect(placed).toHaveLength(2);
    const network = t.network.toJSON() as { Conditions?: Record<string, unknown>; Mappings?: Record<string, Record<string, Record<string, string>>> };
    const mapping = Object.values(network.Mappings ?? {}).find((m) => m['us-east-1'] !== undefined);
    expect(mapping, 'a mapping of default AZ IDs by region').toBeDefined();
    expect(Object.values(mapping!['us-east-1']!)).toEqual(DEFAULT_AZ_IDS['us-east-1']!.slice(0, Object.keys(mapping!['us-east-1']!).length));
    for (const subnet of placed) {
      // In a listed region the subnet is placed by AZ ID from the table, elsewhere by position.
      expect(json(subnet.AvailabilityZoneId)).toContain('Fn::FindInMap');
      expect(json(subnet.AvailabilityZone)).toContain('Fn::GetAZs');
      expect(json(subnet.AvailabilityZoneId)).toContain('Fn::If');
      expect(json(subnet.AvailabilityZone)).toContain('AWS::NoValue');
    }
    expect(json(network.Conditions)).toContain('us-east-1');
  });

  it('places the subnets in the AZ IDs the availabilityZones context key names, exactly', () => {
    const chosen = synthGatehouse({ availabilityZones: ['use1-az4', 'use1-az6', 'use1-az1'] });
    const placed = subnets(chosen.templates.network);
    expect(placed.map((s) => s.AvailabilityZoneId)).toEqual(['use1-az4', 'use1-az6', 'use1-az1']);
    for (const s of placed) expect(s.AvailabilityZone).toBeUndefined();
    // Every VPC function spans all of them.
    for (const fn of Object.values(resourcesOf(chosen.templates.api, 'AWS::Lambda::Function')).map(props)) {
      const vpc = fn.VpcConfig as { SubnetIds: unknown[] } | undefined;
      if (vpc) expect(vpc.SubnetIds).toHaveLength(3);
    }
  });

  it.each<[Record<string, unknown>, RegExp]>([
    [{ availabilityZones: ['us-east-1a', 'us-east-1b'] }, /Invalid configuration availabilityZones: expected .*Availability Zone IDs such as use1-az1/],
    [{ availabilityZones: ['use1-az1', 'use1-az1'] }, /Invalid configuration availabilityZones: .*distinct/],
    [{ availabilityZones: ['use1-az1', 'usw2-az1'] }, /Invalid configuration availabilityZones: .*one region/],
    [{ availabilityZones: ['use1-az1'] }, /Invalid configuration availabilityZones: .*at least 2 .*profile prod/],
    [{ profile: 'dev', availabilityZones: ['use1-az1', 'use1-az2'] }, /Invalid configuration availabilityZones: .*exactly 1 .*profile dev/],
    [{ profile: 'cheap' }, /Invalid configuration profile: expected dev .* or prod/],
  ])('refuses %j', (context, message) => {
    expect(() => buildDefault(createApp(context))).toThrow(ConfigError);
    expect(() => buildDefault(createApp(context))).toThrow(message);
  });
});

describe('what an idle deployment pays for', () => {
  const interfaceEndpoints = (template: Template) =>
    Object.values(resourcesOf(template, 'AWS::EC2::VPCEndpoint'))
      .map(props)
      .filter((e) => e.VpcEndpointType === 'Interface')
      .map((e) => json(e.ServiceName).match(/\.([a-z0-9.-]+)"\]\]\}$/)?.[1] ?? json(e.ServiceName));

  it('has no CloudWatch Logs interface endpoint (Lambda ships logs outside the VPC; nothing calls the Logs API)', () => {
    expect(interfaceEndpoints(t.network).some((e) => e.includes('logs'))).toBe(false);
  });

  it('prod (the default): two AZs, Secrets Manager and X-Ray endpoints', () => {
    expect(synth.stacks.config.infra.profile).toBe('prod');
    expect(Object.keys(resourcesOf(t.network, 'AWS::EC2::Subnet'))).toHaveLength(2);
    expect(interfaceEndpoints(t.network).sort()).toEqual(['secretsmanager', 'xray']);
  });

  it('dev: one AZ and the one interface endpoint the functions cannot run without (Secrets Manager)', () => {
    const dev = synthGatehouse({ profile: 'dev' });
    expect(Object.keys(resourcesOf(dev.templates.network, 'AWS::EC2::Subnet'))).toHaveLength(1);
    expect(interfaceEndpoints(dev.templates.network)).toEqual(['secretsmanager']);
    for (const fn of Object.values(resourcesOf(dev.templates.api, 'AWS::Lambda::Function')).map(props)) {
      const vpc = fn.VpcConfig as { SubnetIds: unknown[] } | undefined;
      if (vpc) expect(vpc.SubnetIds).toHaveLength(1);
    }
  });

  it('turns per-method detailed API metrics on only with detailedMetrics', () => {
    const stage = (template: Template) => props(Object.values(resourcesOf(template, 'AWS::ApiGateway::Stage'))[0]!);
    expect((stage(t.api).MethodSettings as Props[])[0]!.MetricsEnabled).toBe(false);
    const detailed = synthGatehouse({ detailedMetrics: true });
    expect((stage(detailed.templates.api).MethodSettings as Props[])[0]!.MetricsEnabled).toBe(true);
    expect(() => buildDefault(createApp({ detailedMetrics: 'sometimes' }))).toThrow(/Invalid configuration detailedMetrics: expected true or false/);
    // -c detailedMetrics=false arrives as text and means false.
    expect(buildDefault(createApp({ detailedMetrics: 'false' })).config.infra.detailedMetrics).toBe(false);
  });
});
