/**
 * How the Gatehouse functions' bundles differ from their sources. What they carry in their code rather than their
 * environment (esbuild `define`): the
 * deployment's API declaration (every Gatehouse function) and each handler group's bundle values (its `bundle` hook:
 * the OpenAPI document in the openapi function, the web assets in the console function). Part of the code version,
 * so a deploy that changes routes changes the functions, and no warm container keeps an old table.
 * The runtime reads exactly `process.env.<NAME>` (lambdas/deployment.ts, e.g. lambdas/api/openapi/operations.ts):
 * esbuild replaces that member expression.
 */
import { API_DEFINITION_ENV, encodeApiDefinition, type Api } from '../lambdas/core/api-definition.js';
import type { DeploymentValues } from '../lambdas/api/group.js';

/**
 * Modules replaced in every Gatehouse function's bundle (esbuild `alias`), by the entry (relative to the Gatehouse code
 * root, as function.ts resolves entries) that stands in for it: the SDK's default credential chain becomes the
 * environment credentials Lambda sets (lambdas/core/lambda-credentials.ts says why and what differs).
 */
export const LAMBDA_BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': 'lambdas/core/lambda-credentials',
};

/** Linux refuses a single command-line argument over 128 KiB; esbuild gets each define as one. */
const MAX_DEFINE_BYTES = 120 * 1024;

function define(name: string, encoded: string): Record<string, string> {
  const value = JSON.stringify(encoded);
  if (value.length > MAX_DEFINE_BYTES) throw new Error(`${name} is ${value.length} bytes encoded; at most ${MAX_DEFINE_BYTES} can be bundled`);
  return { [`process.env.${name}`]: value };
}

/** The define that bundles `api`'s declaration into a Gatehouse function. */
export function apiDefinitionDefine(api: Api): Record<string, string> {
  return define(API_DEFINITION_ENV, encodeApiDefinition(api.definition));
}

/** The defines that bundle a handler group's bundle values (lambdas/api/group.ts bundleValues) into its function. */
export function bundleValuesDefine(values: DeploymentValues): Record<string, string> {
  return Object.assign({}, ...Object.entries(values).map(([name, value]) => define(name, value))) as Record<string, string>;
}
