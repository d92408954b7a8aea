/**
 * Every CloudWatch metric Gatehouse emits (as EMF lines on stdout, through Powertools Metrics: no API call on any
 * path), declared once: the code emits these names and dimensions, the CDK dashboard and alarms read them, and a
 * test checks the EMF documents against this list. Dimension values come from small fixed vocabularies (outcomes,
 * credential kinds, refusal reasons, route keys of the deployment's table, configured issuers): never a credential,
 * a key id, a tenant or token content.
 */

/** The CloudWatch namespace. Each deployment adds its own `deployment` dimension (its stack prefix). */
export const METRICS_NAMESPACE = 'Gatehouse';

/** Environment variable naming the deployment (CDK sets it to the stack prefix; locally `local`). */
export const DEPLOYMENT_ENV = 'GATEHOUSE_DEPLOYMENT';

/** Dimensions every metric carries. */
export const DEFAULT_DIMENSIONS = ['deployment', 'service'] as const;

/**
 * The `service` value of each function (dashboards and alarms name it exactly): a handler group's function is
 * `gatehouse-<group>` (e.g. `gatehouse-keys`).
 */
export const METRIC_SERVICES = {
  authorizer: 'gatehouse-authorizer',
  bookkeeper: 'gatehouse-bookkeeper',
  jwksMirror: 'gatehouse-jwks-mirror',
} as const;
export const handlerService = (group: string): string => `gatehouse-${group}`;

export const METRICS = {
  // --- authorizer -------------------------------------------------------------------------------------------------
  /** One per decision. outcome: allow | refused | failure; credential: api_key | jwt | certificate | none | unknown | anonymous. */
  Decisions: { unit: 'Count', dimensions: ['outcome', 'credential'] },
  /** One per refused credential. reason: the refusal's class (malformed, unknown, expired, revoked, invalid_token …). */
  Refusals: { unit: 'Count', dimensions: ['reason'] },
  /** One per decision that failed on a dependency. dependency: store | jwks | pepper | other. */
  DependencyFailures: { unit: 'Count', dimensions: ['dependency'] },
  /** One per decision answered from the authorizer's own cache / not. */
  DecisionCacheHits: { unit: 'Count', dimensions: [] },
  DecisionCacheMisses: { unit: 'Count', dimensions: [] },
  /** One per request refused by its credential's plan (429). limit: rate | quota. */
  PlanLimited: { unit: 'Count', dimensions: ['limit'] },
  /** Time inside the authorizer for one decision. */
  DecisionLatency: { unit: 'Milliseconds', dimensions: [] },
  // --- handlers ---------------------------------------------------------------------------------------------------
  /** One per handled request. route: `METHOD /path` of the route table; status: 2xx | 4xx | 5xx. */
  Requests: { unit: 'Count', dimensions: ['route', 'status'] },
  // --- JWKS mirror ------------------------------------------------------------------------------------------------
  /** One per mirrored JWKS URI and run. issuer: the JWKS URI's host (configured issuers only). */
  JwksFetches: { unit: 'Count', dimensions: ['issuer'] },
  JwksFetchFailures: { unit: 'Count', dimensions: ['issuer'] },
  /** Age of the stored copy after the run, per issuer (a copy that stops being refreshed grows old). */
  JwksCopyAge: { unit: 'Seconds', dimensions: ['issuer'] },
  // --- bookkeeping --------------------------------------------------------------------------------------------------
  /** Records the bookkeeper wrote (usage, refusal). kind: usage | refusal. */
  BookkeepingRecords: { unit: 'Count', dimensions: ['kind'] },
  BookkeepingFailures: { unit: 'Count', dimensions: ['kind'] },
} as const;

export type MetricName = keyof typeof METRICS;
