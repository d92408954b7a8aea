/**
 * Every Gatehouse Lambda function is built here, the same way: NodejsFunction bundled by the local esbuild (never
 * Docker), minified ESM for nodejs24.x on ARM64, X-Ray active tracing, its own log group with a retention, and its
 * own role holding only what it is granted explicitly (no AWS managed policies: logging is scoped to its log group).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc } from 'aws-cdk-lib/aws-ec2';
import { SubnetType } from 'aws-cdk-lib/aws-ec2';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';

/** The repository root: entries, the lockfile and esbuild are resolved from here. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Description prefix of every function this app owns (tests tell them from CDK's own framework functions by it). */
export const FUNCTION_DESCRIPTION_PREFIX = 'Gatehouse';

/**
 * ESM bundles may contain CommonJS dependencies that call `require` for Node built-ins; give them one. The alias
 * avoids clashing with an `import { createRequire }` that esbuild may hoist into the bundle.
 */
const ESM_REQUIRE_BANNER = "import { createRequire as __gatehouseCreateRequire } from 'node:module'; const require = __gatehouseCreateRequire(import.meta.url);";

/** NodejsFunction falls back to Docker when it cannot find esbuild; refuse instead, with the fix. */
export function assertLocalEsbuild(): void {
  try {
    createRequire(join(REPO_ROOT, 'package.json')).resolve('esbuild');
  } catch {
    throw new Error('esbuild is not installed in this project: run `npm ci` (Gatehouse bundles with the local esbuild and never with Docker)');
  }
}

export interface FunctionNetwork {
  readonly vpc: IVpc;
  readonly securityGroup: ISecurityGroup;
}

export interface GatehouseFunctionProps {
  /** Entry file relative to the repository root, e.g. `lambdas/api/keys.ts` (it must export `handler`). */
  readonly entry: string;
  /** What the function is for; prefixed with "Gatehouse". */
  readonly description: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** The VPC's isolated subnets; absent only for the JWKS mirror, which must reach the internet. */
  readonly network?: FunctionNetwork;
  readonly memorySize?: number;
  readonly timeout?: Duration;
}

export class GatehouseFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: GatehouseFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${FUNCTION_DESCRIPTION_PREFIX} ${props.description}`,
    });
    // Instead of AWSLambdaBasicExecutionRole (logs:* on every log group): streams of this function's group only.
    this.role.addToPolicy(
      new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
    );
    if (props.network) {
      // Instead of AWSLambdaVPCAccessExecutionRole: the ENI actions Lambda needs to attach the function to the VPC.
      this.role.addToPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }
    acknowledge(this.role, 'AwsSolutions-IAM5[Resource::*]', props.network ? 'lambdaRoleWildcard' : 'xrayOnlyWildcard');

    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      description: `${FUNCTION_DESCRIPTION_PREFIX} ${props.description}`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      environment: { ...props.environment },
      ...(props.network
        ? {
            vpc: props.network.vpc,
            vpcSubnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
            securityGroups: [props.network.securityGroup],
            allowPublicSubnet: false,
          }
        : {}),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        // No source maps: with --enable-source-maps every Error (the authorizer throws one per refusal) pays a
        // source-map lookup, which is a cost an attacker could drive.
        sourceMap: false,
        // Bundle the AWS SDK too: the versions in package-lock.json are the ones the tests ran against.
        externalModules: [],
        forceDockerBundling: false,
        logLevel: LogLevel.ERROR,
      },
    });
  }
}

/** The ARN of one table index, e.g. `<table arn>/index/gsi1` (never `index/*`). */
export function indexArn(tableArn: string, indexName: string): string {
  return `${tableArn}/index/${indexName}`;
}
