/**
 * The public prices the cost model (§6) and the bookkeeping figures (§5) use: us-east-1 list prices as AWS published
 * them in 2025, not re-checked against the live pricing pages (this machine cannot reach them). Free tiers and volume
 * discounts beyond the first tier are not counted. One place, so every figure in BENCHMARKS.md uses the same ones.
 */
export const PRICE_SOURCE = 'us-east-1 list prices as published in 2025 (first tier, no free tier), not re-checked live';

export const PRICES = {
  /** API Gateway REST API, per million requests (first 333 million a month). */
  apiGatewayRestPerMillion: 3.5,
  /** Lambda, per million requests. */
  lambdaPerMillionRequests: 0.2,
  /** Lambda duration per GB-second, x86 and Arm (Gatehouse's functions run on Arm: infra/function.ts). */
  lambdaPerGbSecondX86: 0.0000166667,
  lambdaPerGbSecondArm: 0.0000133334,
  /** DynamoDB on-demand, per million read / write request units. */
  dynamoPerMillionReadUnits: 0.125,
  dynamoPerMillionWriteUnits: 0.625,
  /** CloudWatch Logs ingestion (standard class), per GB. */
  logsIngestionPerGb: 0.5,
  /** WAF: per web ACL-month, per rule-month, per million requests inspected. */
  wafWebAclPerMonth: 5,
  wafRulePerMonth: 1,
  wafPerMillionRequests: 0.6,
  /** Secrets Manager, per secret-month. */
  secretPerMonth: 0.4,
  /** KMS, per customer-managed key-month. */
  kmsKeyPerMonth: 1,
  /** Interface VPC endpoint, per endpoint per AZ-hour; NAT gateway per hour (Gatehouse creates none). */
  interfaceEndpointPerAzHour: 0.01,
  natGatewayPerHour: 0.045,
  /** CloudWatch: per alarm metric-month (standard resolution), per dashboard-month, per custom metric-month. */
  alarmMetricPerMonth: 0.1,
  dashboardPerMonth: 3,
  customMetricPerMonth: 0.3,
} as const;

export const HOURS_PER_MONTH = 730;
