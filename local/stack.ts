/**
 * The local stack (CONTRACT §7): the same authorizer and handler code as in Lambda, behind the local REST
 * gateway, with embedded DynamoDB (dynalite) and a local OIDC provider — one process, no cloud account.
 *
 * `startLocalStack(options)` is used by `local/main.ts` (`npm start`) and by the tests. Configuration comes from
 * the same environment variables, with the same validation, as the Lambda functions (`readSettings`); the local
 * stack only fills in what a laptop lacks: a table name, a pepper, test keys, and its own OIDC issuer.
 *
 * What it serves is an app (lambdas/app.ts): Gatehouse's own by default, or a team's declaration — its routes and
 * scopes, its Lambda and HTTP targets, Gatehouse's routes mounted beside them. Everything derives from the app's
 * API: the handler groups its routes name, the gateway's routes, the OpenAPI document, the authorizer's catalog and
 * the scopes the local OIDC provider offers.
 */
import { generateKeyPair, randomUUID, type JsonWebKey } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '@aws-lambda-powertools/logger';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import dynalite from 'dynalite';
import { CONSOLE_GROUP, consolePathOf } from '../lambdas/api/console/config.js';
import { CONSOLE_SIGN_IN_ENV, type ConsoleSignIn } from '../lambdas/api/console/sign-in.js';
import { bundleValues, type DeploymentValues, type HandlerGroup } from '../lambdas/api/group.js';
import { loadHandlerGroups } from '../lambdas/api/groups.js';
import { API_SETTINGS, createServices, type ApiSettings, type Services } from '../lambdas/api/services.js';
import { GATEHOUSE_APP, type GatehouseApp } from '../lambdas/app.js';
import { createAuthorizer } from '../lambdas/authorizer/authorizer.js';
import { createBookkeeper } from '../lambdas/bookkeeper/bookkeeper.js';
import { BOOKKEEPER } from '../lambdas/bookkeeper/definition.js';
import { AuditStore } from '../lambdas/core/audit-store.js';
import { createEmfMetrics, deploymentName } from '../lambdas/core/metrics.js';
import { UsageStore } from '../lambdas/core/usage-store.js';
import { AUTHORIZER_SETTINGS, buildAuthorizerDeps, createDocumentClient, errorSummary, planCatalogOf } from '../lambdas/authorizer/wiring.js';
import { usageKeysFor } from '../lambdas/core/plans.js';
import { ensureAdminKey } from '../lambdas/core/bootstrap.js';
import { ConfigError } from '../lambdas/core/errors.js';
import { authorizerCachingOf, checkGatewayCacheSettings, gatewayResponsesFor } from '../lambdas/core/gateway-cache.js';
import { createLogger } from '../lambdas/core/logger.js';
import { StaticPepperSource } from '../lambdas/core/pepper.js';
import { readSettings, type SettingsValues } from '../lambdas/core/settings.js';
import { createTableInput } from '../lambdas/core/table.js';
import { createBookkeepingFeed } from './bookkeeping-feed.js';
import { isUnauthorized } from './gateway/authorizer-result.js';
import type { ApiCoordinates } from './gateway/events.js';
import { createLocalGateway, type AccessLogEntry, type GatewaySettings, type LambdaFunction, type LocalIamUser } from './gateway/gateway.js';
import { startLocalOidc, type LocalOidc, type LocalOidcOptions } from './oidc/provider.js';
import { EmfCollector, LOCAL_METRICS_PATH, type MetricsView } from './metrics-view.js';
import { loadTargets } from './targets.js';
import { prepareLocalTls, serverTlsOptions, type LocalTls, type LocalTlsMode } from './tls/material.js';
import {
  DYNAMODB_DIR,
  ensureStateDir,
  generateIamKey,
  generatePepper,
  LOCAL_JSON,
  readPersistedState,
  readPreviousAdminKey,
  STATE_JSON,
  stateDirOf,
  writeSecretJson,
  type LocalConfig,
  type PersistedState,
} from './state.js';

