/**
 * What plans add to an allowed decision (docs/plans.md): the same cached API-key decision with no plan and with a
 * plan that has a monthly quota, interleaved in one run; and the store calls per request, counted at the dynalite
 * server. Part `plans` of `npm run bench` (BENCHMARKS.md §7); `npx tsx bench/plans.ts [--quick]` runs it alone.
 */
import { createAuthorizer } from '../lambdas/authorizer/authorizer.js';
import { buildAuthorizerDeps, readAuthorizerSettings } from '../lambdas/authorizer/wiring.js';
import { issueKey } from '../lambdas/core/key-issuer.js';
import { DynamoKeyStore } from '../lambdas/core/key-store.js';
import { PepperProvider, StaticPepperSource } from '../lambdas/core/pepper.js';
import { usageKeysFor } from '../lambdas/core/plans.js';
import { authorizerEvent } from '../test/support/events.js';
import { startCountingDynamo } from './dynamo.js';
import { describeEnvironment } from './environment.js';
import { silent } from './fixture.js';
import { compare, formatNs, type Stats } from './measure.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const PEPPER = 'bench-pepper-bench-pepper-bench-pepper!';
const QUOTA = 10_000_000;
const PLANS = { plans: { metered: { quota: { limit: QUOTA, period: 'month' } } }, defaultPlan: 'metered' };

export interface PlansResults {
  readonly noPlan: Stats;
  readonly withPlan: Stats;
  /** Allowed requests counted, and the store calls they made (at the dynalite server). */
  readonly requests: number;
  readonly storeCalls: number;
}

export async function runPlans(options: { quick: boolean; log?: (line: string) => void }): Promise<PlansResults> {
  const { quick } = options;
  options.log?.('plans: cached decision with and without a plan, and store calls per request');
  const dynamo = await startCountingDynamo();
  try {
    const base = {
      GATEHOUSE_TABLE_NAME: dynamo.tableName,
      GATEHOUSE_LOCAL_PEPPER: PEPPER,
      GATEHOUSE_KEY_ENV: 'test',
      GATEHOUSE_CACHE_TTL_SECONDS: '5',
    };
    const build = (env: Record<string, string>) =>
      createAuthorizer(buildAuthorizerDeps(readAuthorizerSettings({ ...base, ...env }), silent, { dynamo: dynamo.doc, pepperSource: new StaticPepperSource(PEPPER), bookkeeping: () => undefined }));
    const plain = build({});
    const planned = build({ GATEHOUSE_PLANS: JSON.stringify(PLANS), GATEHOUSE_USAGE_KEYS: JSON.stringify(usageKeysFor('bench')) });
    const peppers = new PepperProvider(new StaticPepperSource(PEPPER), { refreshSeconds: 300, maxStaleSeconds: 3600 });
    const store = new DynamoKeyStore(dynamo.doc, dynamo.tableName);
    const issue = async (name: string) =>
      (await issueKey({ store, peppers, environment: 'test' }, { tenant: 'bench', name, scopes: ['items:read'], createdBy: 'bench' })).key;
    const plainEvent = authorizerEvent({ headers: { 'X-API-Key': await issue('plain') } });
    const plannedEvent = authorizerEvent({ headers: { 'X-API-Key': await issue('planned') } });
    await plain(plainEvent);
    await planned(plannedEvent);
    const [noPlan, withPlan] = await compare(
      [
        { name: 'API key, cache hit, no plan', run: () => plain(plainEvent) },
        { name: 'API key, cache hit, plan with a monthly quota', run: () => planned(plannedEvent) },
      ],
      quick ? { warmup: 500, rounds: 5, perRound: 500 } : { warmup: 3000, rounds: 20, perRound: 2000 },
    );
    const requests = quick ? 20_000 : 100_000;
    const counted = authorizerEvent({ headers: { 'X-API-Key': await issue('counted') } });
    await planned(counted);
    dynamo.resetCounts();
    for (let i = 0; i < requests; i++) await planned(counted);
    return { noPlan: noPlan!, withPlan: withPlan!, requests, storeCalls: dynamo.total() };
  } finally {
    await dynamo.stop();
  }
}

/** The BENCHMARKS.md section (its heading is the report's). */
export function plansSection(r: PlansResults): string {
  const added = Math.max(0, r.withPlan.medianNs - r.noPlan.medianNs);
  return `Same run, interleaved: the same cached API-key decision without a plan and with a plan that has a quota.

| case | median | p99 | × no plan |
|---|---|---|---|
| ${r.noPlan.name} | ${formatNs(r.noPlan.medianNs)} | ${formatNs(r.noPlan.p99Ns)} | 1.00 |
| ${r.withPlan.name} | ${formatNs(r.withPlan.medianNs)} | ${formatNs(r.withPlan.p99Ns)} | ${(r.withPlan.medianNs / r.noPlan.medianNs).toFixed(2)} |

Added per allowed decision: **${formatNs(added)}** (median). Store calls: **${r.storeCalls} UpdateItem for ${r.requests.toLocaleString('en-US')} allowed requests** (${(r.storeCalls / r.requests).toFixed(4)} per request: one lease per block of 1 % of the quota, capped at 1,000 units). docs/plans.md compares this with API Gateway usage plans and a write per request.`;
}

// \`npx tsx bench/plans.ts [--quick]\`: this part alone.
if (process.argv[1]?.endsWith('plans.ts')) {
  const env = describeEnvironment();
  const results = await runPlans({ quick: process.argv.includes('--quick') });
  console.log(`## Plans\n\n${env.cpuCount} × ${env.cpu}, Node ${env.node}\n\n${plansSection(results)}`);
}
