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
  // A literal `process.env.GATEHOUSE_API_DEFINITION` member expression: esbuild's define replaces exactly this text,
  // and written in the condition itself, the minifier folds it, so a deployed bundle drops the other branch and with
  // it Gatehouse's own table (routes.ts: its check at import costs a cold start milliseconds for nothing).
  cached = process.env.GATEHOUSE_API_DEFINITION ? defineApi(decodeApiDefinition(process.env.GATEHOUSE_API_DEFINITION)) : GATEHOUSE_API;
  return cached;
}
