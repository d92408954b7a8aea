/**
 * Gatehouse's settings: one definition per setting, read from environment variables by the Lambda functions
 * and the local stack, and from `cdk.json` context by the CDK app (same names, camelCase there; same validation).
 * A bad value fails loudly with the variable's name and the expected form — never a silent default.
 */
// zod/mini: the same validation as classic zod at a fraction of the bundle (the authorizer loads this at every
// cold start; classic zod alone was ~440 KB of a 920 KB bundle).
import * as z from 'zod/mini';
import { KEY_ENVIRONMENTS } from './api-key.js';
import { CLIENT_CERTIFICATES_ENV, CLIENT_CERTIFICATES_EXPECTED, clientCertificatesSchema } from './client-certificate-config.js';
import { ConfigError } from './errors.js';
import { isAllowedJwksUri } from './jwks-fetcher.js';
import { isPlanName, planReferences, UNLIMITED_PLAN, type PlanConfig } from './plans.js';
import { isScopeName, type Scope, type ScopeCatalog } from './scopes.js';
import { MAX_TENANT_PREFIX_BYTES, tenantProblem } from './tenant.js';

export const AUTH_MODES = ['enforce', 'audit', 'off'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** Lists arrive as JSON arrays (context) or as space/comma-separated strings (environment). */
const stringList = z.union([
  z.array(z.string()),
  z.pipe(
    z.string(),
    z.transform((s: string) => s.split(/[\s,]+/).filter((x) => x !== '')),
  ),
]);

/** Scope names; which exist is the deployment's catalog's business ({@link resolveAnonymousScopes}). */
const scopeNameList = z.pipe(stringList, z.array(z.string().check(z.refine(isScopeName, 'a scope name such as items:read'))));

/**
 * The word for "no scopes at all" where a list is written as text: an empty environment variable counts as unset
 * (the declared default), so an empty list needs a spelling of its own.
 */
export const NO_SCOPES = 'none';
const scopeNameListOrNone = z.union([z.pipe(z.literal(NO_SCOPES), z.transform((): string[] => [])), scopeNameList]);

/** Numbers arrive as numbers (context) or strings (environment). */
const int = (min: number, max: number) => z.pipe(z.coerce.number(), z.int().check(z.minimum(min), z.maximum(max)));

/** JSON given as a string (environment) or already parsed (context). */
const json = <T extends z.ZodMiniType>(schema: T) =>
  z.pipe(
    z.pipe(
      z.unknown(),
      z.transform((value: unknown, ctx) => {
        if (typeof value !== 'string') return value;
        try {
          return JSON.parse(value) as unknown;
        } catch {
          ctx.issues.push({ code: 'custom', message: 'not valid JSON', input: value });
          return z.NEVER;
        }
      }),
    ),
    schema,
  );

const tokenUse = z.pipe(
  z.enum(['access', 'id', 'any']),
  z.transform((v: 'access' | 'id' | 'any') => (v === 'any' ? null : v)),
);

const nonEmpty = () => z.string().check(z.minLength(1));

const oidcIssuer = z
  .strictObject({
    issuer: z.url(),
    jwksUri: z.url(),
    audience: z._default(z.nullable(z.array(nonEmpty())), null),
    clientIds: z._default(z.nullable(z.array(nonEmpty())), null),
    tokenUse: z._default(tokenUse, 'access'),
    scopeClaim: z._default(nonEmpty(), 'scope'),
    groupsClaim: z._default(nonEmpty(), 'cognito:groups'),
    tenantClaim: z._default(nonEmpty(), 'custom:tenant'),
    tenantPrefix: z.optional(nonEmpty().check(z.refine(isTenantPrefix, `at most ${MAX_TENANT_PREFIX_BYTES} UTF-8 bytes in NFKC form, no invisible or control characters, no surrounding whitespace`))),
    // Which token scopes are Gatehouse's: `<scopePrefix><scope>`; absent, bare scopes only (see scopes.ts).
    scopePrefix: z.optional(nonEmpty().check(z.regex(/^\S+$/, 'scopePrefix has no whitespace (token scopes are space-separated)'))),
  })
  .check(
    z.refine((i) => isAllowedJwksUri(i.jwksUri), { message: 'jwksUri must be https, or http on a loopback host' }),
    z.refine((i) => i.audience !== null || i.clientIds !== null, {
      message: 'each issuer needs audience or clientIds (a token for another client must not pass)',
    }),
  );

const cognito = z.strictObject({
  userPoolId: z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+$/, 'a user pool id such as eu-west-1_AbCdEf123')),
  clientIds: z.array(nonEmpty()).check(z.minLength(1)),
  tokenUse: z._default(tokenUse, 'access'),
  // Token scopes count only as `<resourceServerId>/<scope>`; absent, the identity stack's `gatehouse` (the default
  // lives with its one reader, token-verifier.ts). Cognito's rule for identifiers: 1–256 printable ASCII characters
  // other than `"` and `\`.
  resourceServerId: z.optional(z.string().check(z.regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/, 'a Cognito resource server identifier'))),
});

