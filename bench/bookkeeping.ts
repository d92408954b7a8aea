/**
 * Issue 13 — what the durable bookkeeping line and the EMF metrics cost the authorizer per decision, warm, in-process.
 * Standalone: `npx tsx bench/bookkeeping.ts` (results on stderr; add `--quick` for a shorter run).
 *
 * The same API-key decision (decision-cache hit: the warm allow path, where a cost shows most) four ways,
 * interleaved: bare (no line, no metrics) · + the usage line · + the metrics (added, then flushed as at the end of an
 * invocation) · + both, as deployed. Lines and EMF documents go to the real `process.stdout`, which this script makes
 * a pipe (it re-runs itself as a child whose stdout a reader drains), as Lambda's stdout is. Then the bytes: a usage
 * line, a refusal line, and the EMF documents of one allowed decision; and a cost model per million requests.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createAuthorizer, type Authorizer } from '../lambdas/authorizer/authorizer.js';
import { buildAuthorizerDeps, readAuthorizerSettings } from '../lambdas/authorizer/wiring.js';
import { refusalLine, stdoutLineWriter, usageLine, type LineWriter } from '../lambdas/core/bookkeeping-channel.js';
import { issueKey } from '../lambdas/core/key-issuer.js';
import { DynamoKeyStore } from '../lambdas/core/key-store.js';
import { createEmfMetrics, NO_METRICS, type MetricsSink } from '../lambdas/core/metrics.js';
import { PepperProvider, StaticPepperSource } from '../lambdas/core/pepper.js';
import { authorizerEvent } from '../test/support/events.js';
import { startCountingDynamo } from './dynamo.js';
import { silent } from './fixture.js';
import { compare, formatNs, type Stats } from './measure.js';
import { PRICES } from './prices.js';

const PEPPER = 'bench-pepper-'.padEnd(48, 'x');
const CHILD = 'GATEHOUSE_BENCH_BOOKKEEPING_CHILD';


export interface BookkeepingBenchResults {
  readonly bare: Stats;
  readonly line: Stats;
  readonly metrics: Stats;
  readonly both: Stats;
  readonly bytes: { readonly usageLine: number; readonly usageLineLongTenant: number; readonly refusalLine: number; readonly emfPerAllow: number };
}

async function measure(quick: boolean): Promise<BookkeepingBenchResults> {
  const dynamo = await startCountingDynamo('gatehouse-bench-bookkeeping');
  try {
    const peppers = new PepperProvider(new StaticPepperSource(PEPPER), { refreshSeconds: 300, maxStaleSeconds: 3600 });
    const { key } = await issueKey(
      { store: new DynamoKeyStore(dynamo.doc, dynamo.tableName), peppers, environment: 'test' },
      { tenant: 'bench-tenant', name: 'bench', scopes: ['items:read'], createdBy: 'bench' },
    );
    const settings = readAuthorizerSettings({ GATEHOUSE_TABLE_NAME: dynamo.tableName, GATEHOUSE_LOCAL_PEPPER: PEPPER, GATEHOUSE_KEY_ENV: 'test', GATEHOUSE_CACHE_TTL_SECONDS: '5' });
    const none: LineWriter = () => undefined;
    const build = (bookkeeping: LineWriter, metrics: MetricsSink): Authorizer => {
      const decide = createAuthorizer(buildAuthorizerDeps(settings, silent, { dynamo: dynamo.doc, bookkeeping, metrics }));
      // As handler.ts: the metrics are flushed once per invocation.
      return async (event) => {
        try {
          return await decide(event);
        } finally {
          metrics.flush();
        }
      };
    };
    const emf = createEmfMetrics({ service: 'gatehouse-authorizer', deployment: 'bench' });
    const emf2 = createEmfMetrics({ service: 'gatehouse-authorizer', deployment: 'bench' });
    const bare = build(none, NO_METRICS);
    const line = build(stdoutLineWriter, NO_METRICS);
    const withMetrics = build(none, emf);
    const both = build(stdoutLineWriter, emf2);
    const event: APIGatewayRequestAuthorizerEvent = authorizerEvent({ headers: { 'X-API-Key': key } });
    for (const decide of [bare, line, withMetrics, both]) await decide(event);

    const scale = quick ? 0.2 : 1;
    const [a, b, c, d] = await compare(
      [
        { name: 'API key, cache hit: bare', run: () => bare(event) },
        { name: '+ usage line (stdout pipe)', run: () => line(event) },
        { name: '+ EMF metrics (add + flush to stdout pipe)', run: () => withMetrics(event) },
        { name: '+ both (as deployed)', run: () => both(event) },
      ],
      { warmup: 3000, rounds: Math.round(40 * scale), perRound: 500 },
    );

    const emfBytes: string[] = [];
    const counting = createEmfMetrics({ service: 'gatehouse-authorizer', deployment: 'gatehouse', write: (doc) => void emfBytes.push(`${doc}\n`) });
    await build(none, counting)(event);
    const at = Date.now();
    return {
      bare: a!,
      line: b!,
      metrics: c!,
      both: d!,
      bytes: {
        usageLine: Buffer.byteLength(usageLine('3kTn0Qp7ZbX1', 'acme', at)),
        usageLineLongTenant: Buffer.byteLength(usageLine('3kTn0Qp7ZbX1', 'idp.example.com/realm|0d8f6c2e-5b1a-4c3e-9f7d-2a6b8c4e1f03', at)),
        refusalLine: Buffer.byteLength(
          refusalLine({ reason: 'secret_mismatch', credentialKind: 'api_key', keyId: '3kTn0Qp7ZbX1', tenant: 'acme', sourceIp: '203.0.113.77', method: 'GET', path: '/v1/items/01JF3Q9', mode: 'enforce', outcome: 'denied' }, at),
        ),
        emfPerAllow: emfBytes.reduce((n, s) => n + Buffer.byteLength(s), 0),
      },
    };
  } finally {
    await dynamo.stop();
  }
}

/** Dollars per million allowed API-key requests, from the measured bytes and stated assumptions. */
export function costModel(bytes: BookkeepingBenchResults['bytes']) {
  const perMillionGb = (b: number) => (b * 1e6) / 1e9;
  return {
    usageLineLogs: perMillionGb(bytes.usageLine) * PRICES.logsIngestionPerGb,
    emfLogs: perMillionGb(bytes.emfPerAllow) * PRICES.logsIngestionPerGb,
  };
}

