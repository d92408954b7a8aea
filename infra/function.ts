/**
 * Every Gatehouse Lambda function is built here, the same way: NodejsFunction bundled by the local esbuild (never
 * Docker), minified ESM for nodejs24.x on ARM64, X-Ray active tracing, its own log group with a retention, and its
 * own role holding only what it is granted explicitly (no AWS managed policies: logging is scoped to its log group).
 *
 * Where the code comes from — the same construct serves two layouts:
 * - the repository: `infra/` beside `lambdas/`, entries are `lambdas/**\/*.ts`;
 * - the installed package (`gatehouse/cdk`): `dist/infra/` beside `dist/lambdas/`, entries are `dist/lambdas/**\/*.js`.
 * {@link GATEHOUSE_CODE_ROOT} is the folder above this file's (found from import.meta.url), so a relative entry such
 * as `lambdas/authorizer/handler` resolves to whichever of `.ts` / `.js` exists there.
 *
 * What esbuild bundles from — `projectRoot` and `depsLockFilePath`: NodejsFunction needs every entry inside one
 * project root that has the lockfile. By default it is the nearest folder, from the working directory up, that
 * holds a lockfile (package-lock.json, yarn.lock, pnpm-lock.yaml, bun.lock, bun.lockb) and contains the entry: the
 * repository root when `cdk synth` runs here, the team's project root (with gatehouse in its node_modules) when a
 * team's app runs. Failing that, the search starts again from the entry's folder. Pass both props to choose.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { SubnetType, type ISecurityGroup, type IVpc, type SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEPLOYMENT_ENV } from '../lambdas/core/metrics-catalog.js';
import { LAMBDA_BUNDLE_ALIASES } from './bundle.js';
import { acknowledge } from './nag.js';

/** The folder holding `lambdas/` and `infra/`: the repository root, or the installed package's `dist/`. */
export const GATEHOUSE_CODE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The repository root when running from the repository (tests read cdk.json from here). */
export const REPO_ROOT = GATEHOUSE_CODE_ROOT;

/** Description prefix of every function this app owns (tests tell them from CDK's own framework functions by it). */
export const FUNCTION_DESCRIPTION_PREFIX = 'Gatehouse';

/** Lockfiles NodejsFunction understands, in the order they are looked for. */
const LOCKFILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'bun.lockb'] as const;

/**
 * ESM bundles may contain CommonJS dependencies that call `require` for Node built-ins; give them one. The alias
 * avoids clashing with an `import { createRequire }` that esbuild may hoist into the bundle.
 */
const ESM_REQUIRE_BANNER = "import { createRequire as __gatehouseCreateRequire } from 'node:module'; const require = __gatehouseCreateRequire(import.meta.url);";

export interface ProjectRoot {
  readonly projectRoot: string;
  readonly depsLockFilePath: string;
}