const planName = () => z.string().check(z.refine(isPlanName, 'a plan name: a lowercase letter, then up to 31 lowercase letters, digits or hyphens'));

const planLimits = z
  .strictObject({
    rate: z.optional(z.number().check(z.positive(), z.maximum(10_000))),
    burst: z.optional(z.int().check(z.minimum(1), z.maximum(5_000))),
    quota: z.optional(z.strictObject({ limit: z.int().check(z.minimum(1), z.maximum(1_000_000_000_000)), period: z.enum(['day', 'month']) })),
  })
  .check(z.refine((p) => p.burst === undefined || p.rate !== undefined, { message: 'burst needs a rate' }));

const planConfig = z
  .strictObject({
    plans: z._default(z.record(planName(), planLimits), {}),
    defaultPlan: z._default(planName(), UNLIMITED_PLAN),
    adminPlan: z._default(planName(), UNLIMITED_PLAN),
    tokens: z._default(
      z.strictObject({
        clientIds: z._default(z.record(nonEmpty(), planName()), {}),
        groups: z._default(z.array(z.strictObject({ group: nonEmpty(), plan: planName() })), []),
      }),
      { clientIds: {}, groups: [] },
    ),
  })
  .check(
    z.refine((c) => !Object.hasOwn(c.plans, UNLIMITED_PLAN), { message: `${UNLIMITED_PLAN} is built in (no limits) and cannot be redefined` }),
    z.refine((c) => planReferences(c as PlanConfig).every((name) => name === UNLIMITED_PLAN || Object.hasOwn(c.plans, name)), {
      message: 'defaultPlan, adminPlan and every token mapping must name a defined plan (or unlimited)',
    }),
  );

/** The static API keys that select API Gateway usage plans (docs/plans.md): not credentials, only signals. */
const usageKeys = z.strictObject({
  open: z.string().check(z.regex(/^[A-Za-z0-9_-]{20,128}$/, '20–128 letters, digits, - or _')),
  limited: z.string().check(z.regex(/^[A-Za-z0-9_-]{20,128}$/, '20–128 letters, digits, - or _')),
});

/** A tenant prefix leaves room for the tenant itself and cannot smuggle in what tenant.ts refuses in a tenant. */
function isTenantPrefix(prefix: string): boolean {
  return prefix === prefix.normalize('NFKC') && Buffer.byteLength(prefix, 'utf8') <= MAX_TENANT_PREFIX_BYTES && tenantProblem(prefix) === undefined;
}

/** An exact web origin (scheme, host, optional port; no path, no trailing slash, never `*`). */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

/** The largest request body a handler can be promised (see maxBodyBytes). */
export const MAX_BODY_BYTES_LIMIT = 3 * 1024 * 1024;

