/**
 * How a plan decision reaches API Gateway (docs/plans.md "Enforcement in AWS"): the REST API takes its API keys from
 * the authorizer (apiKeySource AUTHORIZER), every authorized method requires one, and ONE usage plan with no limits
 * holds ONE API key — the `open` usage key. The authorizer names it for an allowed request; for a request over its
 * plan it names the `limited` usage key, which is no API key at all, so API Gateway answers INVALID_API_KEY itself
 * (Gatehouse's gateway response makes that the 429, from the decision's context) and no integration runs.
 *
 * The keys are not credentials: a client cannot send one (the header is ignored with apiKeySource AUTHORIZER). Limits
 * live in the authorizer, not in usage plans, so neither API Gateway's 10,000 API keys per region nor its 300 usage
 * plans per region bound the number of keys or plans.
 */
import { ApiKey, RestApi, UsagePlan, type CfnRestApi, type IRestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';

export function addPlanSignals(scope: Construct, restApi: IRestApi, usageKeys: { readonly open: string }): UsagePlan {
  if (!(restApi instanceof RestApi)) {
    // An imported API cannot be changed here, and without apiKeySource AUTHORIZER every limited request would pass.
    throw new Error(
      'GatehouseApi: plans that limit anything need the REST API to take API keys from the authorizer (apiKeySource AUTHORIZER); pass a RestApi construct of this app as existingRestApi, not an imported one',
    );
  }
  (restApi.node.defaultChild as CfnRestApi).apiKeySourceType = 'AUTHORIZER';
  const key = new ApiKey(scope, 'PlanOpenKey', {
    description: 'Gatehouse plans: the usage key the authorizer names for requests within their plan (not a credential)',
    value: usageKeys.open,
    enabled: true,
  });
  const plan = new UsagePlan(scope, 'PlanOpenUsagePlan', {
    description: 'Gatehouse plans: requests within their credential plan (limits are enforced by the authorizer)',
    apiStages: [{ api: restApi, stage: restApi.deploymentStage }],
  });
  plan.addApiKey(key);
  return plan;
}
