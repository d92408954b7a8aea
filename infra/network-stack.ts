/**
 * <prefix>Network: the isolated VPC the Gatehouse functions run in (GatehouseNetwork: no NAT, no route out,
 * endpoints for exactly what the functions call, flow logs).
 *
 * The construct's id is `Default`, which CDK leaves out of logical ids: the resources keep the logical ids they had
 * when they were created directly in this stack, so a deployed network is updated in place, never replaced.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { InterfaceVpcEndpoint, ISecurityGroup, IVpc, SecurityGroup } from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { GatehouseConfig } from './config.js';
import { GatehouseNetwork } from './constructs/network.js';
import type { FunctionNetwork } from './function.js';

export { BASE_INTERFACE_ENDPOINTS, GATEWAY_ENDPOINTS, requiredEndpoints } from './endpoints.js';

export interface NetworkStackProps extends StackProps {
  readonly config: GatehouseConfig;
  /** Services the deployed groups call besides the base set (requiredEndpoints). */
  readonly endpoints?: readonly string[];
}

export class NetworkStack extends Stack {
  readonly network: GatehouseNetwork;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    this.network = new GatehouseNetwork(this, 'Default', { config: props.config, endpoints: props.endpoints ?? [] });
  }

  get vpc(): IVpc {
    return this.network.vpc;
  }

  get functionSecurityGroup(): ISecurityGroup {
    return this.network.functionSecurityGroup;
  }

  get endpointSecurityGroup(): SecurityGroup {
    return this.network.endpointSecurityGroup!;
  }

  get endpoints(): Readonly<Record<string, InterfaceVpcEndpoint>> {
    return this.network.interfaceEndpoints;
  }

  get functionNetwork(): FunctionNetwork {
    return this.network.functionNetwork;
  }
}