export function render(r: BookkeepingBenchResults): string {
  const delta = (s: Stats) => `${formatNs(s.medianNs - r.bare.medianNs)} median, ${formatNs(s.p99Ns - r.bare.p99Ns)} p99`;
  const cost = costModel(r.bytes);
  return [
    'Issue 13: what the bookkeeping line and the metrics add to a warm API-key decision (cache hit)',
    ...[r.bare, r.line, r.metrics, r.both].map((s) => `  ${s.name.padEnd(46)} median ${formatNs(s.medianNs).padStart(9)}  p99 ${formatNs(s.p99Ns).padStart(9)}  (${s.samples} samples)`),
    `  added by the line:    ${delta(r.line)}`,
    `  added by the metrics: ${delta(r.metrics)}`,
    `  added by both:        ${delta(r.both)}`,
    `  bytes: usage line ${r.bytes.usageLine} (long issuer-prefixed tenant ${r.bytes.usageLineLongTenant}), refusal line ${r.bytes.refusalLine}, EMF per allowed decision ${r.bytes.emfPerAllow}`,
    `  CloudWatch Logs ingestion per million allowed key requests at $${PRICES.logsIngestionPerGb}/GB: usage lines $${cost.usageLineLogs.toFixed(4)}, EMF $${cost.emfLogs.toFixed(4)}`,
  ].join('\n');
}

/**
 * Runs the measurement in a child whose stdout is a pipe this process drains (Lambda's stdout is a pipe too; a TTY or
 * file would differ) and returns its results (`npm run bench` part `bookkeeping`).
 */
export async function runBookkeeping(options: { quick?: boolean; log?: (line: string) => void } = {}): Promise<BookkeepingBenchResults> {
  options.log?.('bookkeeping: the usage line and the metrics on a warm API-key decision, in a child with a piped stdout…');
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, script, ...(options.quick ? ['--quick'] : [])], {
    env: { ...process.env, [CHILD]: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout.on('data', () => undefined);
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = stderr.split('\n').find((l) => l.startsWith(RESULTS_MARKER));
  if (code !== 0 || line === undefined) throw new Error(`bench/bookkeeping.ts failed (exit ${code}): ${stderr.slice(-2000)}`);
  return JSON.parse(line.slice(RESULTS_MARKER.length)) as BookkeepingBenchResults;
}

const RESULTS_MARKER = '__RESULTS__';

if (process.env[CHILD] === '1') {
  const results = await measure(process.argv.includes('--quick'));
  process.stderr.write(`${RESULTS_MARKER}${JSON.stringify(results)}\n`);
} else if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stderr.write(`${render(await runBookkeeping({ quick: process.argv.includes('--quick') }))}\n`);
}
