/**
 * A handler group's (or Lambda target's) declared access as IAM statements on its function's role: exactly what it
 * declares (lambdas/api/group.ts HandlerAccess), nothing more. Table actions on the table ARN, index actions on the
 * one index's ARN (never `index/*`), the pepper by its ARN, and each further statement with its ARNs as written —
 * `${AWS::Partition}`, `${AWS::Region}` and `${AWS::AccountId}` substituted at deploy time by Fn::Sub.
 */
import { Fn } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { HandlerAccess, TableAction } from '../lambdas/api/group.js';
import { GSI1 } from '../lambdas/core/table.js';
import { indexArn } from './function.js';

/** The deploy-time variables a statement's resources may use. */
const SUBSTITUTIONS = new Set(['AWS::Partition', 'AWS::Region', 'AWS::AccountId']);

export const tableActions = (actions: readonly TableAction[]): string[] => actions.map((a) => `dynamodb:${a}`);

/** One resource ARN as the template needs it: plain text, or Fn::Sub when it uses the deploy-time variables. */
export function statementResource(resource: string, owner: string): string {
  const variables = [...resource.matchAll(/\$\{([^}]*)\}/g)].map(([, name]) => name!);
  if (variables.length === 0) {
    if (resource.includes('${')) throw new Error(`${owner}: resource ${resource} has an unclosed \${`);
    return resource;
  }
  const unknown = variables.filter((name) => !SUBSTITUTIONS.has(name));
  if (unknown.length > 0) {
    throw new Error(`${owner}: resource ${resource} uses \${${unknown.join('}, ${')}}; only \${AWS::Partition}, \${AWS::Region} and \${AWS::AccountId} are substituted`);
  }
  return Fn.sub(resource);
}

export interface AccessTargets {
  readonly table: ITable;
  readonly pepper: ISecret;
}

/**
 * The statements for `access`. `owner` names the group or target in errors. Table, index and pepper access need
 * `targets` (a team's Lambda target is never granted Gatehouse's table).
 */
export function accessStatements(access: HandlerAccess, owner: string, targets?: AccessTargets): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  if ((access.table?.length || access.index?.length || access.pepper) && !targets) {
    throw new Error(`${owner}: only Gatehouse handler groups are granted the Gatehouse table and pepper`);
  }
  if (targets) {
    if (access.table?.length) statements.push(new PolicyStatement({ actions: tableActions(access.table), resources: [targets.table.tableArn] }));
    if (access.index?.length) {
      statements.push(new PolicyStatement({ actions: tableActions(access.index), resources: [indexArn(targets.table.tableArn, GSI1.name)] }));
    }
    if (access.pepper) statements.push(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [targets.pepper.secretArn] }));
  }
  for (const statement of access.statements ?? []) {
    statements.push(new PolicyStatement({ actions: [...statement.actions], resources: statement.resources.map((r) => statementResource(r, owner)) }));
  }
  return statements;
}
