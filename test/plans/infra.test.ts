/**
 * Plans in the synthesized app (docs/plans.md "Enforcement in AWS"): API keys from the authorizer, every token route
 * requiring one, one API key in one limitless usage plan on the stage, the authorizer told both usage keys, and the
 * INVALID_API_KEY gateway response as the 429. Without plans none of it exists.
 */
import { App, Stack } from 'aws-cdk-lib';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { beforeAll, describe, expect, it } from 'vitest';
import { addPlanSignals } from '../../infra/constructs/plan-signals.js';
import { usageKeysFor } from '../../lambdas/core/plans.js';
import { ROUTES } from '../../lambdas/routes.js';
import { methodsByRoute, props } from '../infra/template.js';
import { resourcesOf, synthGatehouse, type SynthResult } from '../infra/synth.js';

const PLANS = { plans: { free: { rate: 5, burst: 10, quota: { limit: 1000, period: 'day' } } }, defaultPlan: 'free' };

describe('a deployment whose plans limit something', () => {
  let synth: SynthResult;
  beforeAll(() => {
    synth = synthGatehouse({ plans: PLANS });
  });

  it('takes API keys from the authorizer and requires one on exactly the token routes', () => {
    const api = synth.templates.api;
    const restApis = Object.values(resourcesOf(api, 'AWS::ApiGateway::RestApi')).map(props);
    expect(restApis.map((r) => r.ApiKeySourceType)).toEqual(['AUTHORIZER']);
    const methods = methodsByRoute(api);
    for (const route of ROUTES) {
      expect(methods.get(`${route.method} ${route.path}`)?.ApiKeyRequired === true, `${route.method} ${route.path}`).toBe(route.auth === 'token');
    }
  });

  it('has one API key, in one usage plan without limits, on the stage; the authorizer knows it and the limited key is no API key', () => {
    const api = synth.templates.api;
    const keys = Object.values(resourcesOf(api, 'AWS::ApiGateway::ApiKey')).map(props);
    const plans = Object.values(resourcesOf(api, 'AWS::ApiGateway::UsagePlan')).map(props);
    expect(keys).toHaveLength(1);
    expect(plans).toHaveLength(1);
    expect(plans[0]!.Throttle).toBeUndefined();
    expect(plans[0]!.Quota).toBeUndefined();
    expect(plans[0]!.ApiStages).toHaveLength(1);
    expect(Object.keys(resourcesOf(api, 'AWS::ApiGateway::UsagePlanKey'))).toHaveLength(1);
    const authorizer = Object.values(resourcesOf(api, 'AWS::Lambda::Function'))
      .map(props)
      .find((f) => JSON.stringify(f.Environment).includes('GATEHOUSE_USAGE_KEYS'));
    const env = (authorizer!.Environment as { Variables: Record<string, string> }).Variables;
    const usageKeys = JSON.parse(env.GATEHOUSE_USAGE_KEYS!) as { open: string; limited: string };
    expect(keys[0]!.Value).toBe(usageKeys.open);
    expect(keys.map((k) => k.Value)).not.toContain(usageKeys.limited);
    expect(JSON.parse(env.GATEHOUSE_PLANS!)).toEqual(PLANS);
  });

  it('answers INVALID_API_KEY as the plan-limit 429, with Retry-After from the decision', () => {
    const responses = Object.values(resourcesOf(synth.templates.api, 'AWS::ApiGateway::GatewayResponse')).map(props);
    const limited = responses.find((r) => r.ResponseType === 'INVALID_API_KEY')!;
    expect(limited.StatusCode).toBe('429');
    expect((limited.ResponseParameters as Record<string, string>)['gatewayresponse.header.Retry-After']).toBe('context.authorizer.retryAfter');
    const template = (limited.ResponseTemplates as Record<string, string>)['application/json']!;
    expect(template).toMatch(/^#if\(\$context\.authorizer\.limit == "quota"\)\{.*"code":"QUOTA_EXCEEDED".*\}#else\{.*"code":"RATE_LIMITED".*\}#end$/);
  });

  it('the usage key is the same on every synth of the same deployment (a redeploy keeps it)', () => {
    const again = synthGatehouse({ plans: PLANS });
    const value = (s: SynthResult) => Object.values(resourcesOf(s.templates.api, 'AWS::ApiGateway::ApiKey')).map(props)[0]!.Value;
    expect(value(again)).toBe(value(synth));
  });
});

describe("plans and API Gateway's authorizer cache", () => {
  it('are refused together, at synth and at npm start, naming the setting: cached requests would never be counted', async () => {
    expect(() => synthGatehouse({ plans: PLANS, gatewayCacheTtlSeconds: 2 })).toThrow(/gatewayCacheTtlSeconds.*plans/s);
    const { startLocalStack } = await import('../../local/stack.js');
    await expect(startLocalStack({ port: 0, env: { GATEHOUSE_PLANS: JSON.stringify(PLANS), GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: '2' }, logLevel: 'SILENT' })).rejects.toThrow(
      /GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS/,
    );
  });
});

describe('without plans that limit anything', () => {
  it('adds no API key, no usage plan and no requirement', () => {
    const api = synthGatehouse().templates.api;
    expect(Object.keys(resourcesOf(api, 'AWS::ApiGateway::ApiKey'))).toHaveLength(0);
    expect(Object.keys(resourcesOf(api, 'AWS::ApiGateway::UsagePlan'))).toHaveLength(0);
    expect([...methodsByRoute(api).values()].some((m) => m.ApiKeyRequired === true)).toBe(false);
  });

  it('refuses plans on an imported REST API, whose key source it cannot set', () => {
    const stack = new Stack(new App(), 'S');
    const imported = RestApi.fromRestApiAttributes(stack, 'Imported', { restApiId: 'abc', rootResourceId: 'root' });
    expect(() => addPlanSignals(stack, imported, usageKeysFor('s'))).toThrow(/apiKeySource AUTHORIZER/);
  });
});
