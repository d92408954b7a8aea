/**
 * The CDK app's configuration: `cdk.json` context (or `-c key=value`), validated at synth time.
 *
 * - Every setting that exists in lambdas/core/settings.ts is read with `readSettings(..., 'context')`: same camelCase
 *   name, same validation, same error ("Invalid configuration <key>: expected <form>") as the functions use for
 *   their environment variables. Nothing is validated twice with different rules.
 * - Settings the deployment computes itself (table name, pepper secret, the Cognito pool) cannot be set.
 * - Infra-only keys (Cognito hosted login, log retention, stack names, the cost profile and Availability Zones, the
 *   alarm e-mail, detailed API metrics) have a small zod schema here with the same error style (ConfigError); rules
 *   between them (AZ count per profile, a domain prefix Cognito accepts) are checked after each key is read.
 * - An unknown plain key is an error too: a typo such as `rateLimitPerIP` must not silently fall back to a default.
 */
import { Aws } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import type { Api } from '../lambdas/core/api-definition.js';
import { ConfigError } from '../lambdas/core/errors.js';
import { checkGatewayCacheSettings } from '../lambdas/core/gateway-cache.js';
import { resolveClientCertificates } from '../lambdas/core/client-certificate-config.js';
import { readSettings, resolveAnonymousScopes, SETTINGS, type SettingName, type SettingsValues } from '../lambdas/core/settings.js';
import { GATEHOUSE_API } from '../lambdas/routes.js';
import { CUSTOM_DOMAIN_EXPECTED, customDomainSchema } from './domain-config.js';

/** Settings the CDK app computes from the resources it creates; setting them in context is an error. */
const COMPUTED_SETTINGS = {
  tableName: 'the table is created by the data stack',
  pepperSecretId: 'the pepper secret is created by the data stack',
  localPepper: 'a pepper in plain text is for the local stack only; the deployment keeps it in Secrets Manager',
  cognito: 'the user pool and its clients are created by the identity stack',
  usageKeys: 'the usage plan keys are derived by the API construct (docs/plans.md)',
} as const satisfies Partial<Record<SettingName, string>>;

type ComputedSetting = keyof typeof COMPUTED_SETTINGS;
export type ContextSettingName = Exclude<SettingName, ComputedSetting>;

/**
 * Settings whose value the deployment fixes (by name, so this holds before settings.ts defines them): the deployed
 * authorizer cannot reach any JWKS endpoint, so it always reads the JWKS mirror's copies (GATEHOUSE_JWKS_SOURCE=store).
 */
const FIXED_SETTINGS: Readonly<Record<string, string>> = {
  jwksSource: 'the deployed authorizer always reads JWKS from the table (the JWKS mirror keeps them there)',
};

/** The settings read from context: every one in settings.ts that the deployment does not compute or fix. */
export const CONTEXT_SETTINGS = (Object.keys(SETTINGS) as SettingName[]).filter(
  (name): name is ContextSettingName => !(name in COMPUTED_SETTINGS) && !(name in FIXED_SETTINGS),
);

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/**
 * Cognito accepts plain http only for `http://localhost` (any port, exact match): loopback IP literals such as
 * http://127.0.0.1 are refused by CreateUserPoolClient. Everything else must be https, or a private-use scheme
 * (`myapp://callback`) for native apps. No fragments (RFC 6749 §3.1.2).
 */
export function isCognitoRedirectUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.hash !== '' || value.includes('#')) return false;
  if (url.protocol === 'https:') return url.hostname !== '';
  if (url.protocol === 'http:') return url.hostname === 'localhost';
  // Private-use URI schemes (RFC 8252 §7.1) for native apps: reverse-DNS style, never javascript:/data:/file:.
  return /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol);
}

const redirectUrls = z
  .array(z.string().refine(isCognitoRedirectUrl, 'https URL, http://localhost[:port]/path, or a private-use scheme such as com.example.app:/callback'))
  .min(1)
  .max(100);

/**
 * The default redirect URLs serve the Gatehouse CLI's loopback login (RFC 8252 §7.3). Cognito matches redirect URIs
 * exactly (port included) and allows http only for `localhost`, so the CLI listens on this fixed port.
 */
export const DEFAULT_CLI_CALLBACK_URL = 'http://localhost:8976/callback';
export const DEFAULT_CLI_LOGOUT_URL = 'http://localhost:8976/logged-out';