/** Every setting: its schema, its default and what the error message says it expects. */
export const SETTINGS = {
  authMode: { env: 'GATEHOUSE_AUTH_MODE', schema: z._default(z.enum(AUTH_MODES), 'enforce'), expected: 'enforce, audit or off' },
  keyEnvironment: { env: 'GATEHOUSE_KEY_ENV', schema: z._default(z.enum(KEY_ENVIRONMENTS), 'live'), expected: 'live or test' },
  // null: the scopes the API declares for anonymous callers (ScopeDefinition.anonymous). Checked against the
  // deployment's catalog where it is known (resolveAnonymousScopes): at cold start, at `npm start` and at synth.
  anonymousScopes: {
    env: 'GATEHOUSE_ANONYMOUS_SCOPES',
    schema: z._default(z.nullable(scopeNameListOrNone), null),
    expected: `declared scopes, or ${NO_SCOPES}; never a credential scope such as keys:read or keys:write (the anonymous principal must never read or change credentials)`,
  },
  cacheTtlSeconds: {
    env: 'GATEHOUSE_CACHE_TTL_SECONDS',
    schema: z._default(int(0, 5), 3),
    expected: 'an integer from 0 to 5 (with the gateway cache, their sum at most the revocation window)',
  },
  // The promise a deployment makes: a revoked or expired credential is refused within this many seconds. The
  // decision cache and API Gateway's cache together must fit in it (revocation-window.ts checks the sum).
  revocationWindowSeconds: {
    env: 'GATEHOUSE_REVOCATION_WINDOW_SECONDS',
    schema: z._default(int(1, 300), 5),
    expected: 'an integer from 1 to 300: the seconds within which a revoked or expired credential is refused',
  },
  // API Gateway's authorizer result cache ("gateway cache mode", gateway-cache.ts): 0 is off, as by default.
  gatewayCacheTtlSeconds: {
    env: 'GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS',
    schema: z._default(int(0, 300), 0),
    expected: 'an integer from 0 (off) to 300: seconds API Gateway keeps an authorizer answer, keyed on the Authorization header',
  },
  negativeCacheTtlSeconds: { env: 'GATEHOUSE_NEGATIVE_CACHE_TTL_SECONDS', schema: z._default(int(0, 5), 1), expected: 'an integer from 0 to 5' },
  cacheMaxEntries: { env: 'GATEHOUSE_CACHE_MAX_ENTRIES', schema: z._default(int(1, 1_000_000), 10_000), expected: 'an integer from 1 to 1000000' },
  jwksSource: {
    env: 'GATEHOUSE_JWKS_SOURCE',
    schema: z._default(z.enum(['fetch', 'store']), 'fetch'),
    expected: 'fetch (from each issuer) or store (the copies the JWKS mirror keeps in the table)',
  },
  jwksTimeoutMs: { env: 'GATEHOUSE_JWKS_TIMEOUT_MS', schema: z._default(int(100, 10_000), 1_500), expected: 'an integer from 100 to 10000' },
  oidcIssuers: {
    env: 'GATEHOUSE_OIDC_ISSUERS',
    schema: z._default(json(z.array(oidcIssuer)), []),
    expected: 'a JSON array of {issuer, jwksUri, audience?, clientIds?, tokenUse?, scopeClaim?, groupsClaim?, tenantClaim?, tenantPrefix?, scopePrefix?}',
  },
  cognito: {
    env: 'GATEHOUSE_COGNITO',
    schema: z._default(json(z.nullable(cognito)), null),
    expected: 'JSON {userPoolId, clientIds, tokenUse?: access|id|any, resourceServerId? (default gatehouse)}',
  },
  tableName: { env: 'GATEHOUSE_TABLE_NAME', schema: z.optional(z.string().check(z.minLength(3))), expected: 'a DynamoDB table name' },
  pepperSecretId: { env: 'GATEHOUSE_PEPPER_SECRET_ID', schema: z.optional(nonEmpty()), expected: 'a Secrets Manager secret id or ARN' },
  localPepper: { env: 'GATEHOUSE_LOCAL_PEPPER', schema: z.optional(z.string().check(z.minLength(32))), expected: 'at least 32 characters (local stack only)' },
  pepperRefreshSeconds: { env: 'GATEHOUSE_PEPPER_REFRESH_SECONDS', schema: z._default(int(10, 86_400), 300), expected: 'an integer from 10 to 86400' },
  corsOrigins: {
    env: 'GATEHOUSE_CORS_ORIGINS',
    schema: z._default(z.pipe(stringList, z.array(z.string().check(z.refine(isOrigin, 'an origin such as https://app.example.com')))), []),
    expected: 'origins such as https://app.example.com (no path, no trailing slash; never *)',
  },
  // At most 3 MiB: Lambda refuses invoke payloads over 6 MB, and the proxy event carries the body as a JSON string
  // (every quote and backslash escaped, so up to twice its size): a larger limit would promise bodies that AWS
  // answers with a 5xx before any Gatehouse code runs.
  maxBodyBytes: {
    env: 'GATEHOUSE_MAX_BODY_BYTES',
    schema: z._default(int(1024, MAX_BODY_BYTES_LIMIT), 1024 * 1024),
    expected: `an integer from 1024 to ${MAX_BODY_BYTES_LIMIT} (Lambda's 6 MB invoke limit holds the body escaped)`,
  },
  rateLimitPerIp: {
    env: 'GATEHOUSE_RATE_LIMIT_PER_IP',
    schema: z._default(int(10, 2_000_000_000), 600),
    expected: 'an integer ≥ 10 (WAF rate-based rules accept no less): requests per client IP per window',
  },
  rateLimitPerCredential: {
    env: 'GATEHOUSE_RATE_LIMIT_PER_CREDENTIAL',
    schema: z._default(int(10, 2_000_000_000), 300),
    expected: 'an integer ≥ 10: requests per credential per window',
  },
  rateLimitWindowSeconds: {
    env: 'GATEHOUSE_RATE_LIMIT_WINDOW_SECONDS',
    schema: z._default(z.pipe(z.coerce.number(), z.union([z.literal(60), z.literal(120), z.literal(300), z.literal(600)])), 60),
    expected: '60, 120, 300 or 600 (the windows WAF supports)',
  },
  throttleRateLimit: { env: 'GATEHOUSE_THROTTLE_RATE_LIMIT', schema: z._default(int(1, 10_000), 100), expected: 'an integer from 1 to 10000 (requests per second, stage-wide)' },
  throttleBurstLimit: { env: 'GATEHOUSE_THROTTLE_BURST_LIMIT', schema: z._default(int(1, 5_000), 200), expected: 'an integer from 1 to 5000' },
  plans: {
    env: 'GATEHOUSE_PLANS',
    schema: z._default(json(planConfig), { plans: {}, defaultPlan: UNLIMITED_PLAN, adminPlan: UNLIMITED_PLAN, tokens: { clientIds: {}, groups: [] } }),
    expected:
      'JSON {plans: {<name>: {rate?, burst?, quota?: {limit, period: day|month}}}, defaultPlan?, adminPlan?, tokens?: {clientIds?: {<client id>: <plan>}, groups?: [{group, plan}]}} (docs/plans.md)',
  },
  usageKeys: {
    env: 'GATEHOUSE_USAGE_KEYS',
    schema: z._default(json(z.nullable(usageKeys)), null),
    expected: 'JSON {open, limited}: the values of the two API keys behind the usage plans that carry limit decisions (set by the CDK app and the local stack)',
  },
  auditRetentionDays: { env: 'GATEHOUSE_AUDIT_RETENTION_DAYS', schema: z._default(int(1, 3650), 90), expected: 'an integer from 1 to 3650' },
  // Certificate-bound machine principals (mutual TLS): client-certificate-config.ts. Scopes are checked against the
  // deployment's catalog where it is known (resolveClientCertificates), as anonymousScopes are.
  clientCertificates: { env: CLIENT_CERTIFICATES_ENV, schema: z._default(json(z.nullable(clientCertificatesSchema)), null), expected: CLIENT_CERTIFICATES_EXPECTED },
} as const;

