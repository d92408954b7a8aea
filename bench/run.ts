/**
 * `npm run bench`: Gatehouse measured against its peers and the physical limit, in the same run, written to
 * BENCHMARKS.md. Not part of `npm test`; no test asserts a time.
 *
 *   npm run bench [-- --quick] [-- --only decision,cold-start,revocation,load,bookkeeping,cost] [-- --out FILE] [-- --json FILE]
 *   npm run bench -- --render results.json    (rewrite the report from a saved run, no measuring)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBookkeeping, type BookkeepingBenchResults } from './bookkeeping.js';
import { runColdStart, type ColdStartResults } from './cold-start.js';
import { runDecision, type DecisionResults } from './decision.js';
import { describeEnvironment } from './environment.js';
import { runIdleCost, type IdleCost } from './idle-cost.js';
import { runLoad, type LoadResults } from './load.js';
import { renderReport, verdicts, type RunResults } from './report.js';
import { REVOCATION_MODES, runRevocation, type RevocationResults } from './revocation.js';
import { startBenchStack } from './stack.js';
import { runPlans } from './plans.js';

// The SDK warns once per process on Node < 22; the project supports Node ≥ 20.19 on purpose.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const PARTS = ['decision', 'cold-start', 'revocation', 'load', 'bookkeeping', 'cost', 'plans'] as const;
type Part = (typeof PARTS)[number];

function parseArgs(argv: readonly string[]): { quick: boolean; only: Set<Part>; out: string; json?: string; render?: string } {
  const args = [...argv];
  let quick = false;
  let only = new Set<Part>(PARTS);
  let out = join(fileURLToPath(new URL('..', import.meta.url)), 'BENCHMARKS.md');
  let json: string | undefined;
  let render: string | undefined;
  while (args.length > 0) {
    const a = args.shift()!;
    if (a === '--quick') quick = true;
    else if (a === '--only') {
      const list = (args.shift() ?? '').split(',').filter((p) => p !== '');
      const unknown = list.filter((p) => !(PARTS as readonly string[]).includes(p));
      if (unknown.length > 0 || list.length === 0) throw new Error(`--only takes a list of ${PARTS.join(', ')}`);
      only = new Set(list as Part[]);
    } else if (a === '--out') out = args.shift() ?? out;
    else if (a === '--json') json = args.shift();
    else if (a === '--render') render = args.shift();
    else if (a === '--help' || a === '-h') {
      console.log(`npm run bench [-- --quick] [-- --only ${PARTS.join(',')}] [-- --out FILE] [-- --json FILE] [-- --render JSON]`);
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return { quick, only, out, ...(json === undefined ? {} : { json }), ...(render === undefined ? {} : { render }) };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.render !== undefined) {
    writeFileSync(options.out, renderReport(JSON.parse(readFileSync(options.render, 'utf8')) as RunResults));
    console.error(`rendered ${options.out} from ${options.render}`);
    return;
  }
  const started = Date.now();
  const log = (line: string) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  const env = describeEnvironment();
  log(`${env.cpuCount} × ${env.cpu}, node ${env.node}, load average ${env.loadAverageAtStart.map((v) => v.toFixed(2)).join(' ')}`);

  let decision: DecisionResults | undefined;
  let coldStart: ColdStartResults | undefined;
  const revocation: RevocationResults[] = [];
  let load: LoadResults | undefined;
  let bookkeeping: BookkeepingBenchResults | undefined;
  let idle: IdleCost[] | undefined;
  if (options.only.has('decision')) decision = await runDecision({ quick: options.quick, log });
  if (options.only.has('cold-start')) coldStart = await runColdStart({ runs: options.quick ? 10 : 15, log });
  if (options.only.has('bookkeeping')) bookkeeping = await runBookkeeping({ quick: options.quick, log });
  const plans = options.only.has('plans') ? await runPlans({ quick: options.quick, log }) : undefined;
  if (options.only.has('cost')) {
    log('cost: synthesising the dev and prod profiles for their idle resources…');
    idle = await runIdleCost();
  }
  // Revocation in each mode, each on its own local stack; the load test on the default one.
  for (const [index, { mode, settings }] of REVOCATION_MODES.entries()) {
    const wantLoad = index === 0 && options.only.has('load');
    if (!options.only.has('revocation') && !wantLoad) continue;
    log(`starting the local stack (${mode})…`);
    const stack = await startBenchStack(settings);
    try {
      if (options.only.has('revocation')) revocation.push(await runRevocation(stack, { mode, keys: options.quick ? 4 : 8, log }));
      if (wantLoad) {
        load = await runLoad(stack, options.quick ? { seconds: 2, warmupSeconds: 1, rounds: 1, profileSeconds: 2, log } : { seconds: 10, warmupSeconds: 2, rounds: 2, log });
      }
    } finally {
      await stack.close();
    }
  }

  const results: RunResults = {
    env,
    durationSeconds: (Date.now() - started) / 1000,
    loadAverageAtEnd: loadavg(),
    quick: options.quick,
    skipped: PARTS.filter((p) => !options.only.has(p)),
    ...(decision ? { decision } : {}),
    ...(coldStart ? { coldStart } : {}),
    ...(revocation.length > 0 ? { revocation } : {}),
    ...(load ? { load } : {}),
    ...(bookkeeping ? { bookkeeping } : {}),
    ...(idle ? { idle } : {}),
    ...(plans ? { plans } : {}),
  };
  writeFileSync(options.out, renderReport(results));
  if (options.json) writeFileSync(options.json, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${options.out}`);
  for (const v of verdicts(results)) console.log(`${v.met === undefined ? '  ?' : v.met ? ' ok' : 'MISS'}  ${v.target}: ${v.measured}`);
}

try {
  await main();
  // autocannon's worker threads and SDK sockets can keep the loop alive for a moment; the report is written.
  process.exit(0);
} catch (error) {
  console.error(error);
  process.exit(1);
}