/** The nearest folder from `start` up that holds a lockfile. */
export function findProjectRoot(start: string): ProjectRoot | undefined {
  let dir = resolve(start);
  for (;;) {
    for (const lockfile of LOCKFILES) {
      const path = join(dir, lockfile);
      if (existsSync(path)) return { projectRoot: dir, depsLockFilePath: path };
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const isInside = (file: string, dir: string) => {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

/** The project root an entry is bundled from by default (see the file comment). */
export function defaultProjectRoot(entry: string): ProjectRoot {
  for (const start of [process.cwd(), dirname(entry)]) {
    const found = findProjectRoot(start);
    if (found && isInside(entry, found.projectRoot)) return found;
  }
  throw new Error(`No lockfile (${LOCKFILES.join(', ')}) in a folder containing ${entry}: pass projectRoot and depsLockFilePath`);
}

/**
 * An entry file: absolute, or relative to {@link GATEHOUSE_CODE_ROOT}; with or without its extension, `.ts` in the
 * repository or `.js` in the package.
 */
export function resolveEntry(entry: string): string {
  const path = isAbsolute(entry) ? entry : join(GATEHOUSE_CODE_ROOT, entry);
  if (existsSync(path)) return path;
  const base = path.replace(/\.(ts|js|mjs)$/, '');
  for (const ext of ['.ts', '.js', '.mjs']) if (existsSync(base + ext)) return base + ext;
  throw new Error(`Lambda entry ${entry} does not exist (looked for ${base}.ts, .js and .mjs)`);
}

const esbuildChecked = new Set<string>();

/** NodejsFunction falls back to Docker when it cannot find esbuild; refuse instead, with the fix. */
export function assertLocalEsbuild(projectRoot: string = REPO_ROOT): void {
  if (esbuildChecked.has(projectRoot)) return;
  try {
    createRequire(join(projectRoot, 'package.json')).resolve('esbuild');
  } catch {
    throw new Error(`esbuild is not installed in ${projectRoot}: install it (npm i -D esbuild). Gatehouse bundles with the local esbuild and never with Docker`);
  }
  esbuildChecked.add(projectRoot);
}

export interface FunctionNetwork {
  readonly vpc: IVpc;
  readonly securityGroup: ISecurityGroup;
  /** Where the functions' network interfaces go. @default the VPC's isolated subnets */
  readonly subnets?: SubnetSelection;
  /**
   * The AWS services the network gives the functions a route to (endpoint names such as `s3`, `sqs`), when known:
   * a function that declares an endpoint the network lacks fails synthesis instead of timing out in production.
   * @default unknown: not checked
   */
  readonly services?: ReadonlySet<string>;
}

/** Where esbuild bundles from (see the file comment); every construct that creates functions takes it. */
export interface GatehouseBundling {
  /** The folder esbuild bundles from; must contain every entry. @default see {@link defaultProjectRoot} */
  readonly projectRoot?: string;
  /** The lockfile inside projectRoot. @default the lockfile found with projectRoot */
  readonly depsLockFilePath?: string;
}

/**
 * What happens to an asynchronous invocation (a schedule, a log subscription) the function fails: Lambda retries it
 * `retryAttempts` times while it is younger than `maxEventAge`, then hands it to the dead-letter queue, both as the
 * event itself (DeadLetterConfig: what to replay) and as an invocation record with the error (on-failure destination:
 * why it failed). Nothing is dropped silently.
 */
export interface AsyncInvokeSettings {
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
  readonly deadLetterQueue: IQueue;
}

export interface GatehouseFunctionProps extends GatehouseBundling {
  /**
   * The entry file (it exports the handler): absolute, or relative to the Gatehouse code root, e.g.
   * `lambdas/authorizer/handler` (→ `.ts` in the repository, `.js` in the installed package).
   */
  readonly entry: string;
  /** The exported handler's name. @default 'handler' */
  readonly handler?: string;
  /** What the function is for; prefixed with "Gatehouse". */
  readonly description: string;
  readonly environment: Readonly<Record<string, string>>;
  /**
   * The deployment's name (the stack prefix): set as GATEHOUSE_DEPLOYMENT, the `deployment` dimension of every
   * metric the function emits (lambdas/core/metrics-catalog.ts). @default not set
   */
  readonly deployment?: string;
  /** Retries and dead-letter queue of asynchronous invocations. @default Lambda's (2 retries, 6 hours, then dropped) */
  readonly asyncInvoke?: AsyncInvokeSettings;
  readonly logRetention: RetentionDays;
  /** The VPC's subnets and security group; absent, the function runs outside any VPC (internet access). */
  readonly network?: FunctionNetwork;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  /**
   * esbuild `define`: identifier → JavaScript expression text, e.g.
   * `{ 'process.env.GATEHOUSE_API_DEFINITION': JSON.stringify(encoded) }` (part of the code, not the environment).
   * @default none
   */
  readonly define?: Readonly<Record<string, string>>;
  /**
   * Bundle the SDK's whole default credential chain instead of the environment credentials Lambda sets
   * ({@link LAMBDA_BUNDLE_ALIASES}: about 130 KB less per bundle). @default false (a team's Lambda target: true, its
   * code may rely on the chain)
   */
  readonly sdkCredentialChain?: boolean;
}

/** esbuild `alias` for a Gatehouse function: each replaced module → the absolute file that stands in for it. */
export function lambdaBundleAliases(): Record<string, string> {
  return Object.fromEntries(Object.entries(LAMBDA_BUNDLE_ALIASES).map(([module, entry]) => [module, resolveEntry(entry)]));
}

export class GatehouseFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  /** The absolute entry file bundled. */
  readonly entry: string;
  /** The esbuild `define` the bundle is built with. */
  readonly define: Readonly<Record<string, string>>;
  /** The esbuild `alias` the bundle is built with (module → absolute file). */
  readonly alias: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: GatehouseFunctionProps) {
    super(scope, id);
    this.entry = resolveEntry(props.entry);
    this.define = { ...props.define };
    this.alias = props.sdkCredentialChain === true ? {} : lambdaBundleAliases();
    const found = props.projectRoot ? undefined : defaultProjectRoot(this.entry);
    const projectRoot = props.projectRoot ?? found!.projectRoot;
    const depsLockFilePath = props.depsLockFilePath ?? found?.depsLockFilePath ?? findProjectRoot(projectRoot)?.depsLockFilePath;
    if (!depsLockFilePath) throw new Error(`No lockfile in ${projectRoot}: pass depsLockFilePath`);
    if (Stack.of(this).bundlingRequired) assertLocalEsbuild(projectRoot);

    // Kept when the stack is deleted or the group replaced; deleted when the create that made it fails (no orphan).
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE });
    // Lambda allows descriptions of at most 256 characters (a group's list of routes can be longer).
    const description = truncate(`${FUNCTION_DESCRIPTION_PREFIX} ${props.description}`, 256);
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description });
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
      entry: this.entry,
      handler: props.handler ?? 'handler',
      projectRoot,
      depsLockFilePath,
      description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      environment: { ...props.environment, ...(props.deployment !== undefined ? { [DEPLOYMENT_ENV]: props.deployment } : {}) },
      ...(props.asyncInvoke
        ? {
            retryAttempts: props.asyncInvoke.retryAttempts,
            maxEventAge: props.asyncInvoke.maxEventAge,
            deadLetterQueue: props.asyncInvoke.deadLetterQueue,
            onFailure: new SqsDestination(props.asyncInvoke.deadLetterQueue),
          }
        : {}),
      ...(props.network
        ? {
            vpc: props.network.vpc,
            vpcSubnets: props.network.subnets ?? { subnetType: SubnetType.PRIVATE_ISOLATED },
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
        // Bundle the AWS SDK too: the versions in the lockfile are the ones the tests ran against.
        externalModules: [],
        // Passed to esbuild as separate arguments, no shell: JSON string literals arrive as written.
        ...(Object.keys(this.define).length > 0 ? { define: { ...this.define } } : {}),
        // `--alias:<module>=<file>`, one per replaced module (bundle.ts LAMBDA_BUNDLE_ALIASES).
        ...(Object.keys(this.alias).length > 0 ? { esbuildArgs: { '--alias': Object.entries(this.alias).map(([module, file]) => `${module}=${file}`) } } : {}),
        forceDockerBundling: false,
        logLevel: LogLevel.ERROR,
      },
    });
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The ARN of one table index, e.g. `<table arn>/index/gsi1` (never `index/*`). */
export function indexArn(tableArn: string, indexName: string): string {
  return `${tableArn}/index/${indexName}`;
}
