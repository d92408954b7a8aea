/** A small timing harness: warm up, then time batches and report per-operation median and p99 (ns). */
export interface Measurement {
  name: string;
  medianNs: number;
  p99Ns: number;
  samples: number;
}

export async function measure(name: string, op: () => unknown, options: { batch?: number; batches?: number; warmup?: number } = {}): Promise<Measurement> {
  const batch = options.batch ?? 200;
  const batches = options.batches ?? 200;
  for (let i = 0; i < (options.warmup ?? 2000); i++) await op();
  const perOp: number[] = [];
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await op();
    perOp.push(Number(process.hrtime.bigint() - start) / batch);
  }
  perOp.sort((a, b) => a - b);
  const at = (q: number) => perOp[Math.min(perOp.length - 1, Math.floor(q * perOp.length))]!;
  return { name, medianNs: at(0.5), p99Ns: at(0.99), samples: batch * batches };
}

export function formatNs(ns: number): string {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(2)} µs`;
}
