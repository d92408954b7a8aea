/**
 * Gateway cache mode in the synthesised app (issue 16): API Gateway's authorizer cache keyed on Authorization with
 * the configured TTL, the 401 that says where a credential goes, a new stage deployment when the mode changes, and
 * the configurations that would break the revocation window or anonymous callers refused at synth.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/core/errors.js';
import { GATEWAY_CACHE_UNAUTHORIZED_DETAIL } from '../../lambdas/core/gateway-cache.js';
import { GATEWAY_RESPONSES } from '../../lambdas/core/gateway-responses.js';
import { buildDefault, createApp, resourcesOf, synthGatehouse, type SynthResult } from './synth.js';
import { idOf, props } from './template.js';

process.env.CDK_VALIDATION = 'false';

let off: SynthResult;
let on: SynthResult;

beforeAll(() => {
  off = synthGatehouse();
  on = synthGatehouse({ gatewayCacheTtlSeconds: 2 });
}, 120_000);

const authorizerOf = (s: SynthResult) => props(Object.values(resourcesOf(s.templates.api, 'AWS::ApiGateway::Authorizer'))[0]!);
const detailOf = (s: SynthResult, type: string) => {
  const response = Object.values(resourcesOf(s.templates.api, 'AWS::ApiGateway::GatewayResponse')).map(props).find((r) => r.ResponseType === type)!;
  return (JSON.parse((response.ResponseTemplates as Record<string, string>)['application/json']!) as { detail: string }).detail;
};
const deploymentIds = (s: SynthResult) => Object.keys(resourcesOf(s.templates.api, 'AWS::ApiGateway::Deployment'));

describe('gateway cache mode (gatewayCacheTtlSeconds > 0)', () => {
  it('off by default: no identity source, TTL 0, the shared 401', () => {
    expect(authorizerOf(off).AuthorizerResultTtlInSeconds).toBe(0);
    expect(authorizerOf(off)).not.toHaveProperty('IdentitySource');
    expect(detailOf(off, 'UNAUTHORIZED')).toBe(GATEWAY_RESPONSES.find((r) => r.type === 'UNAUTHORIZED')!.detail);
  });

  it('on: API Gateway caches the authorizer’s answer for the TTL, keyed on the Authorization header alone', () => {
    expect(authorizerOf(on)).toMatchObject({ Type: 'REQUEST', AuthorizerResultTtlInSeconds: 2, IdentitySource: 'method.request.header.Authorization' });
  });

  it('on: every 401 says that credentials go in Authorization (X-API-Key alone is refused before the authorizer)', () => {
    expect(detailOf(on, 'UNAUTHORIZED')).toBe(GATEWAY_CACHE_UNAUTHORIZED_DETAIL);
    for (const def of GATEWAY_RESPONSES.filter((r) => r.type !== 'UNAUTHORIZED' && !r.variants)) expect(detailOf(on, def.type), def.type).toBe(def.detail); // variants (the plan-limit 429) are VTL, pinned in test/plans/infra.test.ts
  });

  it('a change of mode is a new deployment of the stage (otherwise the stage would keep the old authorizer settings)', () => {
    expect(deploymentIds(on)).toHaveLength(1);
    expect(deploymentIds(on)).not.toEqual(deploymentIds(off));
  });

  it('the authorizer function is the same in both modes: nothing in its code or environment depends on the mode', () => {
    const fnOf = (s: SynthResult) => props(resourcesOf(s.templates.api, 'AWS::Lambda::Function')[idOf(s.stacks.api.authorizerFunction.fn)]!);
    expect(fnOf(on).Environment).toEqual(fnOf(off).Environment);
  });
});

describe('gateway cache configurations refused at synth', () => {
  it.each<[Record<string, unknown>, RegExp]>([
    [{ gatewayCacheTtlSeconds: 3 }, /Invalid configuration gatewayCacheTtlSeconds: expected at most 2: .*revocation window \(revocationWindowSeconds 5\)/],
    [{ gatewayCacheTtlSeconds: 5, cacheTtlSeconds: 1 }, /Invalid configuration gatewayCacheTtlSeconds: expected at most 4/],
    [{ revocationWindowSeconds: 2 }, /Invalid configuration cacheTtlSeconds: expected at most 2/],
    [{ gatewayCacheTtlSeconds: 2, authMode: 'audit' }, /Invalid configuration gatewayCacheTtlSeconds: expected 0 while authMode is audit/],
    [{ gatewayCacheTtlSeconds: 301 }, /Invalid configuration gatewayCacheTtlSeconds: expected an integer from 0 \(off\) to 300/],
  ])('%j', (context, message) => {
    const build = () => buildDefault(createApp(context));
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(message);
  });
});