/** Where the local REST API "is" in ARNs and request contexts. */
export const LOCAL_API: ApiCoordinates = { region: 'us-east-1', accountId: '000000000000', apiId: 'gatehouse', stage: 'local' };
export const LOCAL_IAM_USER_NAME = 'gatehouse-local';
export const DEFAULT_PORT = 3000;
export const DEFAULT_TABLE_NAME = 'gatehouse-local';

const GATEWAY_SETTINGS = [
  'rateLimitPerIp',
  'rateLimitPerCredential',
  'rateLimitWindowSeconds',
  'throttleRateLimit',
  'throttleBurstLimit',
  'corsOrigins',
  'gatewayCacheTtlSeconds',
  'revocationWindowSeconds',
] as const;
const LOCAL_SETTINGS = [...new Set([...AUTHORIZER_SETTINGS, ...API_SETTINGS, ...GATEWAY_SETTINGS])];
type LocalSettings = Pick<SettingsValues, (typeof AUTHORIZER_SETTINGS)[number] | (typeof API_SETTINGS)[number] | (typeof GATEWAY_SETTINGS)[number]>;

type LogLevel = Parameters<Logger['setLogLevel']>[0];
type Env = Readonly<Record<string, string | undefined>>;

export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is already in use — stop whatever is using it, or pick another port: PORT=${port + 1} npm start`);
    this.name = 'PortInUseError';
  }
}

/** Test hooks: wrap the real authorizer or handlers to make them misbehave on purpose (conformance tests). */
export interface LocalStackIntercepts {
  readonly authorizer?: (event: APIGatewayRequestAuthorizerEvent, real: () => Promise<unknown>) => Promise<unknown>;
  /** Every Lambda integration: Gatehouse's handler groups and a team's Lambda targets, by handler name. */
  readonly handler?: (group: string, event: APIGatewayProxyEvent, context: Context, real: () => Promise<unknown>) => Promise<unknown>;
}

export interface LocalStackOptions {
  /** What to serve (default {@link GATEHOUSE_APP}: Gatehouse's own routes at the root). */
  readonly app?: GatehouseApp;
  /** The app declaration's folder: relative Lambda target entries are resolved against it (default the working directory). */
  readonly baseDir?: string;
  /** Handler groups given as objects instead of their folders (a test's fixture group, an embedder's own). */
  readonly groups?: readonly HandlerGroup[];
  /** Default: PORT from the environment, else 3000. 0 picks a free port. */
  readonly port?: number;
  /** Interface to listen on (default 127.0.0.1: loopback only, the stack holds an admin key). */
  readonly host?: string;
  /** Default process.env. */
  readonly env?: Env;
  /** Keep DynamoDB data, the pepper, passwords and keys in the state directory across restarts. */
  readonly persist?: boolean;
  /** Default GATEHOUSE_STATE_DIR, else `.gatehouse` in the working directory. */
  readonly stateDir?: string;
  /** Powertools log level of the functions (default POWERTOOLS_LOG_LEVEL, else WARN). */
  readonly logLevel?: LogLevel;
  /** API Gateway authorizer result cache (default GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: 0, off, as deployed by default). */
  readonly authorizerCacheTtlSeconds?: number;
  readonly identitySources?: readonly string[];
  readonly integrationTimeoutMs?: number;
  readonly binaryMediaTypes?: readonly string[];
  readonly intercept?: LocalStackIntercepts;
  readonly onRequest?: (entry: AccessLogEntry) => void;
  /** Also print every EMF document the functions write, one line each on stdout (`npm start -- --metrics`). */
  readonly printMetrics?: boolean;
  /** Lifetime of the local OIDC provider's access and ID tokens (default 3600; tests shorten it to see refreshes). */
  readonly accessTokenTtlSeconds?: number;
  /** Serve over HTTPS with a local CA (`https`), and also require client certificates it issued (`mtls`). */
  readonly tls?: LocalTlsMode;
}

export interface LocalStack {
  /** What it serves. */
  readonly app: GatehouseApp;
  readonly apiUrl: string;
  /** The browser console's URL, when the app serves it. */
  readonly consoleUrl?: string;
  /** What was written to local.json. */
  readonly config: LocalConfig;
  readonly stateDir: string;
  readonly configPath: string;
  readonly persisted: boolean;
  readonly settings: LocalSettings;
  /** The local CA and this run's certificates, with `tls`. */
  readonly tls?: LocalTls;
  /** Every listening endpoint the stack opened (all closed by close()). */
  readonly endpoints: { readonly api: string; readonly oidc: string; readonly dynamodb: string };
  /** Things the banner should say (ignored variables, modes). */
  readonly warnings: readonly string[];
  readonly startupMs: number;
  /** What `GET /_local/metrics` answers: every EMF document the functions wrote, aggregated. */
  metrics(): MetricsView;
  /** Hands the authorizer's queued bookkeeping lines to the bookkeeper now and waits (tests). */
  drainBookkeeping(): Promise<void>;
  /** Stops everything; nothing is left listening. Safe to call twice. */
  close(): Promise<void>;
}

const generateRsa = promisify(generateKeyPair);

export function portFromEnv(env: Env): number {
  const raw = env.PORT;
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new ConfigError('PORT', 'an integer from 0 to 65535');
  return port;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port) : error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function urlHost(host: string): string {
  if (host === '127.0.0.1' || host === '0.0.0.0' || host === '::' || host === 'localhost') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
  }
  await client.send(new CreateTableCommand(createTableInput(tableName)));
}

/** The provider on its previous port when that is free (a stable issuer keeps earlier tokens valid), else any port. */
async function startOidc(options: LocalOidcOptions, previousPort: number | undefined, warnings: string[]): Promise<LocalOidc> {
  if (previousPort === undefined) return startLocalOidc(options);
  try {
    return await startLocalOidc({ ...options, port: previousPort });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    warnings.push(`The OIDC provider's previous port ${previousPort} is taken: its issuer changed, so tokens issued before are refused.`);
    return startLocalOidc(options);
  }
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const started = Date.now();
  const env: Env = options.env ?? process.env;
  const port = options.port ?? portFromEnv(env);
  const host = options.host ?? '127.0.0.1';
  const persist = options.persist ?? false;
  const stateDir = options.stateDir ?? stateDirOf(env);
  const warnings: string[] = [];
  const logLevel = (options.logLevel ?? env.POWERTOOLS_LOG_LEVEL ?? 'WARN') as LogLevel;
  const app = options.app ?? GATEHOUSE_APP;
  const { api } = app;

  // --- State and settings (fail on bad configuration before opening anything) ---------------------------
  const previous = persist ? await readPersistedState(stateDir) : undefined;
  const pepper = env.GATEHOUSE_LOCAL_PEPPER || previous?.pepper || generatePepper();
  if (previous && env.GATEHOUSE_LOCAL_PEPPER && env.GATEHOUSE_LOCAL_PEPPER !== previous.pepper) {
    warnings.push('GATEHOUSE_LOCAL_PEPPER differs from the persisted pepper: API keys created before no longer verify.');
  }
  if (env.GATEHOUSE_PEPPER_SECRET_ID) warnings.push('GATEHOUSE_PEPPER_SECRET_ID is ignored locally (the local stack uses GATEHOUSE_LOCAL_PEPPER).');
  const settings: LocalSettings = readSettings(LOCAL_SETTINGS, {
    ...env,
    GATEHOUSE_KEY_ENV: env.GATEHOUSE_KEY_ENV || 'test',
    GATEHOUSE_TABLE_NAME: env.GATEHOUSE_TABLE_NAME || DEFAULT_TABLE_NAME,
    GATEHOUSE_LOCAL_PEPPER: pepper,
    GATEHOUSE_PEPPER_SECRET_ID: undefined,
  });
  // Plans that limit anything need the usage keys the gateway's usage plans know (CDK derives them from the stack;
  // here they are new at every start: nothing outside this process holds them).
  const usageKeys = settings.usageKeys ?? (planCatalogOf(settings.plans).limitsAnything ? usageKeysFor(randomUUID()) : null);
  // API Gateway's cache only in enforce mode, and both caches within the revocation window, as at synth.
  checkGatewayCacheSettings(settings);
  const caching = authorizerCachingOf(settings);
  if (caching.ttlSeconds > 0) {
    warnings.push(
      `GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS=${caching.ttlSeconds}: the gateway caches authorizer answers by the Authorization header; ` +
        'X-API-Key alone is refused (401), and cached requests skip the authorizer (no usage counted).',
    );
  }
  if (settings.authMode !== 'enforce') {
    warnings.push(
      settings.authMode === 'off'
        ? 'GATEHOUSE_AUTH_MODE=off: NO credential is checked; every caller is anonymous.'
        : 'GATEHOUSE_AUTH_MODE=audit: requests without a valid credential are served as anonymous (and recorded).',
    );
  }
  if (settings.clientCertificates !== null && options.tls !== 'mtls') {
    warnings.push('GATEHOUSE_CLIENT_CERTIFICATES is set, but without --mtls no request carries a client certificate: its principals are never used.');
  }
  // The app's code: its handler groups (found by the routes' handler names) and its own targets. A missing folder,
  // entry file or export fails here, before anything listens.
  const groups = await loadHandlerGroups(api, { ...(options.groups ? { groups: options.groups } : {}), targets: Object.keys(app.targets) });
  const targets = await loadTargets(app.targets, options.baseDir ?? process.cwd());
  warnings.push(...targets.warnings);
  // What CDK would bundle into each group's function (its bundle hook: the OpenAPI document, the console's files).
  const bundles = new Map([...groups].map(([name, group]) => [name, bundleValues(group, { api, groups, title: app.title })]));
  const consolePath = groups.has(CONSOLE_GROUP) ? consolePathOf(api) : undefined;
  await ensureStateDir(stateDir);
  const tls = options.tls ? await prepareLocalTls(stateDir, options.tls, persist) : undefined;
  const tableName = settings.tableName ?? DEFAULT_TABLE_NAME;
  const iamKey = previous?.iam ?? generateIamKey();
  const iamUser: LocalIamUser = {
    region: LOCAL_API.region,
    accessKeyId: iamKey.accessKeyId,
    secretAccessKey: iamKey.secretAccessKey,
    accountId: LOCAL_API.accountId,
    userId: iamKey.userId,
    userArn: `arn:aws:iam::${LOCAL_API.accountId}:user/${LOCAL_IAM_USER_NAME}`,
  };

  // The OIDC signing key (RSA-2048) is generated on the thread pool while the rest starts.
  const signingKeyReady: Promise<JsonWebKey> = previous
    ? Promise.resolve(previous.signingKey)
    : generateRsa('rsa', { modulusLength: 2048 }).then(({ privateKey }) => privateKey.export({ format: 'jwk' }));
  signingKeyReady.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile

  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
  };

  try {
    // --- The gateway's port first: a port in use fails at once, before anything else starts ---------------
    let gatewayListener: RequestListener = (_req, res) => {
      res.writeHead(503).end();
    };
    const onRequest: RequestListener = (req, res) => gatewayListener(req, res);
    const server: Server = tls ? createHttpsServer(serverTlsOptions(tls), onRequest) : createServer(onRequest);
    const apiPort = await listen(server, port, host);
    cleanups.push(() => closeServer(server));
    const scheme = tls ? 'https' : 'http';
    const apiUrl = `${scheme}://${urlHost(host)}:${apiPort}`;
    const consoleUrl = consolePath === undefined ? undefined : `${apiUrl}${consolePath}`;

    // --- DynamoDB (dynalite) and the OIDC provider, side by side ------------------------------------------
    const dynamoServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(persist ? { path: join(stateDir, DYNAMODB_DIR) } : {}) });
    const signingKey: JsonWebKey = await signingKeyReady;
    const oidcOptions: LocalOidcOptions = {
      ...(previous
        ? {
            users: previous.users,
            machineClient: previous.machineClient,
            loginClient: { clientId: previous.loginClient.clientId },
          }
        : {}),
      signingKey,
      // The resource server offers every scope the app declares; the machine client may ask for any of them.
      scopes: [...api.scopes.all],
      // The console's own client, as in AWS: its page is its redirect and sign-out URI, by either loopback name.
      ...(consoleUrl === undefined
        ? {}
        : {
            consoleClient: {
              ...(previous?.consoleClient ? { clientId: previous.consoleClient.clientId } : {}),
              redirectUris: [...new Set([consoleUrl, `${scheme}://127.0.0.1:${apiPort}${consolePath}`])],
            },
          }),
      ...(options.accessTokenTtlSeconds === undefined ? {} : { accessTokenTtlSeconds: options.accessTokenTtlSeconds }),
    };
    const [dynamoPort, oidc] = await Promise.all([
      listen(dynamoServer, 0, '127.0.0.1').then((p) => {
        cleanups.push(() => closeServer(dynamoServer));
        return p;
      }),
      startOidc(oidcOptions, previous?.oidcPort, warnings).then((o: LocalOidc) => {
        cleanups.push(() => o.close());
        return o;
      }),
    ]);
    const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
    const dynamoClient = new DynamoDBClient({
      endpoint: dynamoEndpoint,
      region: LOCAL_API.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 2,
    });
    cleanups.push(() => Promise.resolve(dynamoClient.destroy()));
    try {
      await ensureTable(dynamoClient, tableName);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(
        /lock/i.test(message) ? `the state directory ${stateDir} is in use by another local stack (${message})` : `DynamoDB (dynalite) failed: ${message}`,
        { cause: error },
      );
    }
    const doc = createDocumentClient(dynamoClient);
    const pepperSource = new StaticPepperSource(pepper);

    // --- Metrics: every function writes its EMF documents here instead of stdout (GET /_local/metrics) --------
    const collector = new EmfCollector(options.printMetrics ?? false);
    const deployment = deploymentName(env);
    const metricsFor = (service: string) => createEmfMetrics({ service, deployment, write: collector.write });

    // --- The bookkeeper, fed the authorizer's bookkeeping lines in batches, as CloudWatch Logs feeds it ----------
    const bookkeeperLogger = createLogger(BOOKKEEPER.service);
    bookkeeperLogger.setLogLevel(logLevel);
    const bookkeeperMetrics = metricsFor(BOOKKEEPER.service);
    const bookkeeper = createBookkeeper({
      usage: new UsageStore(doc, tableName),
      audit: new AuditStore(doc, tableName, { retentionDays: settings.auditRetentionDays }),
      log: bookkeeperLogger,
      metrics: bookkeeperMetrics,
    });
    const feed = createBookkeepingFeed({ bookkeeper, log: bookkeeperLogger, afterBatch: () => bookkeeperMetrics.flush() });
    // Runs before DynamoDB stops (cleanups run in reverse): the last lines are stored.
    cleanups.push(() => feed.close());

    // --- The authorizer, wired exactly as in Lambda (wiring.ts), plus the local OIDC issuer ---------------
    // Its tokens carry Cognito-style `<resourceServerId>/<scope>` scopes; only that prefix counts (scopes.ts).
    const [localIssuer] = readSettings(['oidcIssuers'], {
      GATEHOUSE_OIDC_ISSUERS: JSON.stringify([
        {
          issuer: oidc.issuer,
          jwksUri: oidc.jwksUri,
          audience: null,
          clientIds: [oidc.machineClient.clientId, oidc.loginClient.clientId, ...(oidc.consoleClient ? [oidc.consoleClient.clientId] : [])],
          tokenUse: 'access',
          scopePrefix: `${oidc.resourceServerId}/`,
        },
      ]),
    }).oidcIssuers;
    const authorizerLogger = createLogger('gatehouse-authorizer');
    authorizerLogger.setLogLevel(logLevel);
    const authorizerMetrics = metricsFor('gatehouse-authorizer');
    const deps = buildAuthorizerDeps(
      { ...settings, usageKeys, oidcIssuers: [...settings.oidcIssuers, ...(localIssuer ? [localIssuer] : [])] },
      authorizerLogger,
      { api, dynamo: doc, pepperSource, bookkeeping: feed.write, metrics: authorizerMetrics },
    );
    void deps.recording.trackMode();
    const decide = createAuthorizer(deps);
    // What handler.ts does around the decision: `Unauthorized` passes through, anything else is a failure.
    const authorizerFunction = async (event: APIGatewayRequestAuthorizerEvent): Promise<unknown> => {
      try {
        return await decide(event);
      } catch (error) {
        if (isUnauthorized(error)) throw error;
        authorizerLogger.error('authorizer failed; request denied', { error: errorSummary(error) });
        throw new Error('AuthorizerFailure', { cause: error });
      }
    };

    // --- The handlers: one set of services per function, as in Lambda --------------------------------------
    const apiSettings = Object.fromEntries(API_SETTINGS.map((name) => [name, settings[name]])) as unknown as ApiSettings;
    const servicesFor = (name: string): Services => {
      const logger = createLogger(`gatehouse-${name}`);
      logger.setLogLevel(logLevel);
      return createServices(apiSettings, `gatehouse-${name}`, { api, doc, pepperSource, logger, metrics: metricsFor(`gatehouse-${name}`) });
    };
    // What the console function's environment holds in AWS: how its page signs people in (here, at the local provider).
    const consoleSignIn: ConsoleSignIn | undefined = oidc.consoleClient && {
      kind: 'oidc',
      authorizationEndpoint: oidc.authorizationEndpoint,
      tokenEndpoint: oidc.tokenEndpoint,
      logoutEndpoint: oidc.endSessionEndpoint,
      clientId: oidc.consoleClient.clientId,
      scopes: ['openid', ...api.scopes.forGroups(api.scopes.groups).map((s) => `${oidc.resourceServerId}/${s}`)],
    };
    const valuesFor = (name: string): DeploymentValues => ({
      ...bundles.get(name),
      ...(name === CONSOLE_GROUP && consoleSignIn ? { [CONSOLE_SIGN_IN_ENV]: JSON.stringify(consoleSignIn) } : {}),
    });
    const intercept = options.intercept;
    const intercepted = (name: string, real: LambdaFunction<APIGatewayProxyEvent>): LambdaFunction<APIGatewayProxyEvent> =>
      intercept?.handler ? (event, context) => intercept.handler!(name, event, context, () => real(event, context)) : real;
    const handlers: Record<string, LambdaFunction<APIGatewayProxyEvent>> = {};
    for (const [name, group] of groups) handlers[name] = intercepted(name, group.create(servicesFor(name), valuesFor(name)));
    for (const [name, fn] of Object.entries(targets.functions)) handlers[name] = intercepted(name, fn);

    // --- The bootstrap admin key (kept across restarts with --persist) --------------------------------------
    const bootstrapServices = servicesFor('bootstrap');
    const previousAdminKey = persist ? await readPreviousAdminKey(stateDir) : undefined;
    const admin = await ensureAdminKey(
      { store: bootstrapServices.keys, peppers: bootstrapServices.peppers, environment: settings.keyEnvironment, scopes: api.scopes },
      previousAdminKey,
    );

    // --- The gateway ------------------------------------------------------------------------------------------
    const gatewaySettings: GatewaySettings = settings;
    const gateway = createLocalGateway({
      api: LOCAL_API,
      settings: gatewaySettings,
      authorizer: intercept?.authorizer ? (event) => intercept.authorizer!(event, () => authorizerFunction(event)) : authorizerFunction,
      // The end of the authorizer's invocation: its metrics are flushed, as handler.ts does.
      afterAuthorizer: () => authorizerMetrics.flush(),
      routes: api.routes,
      handlers,
      httpTargets: targets.http,
      iam: iamUser,
      ...(usageKeys ? { usagePlanKeys: [usageKeys.open] } : {}),
      // Gateway cache mode from the settings, as CDK deploys it; explicit options (conformance tests) win.
      authorizerCacheTtlSeconds: options.authorizerCacheTtlSeconds ?? caching.ttlSeconds,
      ...(options.identitySources ? { identitySources: options.identitySources } : caching.ttlSeconds > 0 ? { identitySources: caching.identitySources } : {}),
      responses: gatewayResponsesFor(caching),
      ...(options.integrationTimeoutMs === undefined ? {} : { integrationTimeoutMs: options.integrationTimeoutMs }),
      ...(options.binaryMediaTypes ? { binaryMediaTypes: options.binaryMediaTypes } : {}),
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    });
    // A local-only route beside the API (not in the route table, never deployed): the metrics CloudWatch would show.
    gatewayListener = (req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== LOCAL_METRICS_PATH) {
        gateway.listener(req, res);
        return;
      }
      if (req.method !== 'GET') {
        res.writeHead(405, { Allow: 'GET', 'Content-Type': 'application/json' }).end(JSON.stringify({ message: 'GET only' }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(collector.view()));
    };

    // --- local.json (and the persisted state) ------------------------------------------------------------
    const config: LocalConfig = {
      apiUrl,
      adminKey: admin.key,
      oidc: {
        issuer: oidc.issuer,
        tokenEndpoint: oidc.tokenEndpoint,
        authorizationEndpoint: oidc.authorizationEndpoint,
        machineClient: { clientId: oidc.machineClient.clientId, clientSecret: oidc.machineClient.clientSecret, scopes: [...oidc.machineClient.scopes] },
        loginClient: { clientId: oidc.loginClient.clientId, redirectUris: [...oidc.loginClient.redirectUris] },
        users: oidc.users.map(({ username, password, groups }) => ({ username, password, groups: [...groups] })),
      },
      iam: { region: iamUser.region, accessKeyId: iamUser.accessKeyId, secretAccessKey: iamUser.secretAccessKey },
      ...(tls
        ? {
            tls: {
              mode: tls.mode,
              ca: tls.files.ca,
              ...(tls.client && tls.files.client && tls.files.clientKey
                ? { clientCertificate: { cert: tls.files.client, key: tls.files.clientKey, subject: tls.client.subject, issuer: tls.ca.subject, sha256: tls.client.sha256 } }
                : {}),
            },
          }
        : {}),
    };
    if (persist) {
      const state: PersistedState = {
        version: 1,
        pepper,
        signingKey,
        users: oidc.users.map(({ username, password, groups, sub }) => ({ username, password, groups: [...groups], sub })),
        machineClient: { clientId: oidc.machineClient.clientId, clientSecret: oidc.machineClient.clientSecret },
        loginClient: { clientId: oidc.loginClient.clientId },
        ...(oidc.consoleClient ? { consoleClient: { clientId: oidc.consoleClient.clientId } } : {}),
        iam: iamKey,
        oidcPort: Number(new URL(oidc.issuer).port),
      };
      await writeSecretJson(join(stateDir, STATE_JSON), state);
    }
    const configPath = join(stateDir, LOCAL_JSON);
    await writeSecretJson(configPath, config);

    gateway.markReady();

    let closing: Promise<void> | undefined;
    return {
      app,
      apiUrl,
      ...(consoleUrl === undefined ? {} : { consoleUrl }),
      config,
      stateDir,
      configPath,
      persisted: persist,
      settings,
      ...(tls ? { tls } : {}),
      endpoints: { api: apiUrl, oidc: oidc.issuer, dynamodb: dynamoEndpoint },
      warnings,
      startupMs: Date.now() - started,
      metrics: () => collector.view(),
      drainBookkeeping: () => feed.drain(),
      // Stop accepting requests first, then flush the authorizer's bookkeeping, then stop the services.
      close: () => (closing ??= closeServer(server).then(cleanup)),
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