type Settings = typeof SETTINGS;
export type SettingName = keyof Settings;
export type SettingsValues = { [K in SettingName]: z.output<Settings[K]['schema']> };

export type SettingsSource = 'env' | 'context';

/**
 * Reads the named settings. From the environment a setting is found under its variable name; from CDK context
 * under its camelCase name. Empty strings count as unset.
 */
export function readSettings<K extends SettingName>(
  names: readonly K[],
  values: Readonly<Record<string, unknown>>,
  source: SettingsSource = 'env',
): Pick<SettingsValues, K> {
  const out: Partial<SettingsValues> = {};
  for (const name of names) {
    const def = SETTINGS[name];
    const key = source === 'env' ? def.env : name;
    const raw = values[key];
    const result = def.schema.safeParse(raw === '' ? undefined : raw);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` (at ${issue.path.join('.')}: ${issue.message})` : issue ? ` (${issue.message})` : '';
      throw new ConfigError(key, def.expected + where);
    }
    (out as Record<string, unknown>)[name] = result.data;
  }
  return out as Pick<SettingsValues, K>;
}

export type AnonymousScopes = readonly Scope[];

/**
 * The anonymous principal's scopes (audit and off modes): the configured list, else what the API declares for
 * anonymous callers. An undeclared scope, or one that reads or changes credentials, is a configuration error: an
 * unauthenticated caller who could list or mint keys would turn a migration aid into a way in that outlives it.
 */
export function resolveAnonymousScopes(configured: readonly string[] | null, catalog: ScopeCatalog, source: SettingsSource = 'env'): AnonymousScopes {
  const name = source === 'env' ? SETTINGS.anonymousScopes.env : 'anonymousScopes';
  if (configured === null) return catalog.anonymousDefault;
  const unknown = configured.filter((s) => !catalog.has(s));
  if (unknown.length > 0) throw new ConfigError(name, `declared scopes (${catalog.all.join(' ')}); not declared: ${unknown.join(' ')}`);
  const credential = configured.filter((s) => catalog.isCredential(s));
  if (credential.length > 0) {
    throw new ConfigError(
      name,
      `no credential scope (never ${catalog.credential.join(' or ')}; got ${credential.join(' ')}): the anonymous principal must never read or change credentials`,
    );
  }
  return catalog.sort(configured);
}
