/** Reading synthesised templates in tests: logical ids, IAM statements of a role, API Gateway resource paths. */
import { Stack, type CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { resourcesOf } from './synth.js';

export type Props = Record<string, unknown>;

export const logicalId = (element: unknown): string => Stack.of(element as CfnElement).getLogicalId(element as CfnElement);
/** The logical id of a construct's CloudFormation resource (its default child). */
export const idOf = (construct: IConstruct): string => logicalId(construct.node.defaultChild);
export const props = (r: { Properties?: Props }): Props => r.Properties ?? {};
export const json = (value: unknown): string => JSON.stringify(value) ?? '';

export interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** Every IAM statement of the policies attached to a role (by the role's logical id). */
export function statementsOfRole(template: Template, roleId: string): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => json(props(p).Roles).includes(`"${roleId}"`))
    .flatMap((p) => (props(p).PolicyDocument as { Statement: Statement[] }).Statement);
}

export const actionsOf = (statements: readonly Pick<Statement, 'Action'>[]): string[] => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

/** Statements as (action, resource) pairs: policy minimisation may merge statements over several resources. */
export const grantsOf = (statements: readonly Statement[]): { action: string; resource: string }[] =>
  statements.flatMap((s) =>
    actionsOf([s]).flatMap((action) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map((resource) => ({ action, resource: json(resource) }))),
  );

/** Path of each API Gateway resource, following ParentId up to the API's root. */
export function resourcePaths(template: Template): Map<string, string> {
  const resources = resourcesOf(template, 'AWS::ApiGateway::Resource');
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known) return known;
    const p = props(resources[id]!);
    const parent = p.ParentId as { Ref?: string };
    const path = `${parent.Ref ? pathOf(parent.Ref) : ''}/${String(p.PathPart)}`;
    paths.set(id, path);
    return path;
  };
  for (const id of Object.keys(resources)) pathOf(id);
  return paths;
}

/** The API's methods by `METHOD /path` (OPTIONS preflights left out). */
export function methodsByRoute(template: Template): Map<string, Props> {
  const paths = resourcePaths(template);
  const out = new Map<string, Props>();
  for (const method of Object.values(resourcesOf(template, 'AWS::ApiGateway::Method')).map(props)) {
    if (method.HttpMethod === 'OPTIONS') continue;
    const resource = method.ResourceId as { Ref?: string; 'Fn::GetAtt'?: unknown };
    out.set(`${String(method.HttpMethod)} ${resource.Ref ? paths.get(resource.Ref) : '/'}`, method);
  }
  return out;
}