/**
 * The cost profiles (README "What an idle deployment costs"): `dev` runs the VPC in one AZ with the one interface
 * endpoint the functions cannot work without (Secrets Manager: the pepper); `prod` runs it in two or more AZs and
 * adds the X-Ray endpoint (traces of the VPC functions).
 */
export const DEPLOYMENT_PROFILES = ['dev', 'prod'] as const;
export type DeploymentProfile = (typeof DEPLOYMENT_PROFILES)[number];

/** An Availability Zone ID: `<region code>-az<n>` (use1-az1, euw1-az3, apne1-az4); Local Zone IDs are not accepted. */
const AZ_ID = /^[a-z]{2,5}[0-9]-az[0-9]{1,2}$/;
const azIdRegion = (id: string): string => id.slice(0, id.indexOf('-az'));

/** Words Cognito refuses in a domain prefix. */
const RESERVED_DOMAIN_WORDS = /aws|amazon|cognito/;

const INFRA_SCHEMA = {
  stackPrefix: {
    schema: z.string().regex(/^[A-Z][A-Za-z0-9]{0,30}$/).default('Gatehouse'),
    expected: 'a PascalCase name of at most 31 letters and digits (stacks are named <stackPrefix>Network, <stackPrefix>Data, …)',
  },
  domainPrefix: {
    // Cognito: lower-case letters, digits and hyphens, 1–63 characters, no leading or trailing hyphen, and the
    // words aws, amazon and cognito are reserved. Absent → <stackPrefix, lower case>-<account id>: unique per
    // deployment in an account and region (Cognito domain prefixes are unique per region across all accounts).
    schema: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/)
      .refine((s) => !RESERVED_DOMAIN_WORDS.test(s), 'must not contain aws, amazon or cognito')
      .optional(),
    expected: 'a Cognito domain prefix: 1–63 lower-case letters, digits and hyphens, not containing aws, amazon or cognito',
  },
  callbackUrls: {
    schema: redirectUrls.default([DEFAULT_CLI_CALLBACK_URL]),
    expected: 'a JSON array of redirect URLs: https, http://localhost[:port]/path (Cognito allows no other http, not even 127.0.0.1), or a private-use scheme; no fragments',
  },
  logoutUrls: {
    schema: redirectUrls.default([DEFAULT_CLI_LOGOUT_URL]),
    expected: 'a JSON array of sign-out URLs: https, http://localhost[:port]/path, or a private-use scheme; no fragments',
  },
  mfa: {
    schema: z.enum(['off', 'optional', 'required']).default('optional'),
    expected: 'off, optional or required (TOTP authenticator apps; SMS is not offered)',
  },
  logRetentionDays: {
    schema: z.coerce.number().pipe(z.union(LOG_RETENTION_DAYS.map((d) => z.literal(d)))).default(365),
    expected: `one of the retention periods CloudWatch Logs accepts: ${LOG_RETENTION_DAYS.join(', ')}`,
  },
  profile: {
    schema: z.enum(DEPLOYMENT_PROFILES).default('prod'),
    expected: 'dev (one AZ, only the Secrets Manager interface endpoint) or prod (two or more AZs, every endpoint)',
  },
  availabilityZones: {
    // AZ IDs, not names: an ID is the same physical zone in every account (us-east-1a is not), and the zones some
    // services do not support are published by ID (us-east-1's use1-az3).
    schema: z
      .array(z.string().regex(AZ_ID))
      .min(1)
      .max(6)
      .refine((ids) => new Set(ids).size === ids.length, 'the AZ IDs must be distinct')
      .refine((ids) => new Set(ids.map(azIdRegion)).size === 1, 'the AZ IDs must all be in one region')
      .optional(),
    expected: 'a JSON array of 1 to 6 Availability Zone IDs such as use1-az1 (aws ec2 describe-availability-zones --query "AvailabilityZones[].ZoneId")',
  },
  alarmEmail: {
    schema: z.email().optional(),
    expected: 'an e-mail address to subscribe to the alarm topic (AWS mails it a confirmation link)',
  },
  detailedMetrics: {
    // `-c detailedMetrics=false` arrives as text: accept the two words, never coerce (Boolean('false') is true).
    schema: z
      .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
      .default(false),
    expected: 'true or false (per-method API Gateway metrics: billed as custom metrics once the routes see traffic)',
  },
  // The API on the team's own domain, its TLS policy and optional mutual TLS (infra/domain-config.ts).
  customDomain: { schema: customDomainSchema.optional(), expected: CUSTOM_DOMAIN_EXPECTED },
} as const;

