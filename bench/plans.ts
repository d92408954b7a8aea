/**
 * What plans add to an allowed decision (docs/plans.md): the same cached API-key decision with no plan and with a
 * plan that has a rate and a monthly quota, interleaved in one run; and the store calls per request, counted at the
 * dynalite server. `npx tsx bench/plans.ts [--quick]` prints a Markdown section (BENCHMARKS.md "Plans").
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
import { compare, formatNs } from './measure.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const PEPPER = 'bench-pepper-bench-pepper-bench-pepper!';
const QUOTA = 10_000_000;
const PLANS = { plans: { metered: { quota: { limit: QUOTA, period: 'month' } } }, defaultPlan: 'metered' };

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const dynamo = await startCountingDynamo();
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

  // Store calls per request: the leases of N allowed requests, at the server.
  const n = quick ? 20_000 : 100_000;
  const counted = authorizerEvent({ headers: { 'X-API-Key': await issue('counted') } });
  await planned(counted);
  dynamo.resetCounts();
  for (let i = 0; i < n; i++) await planned(counted);
  const calls = dynamo.total();
  const env = describeEnvironment();
  const added = withPlan!.medianNs - noPlan!.medianNs;
  console.log(`## Plans: what a limit adds to an allowed decision

Measured by \`npx tsx bench/plans.ts\` on ${env.cpuCount} × ${env.cpu}, Node ${env.node}, ${new Date().toISOString().slice(0, 10)}; same run, interleaved.

| case | median | p99 | × no plan |
|---|---|---|---|
| ${noPlan!.name} | ${formatNs(noPlan!.medianNs)} | ${formatNs(noPlan!.p99Ns)} | 1.00 |
| ${withPlan!.name} | ${formatNs(withPlan!.medianNs)} | ${formatNs(withPlan!.p99Ns)} | ${(withPlan!.medianNs / noPlan!.medianNs).toFixed(2)} |

Added per allowed decision: **${formatNs(Math.max(0, added))}** (median). Store calls: **${calls} UpdateItem for ${n.toLocaleString('en-US')} allowed requests** (${(calls / n).toFixed(4)} per request: one lease per block of 1 % of the quota, capped at 1,000 units).
`);
  await dynamo.stop();
}

await main();
