/**
 * A handler group: one folder `lambdas/api/<name>/`, one Lambda function. Its `index.ts` exports `group` (this
 * description) and `handler` (the Lambda entry point). Everything the rest of Gatehouse needs to know about a
 * group is here, so adding one edits nothing else: CDK creates its function with exactly the access it declares,
 * the local stack serves it, and the OpenAPI document describes its operations.
 */
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

export interface HandlerGroup {
  /** The folder name, and the `handler` its routes name in the route table. */
  readonly name: string;
  /** Builds the group's Lambda handler from the deployment's services (once per container). */
  readonly create: (services: Services) => LambdaHttpHandler;
  /** How each of its operations (`METHOD /path`) is described in OpenAPI. */
  readonly docs: GroupDoc;
  readonly access: HandlerAccess;
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