type InfraSchema = typeof INFRA_SCHEMA;
export type InfraKey = keyof InfraSchema;
export type InfraValues = { [K in InfraKey]: z.output<InfraSchema[K]['schema']> };

/**
 * The settings read from context. `anonymousScopes` is resolved: the configured list checked against the API's scope
 * catalog, or the catalog's declared default when none is configured.
 */
export type ContextSettings = Omit<Pick<SettingsValues, ContextSettingName>, 'anonymousScopes'> & { readonly anonymousScopes: readonly string[] };

export interface GatehouseConfig {
  /** Settings shared with the functions, validated by settings.ts. */
  readonly settings: ContextSettings;
  /** The raw context values of those settings (for environment variables: JSON settings keep their input form). */
  readonly raw: Readonly<Partial<Record<ContextSettingName, unknown>>>;
  readonly infra: InfraValues;
}

/** Keys that CDK itself or its CLI put into context (feature flags, bundling selection, toolkit settings). */
function isCdkKey(key: string): boolean {
  return key.startsWith('@') || key.includes(':');
}

export const KNOWN_CONTEXT_KEYS: readonly string[] = [...CONTEXT_SETTINGS, ...(Object.keys(INFRA_SCHEMA) as InfraKey[])];

/**
 * Validates the whole context. Throws ConfigError naming the first bad key and the form it expects.
 * `context` is `app.node.getAllContext()` (cdk.json merged with `-c` values); `api` is the deployment's API, whose
 * scope catalog `anonymousScopes` is checked against (default: Gatehouse's own, lambdas/routes.ts).
 */
