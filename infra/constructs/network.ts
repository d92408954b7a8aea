/**
 * GatehouseNetwork: where the Gatehouse functions run. By default a new VPC of private isolated subnets only — no NAT
 * gateway, no internet gateway, no route out — so a function can reach nothing but the AWS services it is given
 * endpoints for:
 * - DynamoDB (always) and S3 (when a group declares `s3`) through gateway endpoints (free; a route in the subnets'
 *   route tables);
 * - Secrets Manager (the pepper, the admin key) and, in the prod profile, X-Ray (the functions run with active
 *   tracing, and the X-Ray daemon of a VPC-attached function sends its segments over the function's network) through
 *   interface endpoints with private DNS, plus one for every other service a deployed group or target declares in
 *   `endpoints` ({@link requiredEndpoints}). No CloudWatch Logs endpoint: Lambda ships stdout/stderr outside the VPC
 *   and no Gatehouse function calls the Logs API, so it would cost $7.30 a month per AZ for nothing.
 * Profiles (config `profile`): dev puts the VPC in one AZ without the X-Ray endpoint; prod in two or more AZs. The
 * subnets' AZs are chosen by ID (config `availabilityZones`, else {@link DEFAULT_AZ_IDS}), see placeSubnets.
 * The functions' security group allows only HTTPS egress, and only to those endpoints and the gateway services'
 * prefix lists. Endpoint policies admit this account's principals only (and, for the gateway endpoints, this
 * account's tables and buckets), so a leaked credential from elsewhere cannot use the endpoints to move data out.
 * A new VPC records all traffic in flow logs.
 *
 * With `existingVpc` the same endpoints and groups are created in that VPC (pass `createEndpoints: false` and
 * `existingSecurityGroup` when it already has them: two interface endpoints with private DNS for one service, or two
 * gateway routes to one service in one route table, do not deploy).
 */
