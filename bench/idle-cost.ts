/**
 * What a deployment costs a month with no traffic, per profile (cdk.json `profile`: dev, prod), counted from the
 * synthesised templates (bench/deployment.ts) rather than from a list kept by hand: interface endpoints per AZ, NAT
 * gateways, the web ACL and its rules, secrets, KMS keys, alarm metrics and dashboards, at the list prices of
 * prices.ts. What no template shows (the idle JWKS mirror's own runs and metrics) is stated separately.
 */
import { synthDeployment } from './deployment.js';
import { HOURS_PER_MONTH, PRICES } from './prices.js';

export interface IdleItem {
  readonly item: string;
  readonly count: number;
  readonly unit: string;
  readonly monthly: number;
}

export interface IdleCost {
  readonly profile: string;
  readonly items: readonly IdleItem[];
  readonly total: number;
}

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** The metrics an alarm is billed for: one for a single-metric or Metrics Insights alarm, one per metric of a math alarm. */
function alarmMetrics(alarm: Resource): number {
  const metrics = alarm.Properties?.Metrics as { MetricStat?: unknown }[] | undefined;
  if (!metrics) return 1;
  return Math.max(1, metrics.filter((m) => m.MetricStat !== undefined).length);
}

/** The idle JWKS mirror (every 5 minutes, Cognito only): its two custom metrics; its runs cost under $0.10 a month. */
const MIRROR_CUSTOM_METRICS = 2;

export function idleCostOf(profile: string, resources: readonly Resource[]): IdleCost {
  const ofType = (type: string) => resources.filter((r) => r.Type === type);
  const interfaceAzs = ofType('AWS::EC2::VPCEndpoint')
    .filter((r) => r.Properties?.VpcEndpointType === 'Interface')
    .reduce((n, r) => n + ((r.Properties?.SubnetIds as unknown[] | undefined)?.length ?? 0), 0);
  const webAcls = ofType('AWS::WAFv2::WebACL');
  const rules = webAcls.reduce((n, r) => n + ((r.Properties?.Rules as unknown[] | undefined)?.length ?? 0), 0);
  const alarmMetricCount = ofType('AWS::CloudWatch::Alarm').reduce((n, r) => n + alarmMetrics(r), 0);
  const monthly = (perHour: number) => perHour * HOURS_PER_MONTH;
  const items: IdleItem[] = [
    { item: 'interface VPC endpoints', count: interfaceAzs, unit: `endpoint-AZs × $${PRICES.interfaceEndpointPerAzHour}/hour`, monthly: interfaceAzs * monthly(PRICES.interfaceEndpointPerAzHour) },
    { item: 'NAT gateways', count: ofType('AWS::EC2::NatGateway').length, unit: `× $${PRICES.natGatewayPerHour}/hour`, monthly: ofType('AWS::EC2::NatGateway').length * monthly(PRICES.natGatewayPerHour) },
    { item: 'WAF web ACLs', count: webAcls.length, unit: `× $${PRICES.wafWebAclPerMonth}/month`, monthly: webAcls.length * PRICES.wafWebAclPerMonth },
    { item: 'WAF rules (managed groups, rate and label rules)', count: rules, unit: `× $${PRICES.wafRulePerMonth}/month`, monthly: rules * PRICES.wafRulePerMonth },
    { item: 'Secrets Manager secrets', count: ofType('AWS::SecretsManager::Secret').length, unit: `× $${PRICES.secretPerMonth}/month`, monthly: ofType('AWS::SecretsManager::Secret').length * PRICES.secretPerMonth },
    { item: 'KMS keys', count: ofType('AWS::KMS::Key').length, unit: `× $${PRICES.kmsKeyPerMonth}/month`, monthly: ofType('AWS::KMS::Key').length * PRICES.kmsKeyPerMonth },
    { item: 'CloudWatch alarm metrics', count: alarmMetricCount, unit: `× $${PRICES.alarmMetricPerMonth}/month`, monthly: alarmMetricCount * PRICES.alarmMetricPerMonth },
    { item: 'CloudWatch dashboards (the 3 free per account not deducted)', count: ofType('AWS::CloudWatch::Dashboard').length, unit: `× $${PRICES.dashboardPerMonth}/month`, monthly: ofType('AWS::CloudWatch::Dashboard').length * PRICES.dashboardPerMonth },
    { item: 'custom metrics of the idle JWKS mirror (not in a template)', count: MIRROR_CUSTOM_METRICS, unit: `× $${PRICES.customMetricPerMonth}/month`, monthly: MIRROR_CUSTOM_METRICS * PRICES.customMetricPerMonth },
  ];
  return { profile, items, total: items.reduce((n, i) => n + i.monthly, 0) };
}

/** Idle cost of each profile, from its synthesised templates. */
export async function runIdleCost(profiles: readonly string[] = ['dev', 'prod']): Promise<IdleCost[]> {
  const out: IdleCost[] = [];
  for (const profile of profiles) {
    const { templates } = await synthDeployment({ profile });
    const resources = templates.flatMap(({ template }) => Object.values((template.Resources ?? {}) as Record<string, Resource>));
    out.push(idleCostOf(profile, resources));
  }
  return out;
}
