/**
 * The local stack's CloudWatch: it keeps the EMF documents the functions write (the same documents as in Lambda,
 * from the same code) and answers `GET /_local/metrics` with what CloudWatch would chart, aggregated per metric and
 * dimension values: count, sum, min, max, p50, p99 of the values since the stack started.
 *
 * Memory is bounded: series are few (dimension values come from fixed vocabularies), and each keeps at most
 * {@link MAX_SAMPLES} recent values for its percentiles (count, sum, min and max stay exact).
 */
export const LOCAL_METRICS_PATH = '/_local/metrics';

/** Values per series kept for percentiles (a ring of the most recent). */
export const MAX_SAMPLES = 10_000;
/** Series kept at most; past it new series are dropped and counted. */
const MAX_SERIES = 2_000;

export interface SeriesView {
  readonly dimensions: Readonly<Record<string, string>>;
  readonly unit: string;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly p50: number;
  readonly p99: number;
}

export interface MetricsView {
  readonly namespace: string | undefined;
  /** EMF documents seen. */
  readonly documents: number;
  /** Lines that were not EMF documents (always 0 unless a function writes something else through the sink). */
  readonly rejected: number;
  /** Metric name → one entry per distinct set of dimension values. */
  readonly metrics: Readonly<Record<string, readonly SeriesView[]>>;
}

interface Series {
  readonly dimensions: Record<string, string>;
  readonly unit: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  readonly samples: number[];
  next: number;
}

interface EmfDirective {
  readonly Namespace?: unknown;
  readonly Dimensions?: unknown;
  readonly Metrics?: unknown;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export class EmfCollector {
  private readonly series = new Map<string, Series>();
  private namespace: string | undefined;
  private documents = 0;
  private rejected = 0;

  /** @param print  also print each document as a line on stdout (`npm start -- --metrics`) */
  constructor(private readonly print = false) {}

  /** A MetricsSink `write`: one EMF document as JSON text. Never throws. */
  readonly write = (document: string): void => {
    if (this.print) process.stdout.write(`${document}\n`);
    try {
      this.add(JSON.parse(document) as Record<string, unknown>);
    } catch {
      this.rejected++;
    }
  };

  view(): MetricsView {
    const metrics: Record<string, SeriesView[]> = {};
    for (const [key, s] of this.series) {
      const name = key.slice(0, key.indexOf('\u0000'));
      const sorted = [...s.samples].sort((a, b) => a - b);
      (metrics[name] ??= []).push({
        dimensions: s.dimensions,
        unit: s.unit,
        count: s.count,
        sum: s.sum,
        min: s.min,
        max: s.max,
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
      });
    }
    return { namespace: this.namespace, documents: this.documents, rejected: this.rejected, metrics };
  }

  private add(doc: Record<string, unknown>): void {
    const aws = doc._aws as { CloudWatchMetrics?: unknown } | undefined;
    if (!aws || !Array.isArray(aws.CloudWatchMetrics)) {
      this.rejected++;
      return;
    }
    this.documents++;
    for (const directive of aws.CloudWatchMetrics as EmfDirective[]) {
      if (typeof directive.Namespace === 'string') this.namespace = directive.Namespace;
      const sets = Array.isArray(directive.Dimensions) ? (directive.Dimensions as unknown[]) : [];
      const metrics = Array.isArray(directive.Metrics) ? (directive.Metrics as { Name?: unknown; Unit?: unknown }[]) : [];
      for (const set of sets) {
        if (!Array.isArray(set)) continue;
        const dimensions: Record<string, string> = {};
        for (const name of set) if (typeof name === 'string') dimensions[name] = String(doc[name]);
        for (const metric of metrics) {
          if (typeof metric.Name !== 'string') continue;
          const raw = doc[metric.Name];
          const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
          const unit = typeof metric.Unit === 'string' ? metric.Unit : 'None';
          for (const value of values) this.observe(metric.Name, dimensions, unit, value);
        }
      }
    }
  }

  private observe(name: string, dimensions: Record<string, string>, unit: string, value: number): void {
    const key = `${name}\u0000${JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= MAX_SERIES) {
        this.rejected++;
        return;
      }
      s = { dimensions, unit, count: 0, sum: 0, min: Infinity, max: -Infinity, samples: [], next: 0 };
      this.series.set(key, s);
    }
    s.count++;
    s.sum += value;
    s.min = Math.min(s.min, value);
    s.max = Math.max(s.max, value);
    if (s.samples.length < MAX_SAMPLES) s.samples.push(value);
    else {
      s.samples[s.next] = value;
      s.next = (s.next + 1) % MAX_SAMPLES;
    }
  }
}