import { Aws, CfnCondition, CfnMapping, Fn, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
  type FlowLog,
  type GatewayVpcEndpoint,
  type CfnSubnet,
  type InterfaceVpcEndpoint,
  type ISecurityGroup,
  type ISubnet,
  type IVpc,
  type SubnetSelection,
  type VpcProps,
} from 'aws-cdk-lib/aws-ec2';
import { AnyPrincipal, PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { retention, type DeploymentProfile, type GatehouseConfig } from '../config.js';
import { GATEWAY_ENDPOINTS, baseInterfaceEndpoints, interfaceEndpointId, type GatewayEndpointName } from '../endpoints.js';
import type { FunctionNetwork } from '../function.js';
import { acknowledge } from '../nag.js';
import { loggingOnlyRole } from '../provider.js';
import { defaultConfig } from './defaults.js';

/**
 * Availability Zone IDs a new VPC's subnets use, by region, when the configuration names none (`availabilityZones`):
 * the first one (dev) or two (prod) of the region's list. A region listed here has a zone that some of what Gatehouse
 * needs does not support, so a position of Fn::GetAZs could land in it: us-east-1's use1-az3 (constrained capacity,
 * and services and interface endpoints that are offered in the region's other zones are missing there). In every other region the subnets
 * take the first positions of Fn::GetAZs; name the zones with `availabilityZones` to choose them there too.
 */
export const DEFAULT_AZ_IDS: Readonly<Record<string, readonly string[]>> = {
  'us-east-1': ['use1-az1', 'use1-az2', 'use1-az4', 'use1-az5', 'use1-az6'],
};

const AZ_CONDITION_REASON =
  'AvailabilityZone and AvailabilityZoneId are each wrapped in Fn::If on one condition, one branch AWS::NoValue: ' +
  'CloudFormation resolves the condition first, so the subnet has exactly one of them.';

/** How many AZs a profile's VPC spans when no AZ IDs are given. */
export const PROFILE_AZ_COUNT: Readonly<Record<DeploymentProfile, number>> = { dev: 1, prod: 2 };

export interface GatehouseNetworkProps {
  /** @default gatehouseConfig() (every default); logRetentionDays, profile and availabilityZones are read here */
  readonly config?: GatehouseConfig;
  /**
   * A VPC of the team's: the functions go in its isolated subnets (or, if it has none, its private subnets with
   * egress). @default a new VPC (10.80.0.0/16, isolated subnets only, flow logs; AZs as the profile says)
   */
  readonly existingVpc?: IVpc;
  /**
   * dev: one AZ and only the Secrets Manager interface endpoint; prod: two or more AZs and the X-Ray endpoint too.
   * @default config.profile
   */
  readonly profile?: DeploymentProfile;
  /**
   * The new VPC's Availability Zones, by AZ ID (`use1-az1`): one subnet in each. @default config.availabilityZones,
   * else {@link DEFAULT_AZ_IDS} for the deployment's region where it lists one, else the first positions of Fn::GetAZs
   */
  readonly availabilityZones?: readonly string[];
  /** Overrides for the new VPC (not with existingVpc). @default see existingVpc */
  readonly vpcProps?: Partial<VpcProps>;
  /** Where the functions' network interfaces go. @default isolated subnets (private with egress if there are none) */
  readonly subnets?: SubnetSelection;
  /**
   * The functions' security group. Given, it is used as it is: nothing is added to it, and its rules must reach
   * DynamoDB, Secrets Manager and every declared endpoint. @default a new group: HTTPS to the endpoints only
   */
  readonly existingSecurityGroup?: ISecurityGroup;
  /**
   * More AWS services the functions call (endpoint names such as `s3`, `sqs`, `ssm`): usually
   * {@link requiredEndpoints} of the deployed groups and targets. `dynamodb` and `s3` get gateway endpoints, every
   * other name an interface endpoint `com.amazonaws.<region>.<name>`. @default none beyond the base set
   */
  readonly endpoints?: readonly string[];
  /**
   * Create the endpoints (and the security group rules to them). false: the VPC already has them; then
   * `existingSecurityGroup` is required. @default true
   */
  readonly createEndpoints?: boolean;
}

export class GatehouseNetwork extends Construct {
  readonly vpc: IVpc;
  /** The functions' security group (the existing one when given). */
  readonly functionSecurityGroup: ISecurityGroup;
  /** The interface endpoints' security group (absent when createEndpoints is false). */
  readonly endpointSecurityGroup?: SecurityGroup;
  /** Interface endpoints by construct id (SecretsManager, XRay in prod, then one per extra service name). */
  readonly interfaceEndpoints: Readonly<Record<string, InterfaceVpcEndpoint>>;
  /** Gateway endpoints by service name (dynamodb, s3). */
  readonly gatewayEndpoints: Readonly<Partial<Record<GatewayEndpointName, GatewayVpcEndpoint>>>;
  /** Flow logs of a new VPC. */
  readonly flowLog?: FlowLog;
  /** Every service name the network gives the functions a route to (when it created the endpoints). */
  readonly services?: ReadonlySet<string>;
  readonly subnets: SubnetSelection;

  constructor(scope: Construct, id: string, props: GatehouseNetworkProps = {}) {
    super(scope, id);
    const config = props.config ?? defaultConfig();
    const logRetention = retention(config.infra.logRetentionDays);
    const createEndpoints = props.createEndpoints ?? true;
    const profile = props.profile ?? config.infra.profile;
    const azIds = props.availabilityZones ?? config.infra.availabilityZones;
    if (props.existingVpc && props.vpcProps) throw new Error('GatehouseNetwork: pass existingVpc or vpcProps, not both');
    if (props.existingVpc && props.availabilityZones) throw new Error('GatehouseNetwork: availabilityZones places the subnets of a new VPC; an existing VPC keeps its own');
    if (!createEndpoints && !props.existingSecurityGroup) {
      throw new Error('GatehouseNetwork: without createEndpoints, pass existingSecurityGroup (its rules must reach the VPC\'s own endpoints)');
    }

    if (props.existingVpc) {
      this.vpc = props.existingVpc;
    } else {
      // The team's own vpcProps zones win; otherwise Gatehouse places the subnets (placeSubnets).
      const teamZones = props.vpcProps?.availabilityZones !== undefined || props.vpcProps?.maxAzs !== undefined;
      const vpc = new Vpc(this, 'Vpc', {
        ipAddresses: IpAddresses.cidr('10.80.0.0/16'),
        // With AZ IDs the names are placeholders: placeSubnets swaps each subnet's AvailabilityZone for the ID.
        ...(azIds ? { availabilityZones: [...azIds] } : { maxAzs: PROFILE_AZ_COUNT[profile] }),
        natGateways: 0,
        createInternetGateway: false,
        restrictDefaultSecurityGroup: true,
        subnetConfiguration: [{ name: 'isolated', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 20 }],
        ...props.vpcProps,
      });
      if (!teamZones) placeSubnets(this, vpc.isolatedSubnets, azIds);
      const flowLogs = new LogGroup(this, 'FlowLogs', { retention: logRetention, removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE });
      this.flowLog = vpc.addFlowLog('FlowLog', { destination: FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: FlowLogTrafficType.ALL });
      this.vpc = vpc;
    }
    this.subnets =
      props.subnets ?? { subnetType: this.vpc.isolatedSubnets.length > 0 ? SubnetType.PRIVATE_ISOLATED : SubnetType.PRIVATE_WITH_EGRESS };

    const interfaceEndpoints: Record<string, InterfaceVpcEndpoint> = {};
    const gatewayEndpoints: Partial<Record<GatewayEndpointName, GatewayVpcEndpoint>> = {};
    if (!createEndpoints) {
      this.functionSecurityGroup = props.existingSecurityGroup!;
      this.interfaceEndpoints = interfaceEndpoints;
      this.gatewayEndpoints = gatewayEndpoints;
      return;
    }

    const endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      allowAllOutbound: false,
      description: 'Gatehouse interface endpoints: HTTPS from the Gatehouse functions only',
    });
    this.endpointSecurityGroup = endpointSecurityGroup;
    let functionSecurityGroup: SecurityGroup | undefined;
    if (props.existingSecurityGroup) {
      this.functionSecurityGroup = props.existingSecurityGroup;
    } else {
      functionSecurityGroup = new SecurityGroup(this, 'FunctionSecurityGroup', {
        vpc: this.vpc,
        allowAllOutbound: false,
        description: 'Gatehouse functions: HTTPS egress to the VPC endpoints and DynamoDB only',
      });
      functionSecurityGroup.addEgressRule(endpointSecurityGroup, Port.tcp(443), 'HTTPS to the interface endpoints');
      this.functionSecurityGroup = functionSecurityGroup;
    }
    endpointSecurityGroup.addIngressRule(this.functionSecurityGroup, Port.tcp(443), 'HTTPS from the Gatehouse functions');

    const extra = [...new Set(props.endpoints ?? [])];
    const gatewayNames: GatewayEndpointName[] = ['dynamodb', ...(extra.includes('s3') ? (['s3'] as const) : [])];
    const services = new Set<string>(gatewayNames);

    // Gateway endpoints (DynamoDB always, S3 when declared), each with the egress rule to its prefix list.
    let lookup: { readonly role: Role; readonly logs: LogGroup } | undefined;
    const lookupResources = () => {
      if (!lookup) {
        const logs = new LogGroup(this, 'PrefixListLookupLogs', { retention: logRetention, removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE });
        lookup = { logs, role: loggingOnlyRole(this, 'PrefixListLookupRole', logs, 'Gatehouse gateway prefix-list lookup (deploy time)') };
      }
      return lookup;
    };
    for (const name of gatewayNames) {
      const def = GATEWAY_ENDPOINTS[name];
      const endpoint = this.vpc.addGatewayEndpoint(def.id, {
        service: name === 'dynamodb' ? GatewayVpcEndpointAwsService.DYNAMODB : GatewayVpcEndpointAwsService.S3,
        subnets: [this.subnets],
      });
      endpoint.addToPolicy(
        new PolicyStatement({
          principals: [new AnyPrincipal()],
          actions: [`${name}:*`],
          resources: name === 'dynamodb' ? [`arn:${Aws.PARTITION}:dynamodb:${Aws.REGION}:${Aws.ACCOUNT_ID}:table/*`] : ['*'],
          conditions: {
            StringEquals:
              // S3 ARNs carry no account: the resource's account is a condition key instead.
              name === 's3' ? { 'aws:PrincipalAccount': Aws.ACCOUNT_ID, 'aws:ResourceAccount': Aws.ACCOUNT_ID } : { 'aws:PrincipalAccount': Aws.ACCOUNT_ID },
          },
        }),
      );
      gatewayEndpoints[name] = endpoint;
      if (functionSecurityGroup) {
        // HTTPS to a gateway service goes to its public addresses, which AWS publishes as a managed prefix list.
        // Its id differs per region; a synth-time lookup would tie the template to one account and region, so it is
        // read at deploy time (one read-only EC2 call) and the egress rule names exactly that list.
        const { logs, role } = lookupResources();
        const prefixList = new AwsCustomResource(this, def.lookupId, {
          onUpdate: {
            service: 'EC2',
            action: 'describePrefixLists',
            parameters: { Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${Aws.REGION}.${name}`] }] },
            physicalResourceId: PhysicalResourceId.of(`${name}-prefix-list-${Aws.REGION}`),
            outputPaths: ['PrefixLists.0.PrefixListId'],
          },
          policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: AwsCustomResourcePolicy.ANY_RESOURCE }),
          installLatestAwsSdk: false,
          logGroup: logs,
          role,
        });
        acknowledge(prefixList, 'AwsSolutions-IAM5[Resource::*]', 'awsCustomResourceWildcard');
        functionSecurityGroup.addEgressRule(
          Peer.prefixList(prefixList.getResponseField('PrefixLists.0.PrefixListId')),
          Port.tcp(443),
          `HTTPS to ${def.title} through the gateway endpoint`,
        );
      }
    }

    const base = baseInterfaceEndpoints(profile);
    const interfaces: [string, InterfaceVpcEndpointAwsService][] = [
      ...base.map(([endpointId, service]) => [endpointId, service] as [string, InterfaceVpcEndpointAwsService]),
      ...extra
        .filter((name) => !(name in GATEWAY_ENDPOINTS) && !base.some(([, , serviceName]) => serviceName === name))
        .map((name) => [interfaceEndpointId(name), new InterfaceVpcEndpointAwsService(name)] as [string, InterfaceVpcEndpointAwsService]),
    ];
    for (const [endpointId, service] of interfaces) {
      const endpoint = this.vpc.addInterfaceEndpoint(endpointId, {
        service,
        privateDnsEnabled: true,
        open: false,
        securityGroups: [endpointSecurityGroup],
        subnets: this.subnets,
      });
      endpoint.addToPolicy(
        new PolicyStatement({
          principals: [new AnyPrincipal()],
          actions: ['*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:PrincipalAccount': Aws.ACCOUNT_ID } },
        }),
      );
      interfaceEndpoints[endpointId] = endpoint;
    }
    for (const [, , serviceName] of base) services.add(serviceName);
    for (const name of extra) services.add(name);
    this.interfaceEndpoints = interfaceEndpoints;
    this.gatewayEndpoints = gatewayEndpoints;
    this.services = services;
  }

  /** What GatehouseFunction needs to run in this network. */
  get functionNetwork(): FunctionNetwork {
    return { vpc: this.vpc, securityGroup: this.functionSecurityGroup, subnets: this.subnets, ...(this.services ? { services: this.services } : {}) };
  }
}

/**
 * Puts each subnet in its Availability Zone by ID. Given IDs: exactly those, in order. Otherwise, in a region of
 * {@link DEFAULT_AZ_IDS}, that region's first IDs (a CloudFormation condition on AWS::Region and a mapping, so the
 * template stays environment-agnostic), and elsewhere the position of Fn::GetAZs CDK chose.
 */
function placeSubnets(scope: Construct, subnets: readonly ISubnet[], azIds: readonly string[] | undefined): void {
  const cfnSubnets = subnets.map((subnet) => subnet.node.defaultChild as CfnSubnet);
  if (azIds) {
    cfnSubnets.forEach((cfn, i) => {
      cfn.addPropertyDeletionOverride('AvailabilityZone');
      cfn.addPropertyOverride('AvailabilityZoneId', azIds[i]);
    });
    return;
  }
  const regions = Object.entries(DEFAULT_AZ_IDS).filter(([, ids]) => ids.length >= cfnSubnets.length);
  if (regions.length === 0) return;
  const mapping = new CfnMapping(scope, 'DefaultAzIds', {
    mapping: Object.fromEntries(regions.map(([region, ids]) => [region, Object.fromEntries(ids.slice(0, cfnSubnets.length).map((id, i) => [`az${i + 1}`, id]))])),
  });
  const equals = regions.map(([region]) => Fn.conditionEquals(Aws.REGION, region));
  const listed = new CfnCondition(scope, 'DefaultAzIdsListed', { expression: equals.length === 1 ? equals[0] : Fn.conditionOr(...equals) });
  cfnSubnets.forEach((cfn, i) => {
    const byPosition = cfn.availabilityZone;
    cfn.addPropertyOverride('AvailabilityZoneId', Fn.conditionIf(listed.logicalId, mapping.findInMap(Aws.REGION, `az${i + 1}`), Aws.NO_VALUE));
    cfn.addPropertyOverride('AvailabilityZone', Fn.conditionIf(listed.logicalId, Aws.NO_VALUE, byPosition));
    // CDK's schema check reads both properties as present; the condition leaves exactly one (cfn-lint agrees).
    Validations.of(cfn).acknowledge({ id: 'CloudFormation-Validate::F3020', reason: AZ_CONDITION_REASON });
  });
}
