/**
 * A handler group: one folder `lambdas/api/<name>/`, one Lambda function. Its `index.ts` exports `group` (this
 * description) and `handler` (the Lambda entry point). Everything the rest of Gatehouse needs to know about a
 * group is here, so adding one edits nothing else: CDK creates its function with exactly the access it declares,
 * the local stack serves it, and the OpenAPI document describes its operations.
 */
import type { Api } from '../core/api-definition.js';
import type { GroupDoc } from './http/schemas.js';
import type { LambdaHttpHandler, Services } from './services.js';

export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query';

/** An IAM statement a group's code needs beyond the table (an S3 bucket, an SQS queue …). */
export interface AccessStatement {
  readonly actions: readonly string[];
  /**
   * ARNs. `${AWS::Partition}`, `${AWS::Region}` and `${AWS::AccountId}` are substituted at deploy time
   * (CloudFormation Fn::Sub); for a resource the team's own stack creates, grant it to the function instead
   * (the construct exposes every handler function).
   */
  readonly resources: readonly string[];
}

/**
 * What a group's code does outside itself; CDK grants exactly this and nothing more.
 * - `table` / `index`: DynamoDB actions on the Gatehouse table and on its `gsi1` index.
 * - `pepper`: reads the pepper secret (hashing or checking API keys).
 * - `statements`: further IAM statements.
 * - `network`: `isolated` (default) runs in the VPC with no internet, reaching AWS only through its endpoints;
 *   `internet` runs outside the VPC with Lambda's own internet access (an outside HTTPS API).
 * - `endpoints`: AWS services an `isolated` group calls besides DynamoDB and Secrets Manager (e.g. `s3`, `sqs`):
 *   the network gains a gateway endpoint (S3, DynamoDB) or an interface endpoint for each.
 */
export interface HandlerAccess {
  readonly table?: readonly TableAction[];
  readonly index?: readonly TableAction[];
  readonly pepper?: boolean;
  readonly statements?: readonly AccessStatement[];
  readonly network?: 'isolated' | 'internet';
  readonly endpoints?: readonly string[];
}

/**
 * Values a deployment hands a group's code, by variable name (`GATEHOUSE_…`). In Lambda the code reads them as
 * `process.env.<NAME>`: CDK puts a {@link HandlerGroup.bundle} value into the bundle (esbuild `define` replaces that
 * member expression) and anything else it sets in the function's environment. The local stack has one process for
 * every group, so it passes them to {@link HandlerGroup.create} instead.
 */
export type DeploymentValues = Readonly<Record<string, string>>;

/** What a bundle hook may derive its values from: the deployment's whole API and every group that serves it. */
export interface BundleContext {
  readonly api: Api;
  readonly groups: ReadonlyMap<string, HandlerGroup>;
  /** The deployment's title (the app's: OpenAPI's `info.title`). */
  readonly title: string;
}

export interface HandlerGroup {
  /** The folder name, and the `handler` its routes name in the route table. */
  readonly name: string;
  /**
   * Builds the group's Lambda handler from the deployment's services (once per container). `values`: what the
   * local stack hands it (see {@link DeploymentValues}); absent in Lambda, where the code reads `process.env`.
   */
  readonly create: (services: Services, values?: DeploymentValues) => LambdaHttpHandler;
  /** How each of its operations (`METHOD /path`) is described in OpenAPI. */
  readonly docs: GroupDoc;
  readonly access: HandlerAccess;
  /**
   * Build-time content the group's code carries (a document derived from every group, static web assets), by
   * variable name. Called where every group is known — at synth, where CDK bundles each value into this group's
   * function only (esbuild `define`), and at `npm start`, which hands them to `create` — never in Lambda. Part of
   * the code version: a deploy that changes them changes the function.
   */
  readonly bundle?: (context: BundleContext) => DeploymentValues;
}

/** A bundle value's name: what the code reads as `process.env.<NAME>`. */
const BUNDLE_VALUE_NAME = /^GATEHOUSE_[A-Z0-9_]{1,64}$/;

/** The group's bundle values (none without a hook), checked: names a define can replace, string values. */
export function bundleValues(group: HandlerGroup, context: BundleContext): DeploymentValues {
  if (!group.bundle) return {};
  const values = group.bundle(context);
  for (const [name, value] of Object.entries(values)) {
    if (!BUNDLE_VALUE_NAME.test(name)) throw new Error(`Handler group ${group.name}: bundle value "${name}" must be named GATEHOUSE_ and upper-case letters, digits or _`);
    if (typeof value !== 'string') throw new Error(`Handler group ${group.name}: bundle value ${name} must be a string`);
  }
  return values;
}

const ENDPOINT_NAME = /^[a-z][a-z0-9.-]{1,40}$/;

/** Checks a group's description when its module loads: a mistake fails synth, `npm start` and every test. */
export function defineHandlerGroup(group: HandlerGroup): HandlerGroup {
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(group.name)) throw new Error(`Handler group "${group.name}": lower-case letters, digits and -, starting with a letter`);
  for (const endpoint of group.access.endpoints ?? []) {
    if (!ENDPOINT_NAME.test(endpoint)) throw new Error(`Handler group ${group.name}: endpoint "${endpoint}" is not an AWS service name such as s3 or sqs`);
  }
  if (group.access.network === 'internet' && (group.access.endpoints?.length ?? 0) > 0) {
    throw new Error(`Handler group ${group.name}: endpoints are for groups in the isolated VPC; an internet group reaches AWS directly`);
  }
  for (const statement of group.access.statements ?? []) {
    if (statement.actions.length === 0 || statement.resources.length === 0) throw new Error(`Handler group ${group.name}: a statement needs actions and resources`);
  }
  return group;
}