export function readConfig(context: Readonly<Record<string, unknown>>, api: Api = GATEHOUSE_API): GatehouseConfig {
  for (const [key, value] of Object.entries(context)) {
    if (value === undefined || isCdkKey(key)) continue;
    if (key in COMPUTED_SETTINGS) throw new ConfigError(key, `no value: it cannot be configured (${COMPUTED_SETTINGS[key as ComputedSetting]})`);
    const fixed = FIXED_SETTINGS[key];
    if (fixed !== undefined) throw new ConfigError(key, `no value: it cannot be configured (${fixed})`);
    if (!KNOWN_CONTEXT_KEYS.includes(key)) {
      throw new ConfigError(key, `no such key; known keys are ${[...KNOWN_CONTEXT_KEYS].sort().join(', ')}`);
    }
  }

  const read = {} as Pick<SettingsValues, ContextSettingName>;
  for (const name of CONTEXT_SETTINGS) {
    try {
      Object.assign(read, readSettings([name], context, 'context'));
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      // A schema that throws instead of reporting (e.g. a refinement calling new URL on a non-URL) still names the key.
      throw new ConfigError(name, `${SETTINGS[name].expected} (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  assertDeployableIssuers(read.oidcIssuers);
  // API Gateway's cache only in enforce mode, and both caches within the revocation window (gateway-cache.ts).
  checkGatewayCacheSettings(read, 'context');
  // Undeclared or credential scopes for the anonymous principal fail synthesis, not a cold start.
  const settings: ContextSettings = { ...read, anonymousScopes: resolveAnonymousScopes(read.anonymousScopes, api.scopes, 'context') };

  const infra: Partial<Record<InfraKey, unknown>> = {};
  for (const key of Object.keys(INFRA_SCHEMA) as InfraKey[]) {
    const def = INFRA_SCHEMA[key];
    const raw = context[key];
    const result = def.schema.safeParse(raw === '' ? undefined : parseJsonString(raw));
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` (at ${issue.path.join('.')}: ${issue.message})` : issue ? ` (${issue.message})` : '';
      throw new ConfigError(key, def.expected + where);
    }
    infra[key] = result.data;
  }
  checkInfra(infra as InfraValues);
  // Certificate principals: declared, non-credential scopes (fails synthesis, not a cold start), and a domain that
  // asks for client certificates (without mutual TLS no request would ever carry one).
  resolveClientCertificates(read.clientCertificates, api.scopes, 'clientCertificates');
  if (read.clientCertificates !== null && !(infra as InfraValues).customDomain?.mtls) {
    throw new ConfigError('clientCertificates', 'a customDomain with mtls beside it: only a mutual-TLS domain hands the authorizer client certificates');
  }

  const raw: Partial<Record<ContextSettingName, unknown>> = {};
  for (const name of CONTEXT_SETTINGS) if (context[name] !== undefined && context[name] !== '') raw[name] = context[name];

  return { settings, raw, infra: infra as InfraValues };
}

/** The rules between deployment keys that no single schema can state. */
function checkInfra(infra: InfraValues): void {
  const zones = infra.availabilityZones;
  if (zones) {
    if (infra.profile === 'dev' && zones.length !== 1) {
      throw new ConfigError('availabilityZones', `exactly 1 Availability Zone ID with profile dev (got ${zones.length}): dev runs the VPC in one AZ`);
    }
    if (infra.profile === 'prod' && zones.length < 2) {
      throw new ConfigError('availabilityZones', `at least 2 Availability Zone IDs with profile prod (got ${zones.length}), or profile dev for one`);
    }
  }
  if (infra.domainPrefix === undefined && RESERVED_DOMAIN_WORDS.test(infra.stackPrefix.toLowerCase())) {
    throw new ConfigError(
      'domainPrefix',
      `a Cognito domain prefix of your own: the default ${infra.stackPrefix.toLowerCase()}-<account id> would contain a word Cognito reserves (aws, amazon or cognito)`,
    );
  }
}

/** The Cognito managed-login domain prefix: the configured one, or <stackPrefix, lower case>-<account id>. */
export function cognitoDomainPrefix(infra: Pick<InfraValues, 'domainPrefix' | 'stackPrefix'>): string {
  return infra.domainPrefix ?? `${infra.stackPrefix.toLowerCase()}-${Aws.ACCOUNT_ID}`;
}

/** An OIDC issuer as configured (settings.ts `oidcIssuers`; defaults filled in when read). */
export interface OidcIssuerInput {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audience?: readonly string[] | null;
  readonly clientIds?: readonly string[] | null;
  readonly tokenUse?: 'access' | 'id' | 'any';
  readonly scopeClaim?: string;
  readonly groupsClaim?: string;
  readonly tenantClaim?: string;
  readonly tenantPrefix?: string;
  readonly scopePrefix?: string;
}

/**
 * The construct library's configuration, in the form `cdk.json` context takes it: the same keys, the same
 * validation, the same defaults (lambdas/core/settings.ts for the settings the functions share, {@link INFRA_SCHEMA}
 * for the rest). Every key is optional.
 */
export type GatehouseConfigInput = { readonly [K in Exclude<ContextSettingName, 'oidcIssuers'>]?: z.input<(typeof SETTINGS)[K]['schema']> } & {
  readonly [K in InfraKey]?: z.input<InfraSchema[K]['schema']>;
} & {
  readonly oidcIssuers?: readonly OidcIssuerInput[];
};

/**
 * The configuration a team's app gives the Gatehouse constructs (one object, shared by all of them): validated
 * exactly like `cdk.json` context. Throws ConfigError naming the first bad key. Pass the app when `anonymousScopes`
 * names its own scopes (they are checked against its catalog; default: Gatehouse's own).
 *
 * @example gatehouseConfig({ corsOrigins: ['https://app.example.com'], authMode: 'enforce' })
 */
export function gatehouseConfig(input: GatehouseConfigInput = {}, app?: { readonly api: Api }): GatehouseConfig {
  return readConfig(input, app?.api);
}

/**
 * The anonymous principal's scopes (audit and off modes) in the deployment of `api`: the configured list, checked
 * against `api`'s catalog, or — when none is configured — `api`'s declared default. (A config read against another
 * catalog, e.g. gatehouseConfig() without the app, still yields the app's own default.)
 */
export function anonymousScopesFor(config: GatehouseConfig, api: Api): readonly string[] {
  const configured = config.raw.anonymousScopes !== undefined ? [...config.settings.anonymousScopes] : null;
  return resolveAnonymousScopes(configured, api.scopes, 'context');
}

/** A deployed authorizer has no loopback: a JWKS must be reachable from AWS over https. */
export function assertDeployableIssuers(issuers: readonly { readonly jwksUri: string }[]): void {
  issuers.forEach((issuer, i) => {
    if (!issuer.jwksUri.startsWith('https://')) {
      throw new ConfigError('oidcIssuers', `https JWKS URIs in a deployment (at ${i}.jwksUri: loopback http is for the local stack only)`);
    }
  });
}

/** `-c callbackUrls='["…"]'` arrives as a string: accept JSON text where the schema wants an array. */
function parseJsonString(value: unknown): unknown {
  if (typeof value !== 'string' || !value.trimStart().startsWith('[')) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** CloudWatch's RetentionDays enum values are the day counts themselves. */
export function retention(days: InfraValues['logRetentionDays']): RetentionDays {
  return days;
}
