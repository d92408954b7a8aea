/**
 * The API this deployment serves. In AWS, CDK bundles the deployment's declaration into every Gatehouse function
 * (see API_DEFINITION_ENV): a team's own routes and scopes, Gatehouse's routes under their base path. Without one
 * (tests, the local stack, which pass their Api in) it is Gatehouse's own declaration.
 */
import { decodeApiDefinition, defineApi, type Api } from './core/api-definition.js';
import { GATEHOUSE_API } from './routes.js';

let cached: Api | undefined;

export function deploymentApi(): Api {
  if (cached) return cached;
  // A literal `process.env.GATEHOUSE_API_DEFINITION` member expression: esbuild's define replaces exactly this text.
  const encoded = process.env.GATEHOUSE_API_DEFINITION;
  cached = encoded ? defineApi(decodeApiDefinition(encoded)) : GATEHOUSE_API;
  return cached;
}
