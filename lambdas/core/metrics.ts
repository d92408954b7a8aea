/**
 * Gatehouse's metrics, as declared in metrics-catalog.ts: CloudWatch Embedded Metric Format documents built by
 * Powertools Metrics and written as lines on stdout, where CloudWatch Logs turns them into metrics. No API call on
 * any path, so a metric can never slow or fail a request.
 *
 * One EMF document carries one set of dimension values for all its metrics, and each catalog metric has its own
 * dimensions, so a {@link MetricsSink} keeps one Powertools `Metrics` per distinct set of dimension values (a
 * handful: the values come from fixed vocabularies) and {@link MetricsSink.flush} writes one line per set that holds
 * values. Functions flush once per invocation, at its end.
 *
 * Dimension values are never a credential, a key id, a tenant or token content: callers pass values from the
 * vocabularies below (outcomes, credential kinds, refusal reasons, dependencies, status classes, route keys,
 * configured issuers' hosts), and the sink keeps only the dimension names the catalog declares for the metric.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DEPLOYMENT_ENV, METRICS, METRICS_NAMESPACE, type MetricName } from './metrics-catalog.js';
import { CERTIFICATE_REFUSALS } from './client-certificate.js';

type DimensionName<N extends MetricName> = (typeof METRICS)[N]['dimensions'][number];
export type MetricDimensions<N extends MetricName> = { readonly [D in DimensionName<N>]: string };

export interface MetricsSink {
  /** One value of a catalog metric, with exactly its declared dimensions. Never throws. */
  add<N extends MetricName>(name: N, value: number, dimensions: MetricDimensions<N>): void;
  /** Writes everything added since the last flush (one EMF line per set of dimension values) and forgets it. Never throws. */
  flush(): void;
}

/** The default where nothing observes metrics (tests, benchmarks, embedders). */
export const NO_METRICS: MetricsSink = { add: () => undefined, flush: () => undefined };

// --- vocabularies: every dimension value the code can emit -----------------------------------------------------

export const DECISION_OUTCOMES = ['allow', 'refused', 'failure'] as const;
export const DECISION_CREDENTIALS = ['api_key', 'jwt', 'certificate', 'none', 'unknown', 'anonymous'] as const;
/** Refusal reasons of credentials.ts, key-verifier.ts, token-verifier.ts and client-certificate.ts, `missing`, and `other` for anything else. */
export const REFUSAL_REASONS = [
  'missing',
  'unsupported_scheme',
  'conflicting_credentials',
  'duplicate_header',
  'oversize',
  'empty',
  'malformed',
  'bad_checksum',
  'wrong_environment',
  'unknown',
  'secret_mismatch',
  'reserved_tenant',
  'bad_tenant',
  'revoked',
  'expired',
  'unknown_issuer',
  'invalid_token',
  'no_subject',
  ...CERTIFICATE_REFUSALS,
  'other',
] as const;
export const DEPENDENCIES = ['store', 'jwks', 'pepper', 'other'] as const;
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** The `route` value of a request whose method and resource are not a route of the deployment. */
export const UNMATCHED_ROUTE = 'unmatched';

const REASON_SET: ReadonlySet<string> = new Set(REFUSAL_REASONS);

/** A refusal reason as a dimension value: one of {@link REFUSAL_REASONS}. */
export const refusalReasonValue = (reason: string): string => (REASON_SET.has(reason) ? reason : 'other');

/** `2xx` … for a status code; anything odd counts as a server error. */
export function statusClassOf(status: number): (typeof STATUS_CLASSES)[number] {
  const hundreds = Math.floor(status / 100);
  return hundreds >= 1 && hundreds <= 5 ? (`${hundreds}xx` as (typeof STATUS_CLASSES)[number]) : '5xx';
}

const STORE_DEPENDENCIES = new Set(['key-store', 'usage-store', 'quota-store', 'audit-store', 'item-store', 'mode-tracker', 'store']);

/** Which dependency an error of a decision came from: the first `dependency` (DependencyError) or JWKS error in its cause chain. */
export function dependencyOf(error: unknown): (typeof DEPENDENCIES)[number] {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const dependency = (current as { dependency?: unknown }).dependency;
    if (typeof dependency === 'string') {
      if (STORE_DEPENDENCIES.has(dependency)) return 'store';
      if (dependency === 'jwks' || dependency === 'pepper') return dependency;
      return 'other';
    }
    if (current.name === 'JwksFetchError' || current.name === 'JwksUriError') return 'jwks';
    if (current.name === 'PepperUnavailableError' || current.name === 'PepperFormatError') return 'pepper';
    current = (current as { cause?: unknown }).cause;
  }
  return 'other';
}

/** The `issuer` value of a JWKS URI: its host (configured URIs only reach the mirror). */
export function issuerValue(jwksUri: string): string {
  try {
    return new URL(jwksUri).host || 'other';
  } catch {
    return 'other';
  }
}

/** The deployment's name for the `deployment` dimension (CDK sets the stack prefix; `local` otherwise). */
export function deploymentName(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const value = env[DEPLOYMENT_ENV]?.trim();
  return value && /^[A-Za-z0-9._-]{1,64}$/.test(value) ? value : 'local';
}

// --- the EMF sink --------------------------------------------------------------------------------------------------

export interface EmfMetricsOptions {
  /** The `service` dimension (the function's name, e.g. `gatehouse-authorizer`). */
  readonly service: string;
  /** Default: {@link deploymentName} of the environment. */
  readonly deployment?: string;
  /** Where each EMF document goes, one JSON text per call (default: a line on stdout, as Powertools writes it). */
  readonly write?: (document: string) => void;
}

/** Distinct dimension-value sets kept at once; the vocabularies stay far below it, so reaching it means a bug. */
const MAX_GROUPS = 512;

export const stdoutDocumentWriter = (document: string): void => {
  process.stdout.write(`${document}\n`);
};

export function createEmfMetrics(options: EmfMetricsOptions): MetricsSink {
  const deployment = options.deployment ?? deploymentName();
  const write = options.write ?? stdoutDocumentWriter;
  const disabled = /^(1|true|yes|on)$/i.test(process.env.POWERTOOLS_METRICS_DISABLED?.trim() ?? '');
  const groups = new Map<string, Metrics>();
  const pending = new Set<Metrics>();

  const groupOf = (names: readonly string[], dimensions: Readonly<Record<string, string>>): Metrics | undefined => {
    let key = '';
    for (const name of names) key += `${dimensions[name]}\u0000`;
    let group = groups.get(key);
    if (group) return group;
    if (groups.size >= MAX_GROUPS) return undefined;
    const values: Record<string, string> = { deployment };
    for (const name of names) values[name] = dimensions[name] || 'none';
    group = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: options.service, defaultDimensions: values });
    groups.set(key, group);
    return group;
  };

  return {
    add(name, value, dimensions) {
      try {
        const declared = METRICS[name];
        const group = groupOf(declared.dimensions, dimensions);
        if (!group) return;
        group.addMetric(name, declared.unit, value);
        pending.add(group);
      } catch {
        // A metric never breaks the work it measures.
      }
    },
    flush() {
      for (const group of pending) {
        try {
          const document = group.serializeMetrics();
          group.clearMetrics();
          // POWERTOOLS_METRICS_DISABLED turns the lines off, as it does for Powertools' own publishing.
          if (!disabled) write(JSON.stringify(document));
        } catch {
          group.clearMetrics();
        }
      }
      pending.clear();
    },
  };
}
