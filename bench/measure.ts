/**
 * Timing harness for in-process cases. Every operation is timed on its own (performance.now around one call),
 * so p99 is a per-request p99, not a p99 of batch means. Cases that are compared with each other run
 * interleaved: round after round, each case takes its turn in a rotating order, so machine noise (another
 * process, a GC, frequency changes) falls on all of them alike and their ratios stay put.
 */
import { performance } from 'node:perf_hooks';

export interface Case {
  readonly name: string;
  /** One operation. A returned promise is awaited (and its time counted); sync cases are never awaited. */
  readonly run: () => unknown;
  /** Called after each timed operation (untimed), e.g. to check a per-operation invariant. */
  readonly after?: () => void;
}

export interface Stats {
  readonly name: string;
  readonly samples: number;
  readonly medianNs: number;
  readonly p99Ns: number;
  readonly meanNs: number;
}

export interface CompareOptions {
  /** Untimed operations per case before the first round. */
  readonly warmup?: number;
  readonly rounds?: number;
  /** Timed operations per case per round. */
  readonly perRound?: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function stats(name: string, samplesNs: number[]): Stats {
  const sorted = [...samplesNs].sort((a, b) => a - b);
  return {
    name,
    samples: sorted.length,
    medianNs: quantile(sorted, 0.5),
    p99Ns: quantile(sorted, 0.99),
    meanNs: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
  };
}

async function runOnce(c: Case): Promise<number> {
  const start = performance.now();
  const out = c.run();
  if (out instanceof Promise) await out;
  const ns = (performance.now() - start) * 1e6;
  c.after?.();
  return ns;
}

export async function compare(cases: readonly Case[], options: CompareOptions = {}): Promise<Stats[]> {
  const warmup = options.warmup ?? 3000;
  const rounds = options.rounds ?? 40;
  const perRound = options.perRound ?? 250;
  for (const c of cases) for (let i = 0; i < warmup; i++) await runOnce(c);
  const samples = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const index = (k + r) % cases.length;
      const c = cases[index]!;
      const into = samples[index]!;
      for (let i = 0; i < perRound; i++) into.push(await runOnce(c));
    }
  }
  return cases.map((c, i) => stats(c.name, samples[i]!));
}

export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '—';
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e3).toFixed(2)} µs`;
}

export function formatMs(ms: number): string {
  return formatNs(ms * 1e6);
}
