/**
 * `gatehouse`: the command line for Gatehouse. `main(argv, io)` runs one command and resolves to the exit code; it
 * never calls process.exit and writes only through `io`, so tests run it in-process. `bin/gatehouse.js` is the
 * executable around it.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

import { ALL_SCOPES } from '../lambdas/routes.js';
import { isScopeName, type Scope } from '../lambdas/core/scopes.js';
import { apiKeyAuth, bearerAuth, type Authenticator } from './auth.js';
import { GatehouseClient, type RetryEvent } from './client.js';
import {
  COGNITO_DEFAULTS,
  ConfigurationError,
  DEFAULT_PROFILE,
  isCognitoIssuer,
  deleteTokens,
  loadProfile,
  loadTokens,
  saveProfile,
  saveTokens,
  tokenFile,
  type Env,
  type Profile,
  type SavedProfile,
  type StoredTokens,
} from './config.js';
import { GatehouseApiError, GatehouseClientError, GatehouseCredentialsError, GatehouseNetworkError, redactSecrets } from './errors.js';
import {
  buildAuthorizeUrl,
  createPkce,
  discoverEndpoints,
  exchangeCode,
  OidcError,
  randomState,
  RefreshingTokenProvider,
  refreshTokens,
  startLoopbackReceiver,
  usernameOf,
} from './oidc.js';
import type { CreatedKey, KeyView, Whoami } from './operations.js';
import type { RetryOptions } from './retry.js';
import { findRoute } from './routes.js';
import { sigv4Auth } from './sigv4.js';

export const EXIT = {
  OK: 0,
  /** Any other API error, or the API could not be reached. */
  ERROR: 1,
  /** Bad command line or configuration. */
  USAGE: 2,
  /** Authentication or permission failure (401, 403, no credential, login failed). */
  AUTH: 3,
  NOT_FOUND: 4,
  RATE_LIMITED: 5,
} as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Env;
  cwd: string;
  /** Opens a URL in the user's browser; default `open` (macOS), `xdg-open` (elsewhere), `start` (Windows). */
  openUrl: (url: string) => void;
  readStdin: () => Promise<string>;
  fetch?: typeof fetch;
  /** For tests: retry timing. */
  retry?: RetryOptions;
  now?: () => number;
}

const EPILOG = `
Profiles:
  --profile local     the local stack (reads .gatehouse/local.json, or $GATEHOUSE_STATE_DIR/local.json)
  --profile NAME      saved with \`gatehouse configure --profile NAME --api-url … --issuer … --client-id …\`
  default profile     $GATEHOUSE_PROFILE, else "default"

Credentials (first that applies):
  --api-key KEY, then $GATEHOUSE_API_KEY, then the tokens of \`gatehouse login\`,
  then (profile local) the local stack's admin key. IAM routes (POST /v1/verify) and --sigv4 sign with
  SigV4: the local stack's IAM user for --profile local, else the AWS credential chain (AWS_PROFILE, …).

Files:
  $GATEHOUSE_CONFIG_DIR, else $XDG_CONFIG_HOME/gatehouse, else ~/.config/gatehouse (mode 0700):
  config.json (profiles) and tokens/<profile>.json (login tokens), both mode 0600.

Exit codes:
  0  success
  1  API error (validation, conflict, server error) or the API could not be reached
  2  usage error (bad arguments, unknown profile, invalid configuration)
  3  authentication or permission failure (401, 403, no credential, login failed or expired)
  4  not found (404)
  5  rate limited (429): retry after the time printed

Examples:
  gatehouse --profile local login
  gatehouse --profile local keys create --name ci --scopes items:read,items:write
  GATEHOUSE_API_KEY=gth_… gatehouse --profile local call GET /v1/items
  gatehouse --profile local call POST /v1/verify --data '{"key":"gth_…"}' --sigv4
`;

interface ConfigureOptions {
  issuer?: string;
  clientId?: string;
  scopes?: string;
  oauthBaseUrl?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  tokenUse?: 'access' | 'id';
  callbackUrl?: string;
}

interface GlobalOptions {
  profile?: string;
  apiUrl?: string;
  apiKey?: string;
  region?: string;
  json?: boolean;
}

class UsageError extends GatehouseClientError {}

// -------------------------------------------------------------------------------------------------------------
// Defaults for io
// -------------------------------------------------------------------------------------------------------------

/** Starts the platform's URL opener detached; failures are ignored (the URL is always printed too). */
export function openInBrowser(url: string, env: Env = process.env): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url.replaceAll('&', '^&')]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore', env: { ...env } });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No opener: the printed URL is the way.
  }
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export function defaultIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    openUrl: (url) => openInBrowser(url),
    readStdin: readAllStdin,
  };
}

// -------------------------------------------------------------------------------------------------------------
// Helpers
// -------------------------------------------------------------------------------------------------------------

const line = (text = '') => `${text}\n`;

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

function fields(pairs: readonly (readonly [string, string | undefined])[]): string {
  const present = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined);
  const width = Math.max(...present.map(([k]) => k.length));
  return present.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}

function parseScopes(value: string, previous: Scope[] = []): Scope[] {
  const out = [...previous];
  for (const part of value.split(/[\s,]+/).filter(Boolean)) {
    // The API decides which scopes exist (a team's API declares its own); only the form is checked here.
    if (!isScopeName(part)) throw new InvalidArgumentError(`"${part}" is not a scope name (Gatehouse's own: ${ALL_SCOPES.join(', ')})`);
    if (!out.includes(part)) out.push(part);
  }
  return out;
}

function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

function parseHeader(value: string, previous: [string, string][] = []): [string, string][] {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new InvalidArgumentError('expected "Name: value"');
  return [...previous, [value.slice(0, colon).trim(), value.slice(colon + 1).trim()]];
}

function formatTime(iso: string | null | undefined): string {
  return iso ? iso.replace(/\.\d{3}Z$/, 'Z') : 'never';
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

// -------------------------------------------------------------------------------------------------------------
// The CLI
// -------------------------------------------------------------------------------------------------------------

class Cli {
  /** What the chosen credential is, for messages (`login tokens of alice`, `the local admin key`…). */
  private credentialLabel = 'no credential';

  constructor(readonly io: CliIo) {}

  out(text: string): void {
    this.io.stdout(text);
  }
  err(text: string): void {
    this.io.stderr(text);
  }

  globals(command: Command): GlobalOptions {
    return command.optsWithGlobals<GlobalOptions>();
  }

  profileName(g: GlobalOptions): string {
    return g.profile ?? this.io.env.GATEHOUSE_PROFILE ?? DEFAULT_PROFILE;
  }

  async profile(g: GlobalOptions): Promise<Profile> {
    const apiUrl = g.apiUrl ?? this.io.env.GATEHOUSE_API_URL;
    return loadProfile(this.io.env, this.io.cwd, this.profileName(g), {
      ...(apiUrl ? { apiUrl } : {}),
      ...(g.region ? { region: g.region } : {}),
    });
  }

  private tokenProvider(profile: Profile, tokens: StoredTokens): RefreshingTokenProvider {
    const fetchImpl = this.io.fetch;
    return new RefreshingTokenProvider({
      tokens,
      use: profile.oidc?.tokenUse ?? 'access',
      ...(this.io.now ? { now: this.io.now } : {}),
      refresh: (refreshToken) =>
        refreshTokens({ tokenEndpoint: tokens.tokenEndpoint, clientId: tokens.clientId }, refreshToken, {
          ...(fetchImpl ? { fetch: fetchImpl } : {}),
          ...(this.io.now ? { now: this.io.now } : {}),
        }),
      save: async (fresh) => {
        await saveTokens(this.io.env, profile.name, { ...tokens, ...fresh, username: usernameOf(fresh) ?? tokens.username });
      },
    });
  }

  /** The credential for key-or-JWT routes, by the documented precedence; undefined when there is none. */
  async credential(profile: Profile, g: GlobalOptions): Promise<Authenticator | undefined> {
    const flagKey = g.apiKey;
    if (flagKey !== undefined) {
      this.credentialLabel = 'the API key from --api-key';
      return apiKeyAuth(flagKey);
    }
    const envKey = this.io.env.GATEHOUSE_API_KEY;
    if (envKey) {
      this.credentialLabel = 'the API key from GATEHOUSE_API_KEY';
      return apiKeyAuth(envKey);
    }
    const tokens = await loadTokens(this.io.env, profile.name);
    if (tokens) {
      const current = profile.oidc;
      if (current && (tokens.issuer !== current.issuer || tokens.clientId !== current.clientId)) {
        this.err(
          line(
            `note: the stored login of profile ${profile.name} is for another issuer or client (${tokens.issuer}); ` +
              `it is ignored. Run \`gatehouse --profile ${profile.name} login\` again.`,
          ),
        );
      } else {
        this.credentialLabel = `the login of ${tokens.username ?? 'an unknown user'} (profile ${profile.name})`;
        return bearerAuth(this.tokenProvider(profile, tokens));
      }
    }
    if (profile.adminKey) {
      this.credentialLabel = 'the local stack\'s admin key';
      return apiKeyAuth(profile.adminKey);
    }
    this.credentialLabel = 'no credential';
    return undefined;
  }

  sigv4(profile: Profile): Authenticator {
    const region = profile.region ?? profile.iam?.region ?? this.io.env.AWS_REGION ?? this.io.env.AWS_DEFAULT_REGION;
    if (!region) throw new ConfigurationError(`SigV4 needs a region: pass --region, or save one with \`gatehouse configure --profile ${profile.name} --region …\`.`);
    if (profile.iam) {
      const { accessKeyId, secretAccessKey } = profile.iam;
      return sigv4Auth({ region, credentials: { accessKeyId, secretAccessKey } });
    }
    // The provider chain reads process.env itself; keys in this command's environment are used as the chain would.
    const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = this.io.env;
    if (accessKeyId && secretAccessKey) {
      return sigv4Auth({ region, credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } });
    }
    return sigv4Auth({ region });
  }

  client(profile: Profile, auth: Authenticator | undefined, iam?: Authenticator): GatehouseClient {
    return new GatehouseClient({
      baseUrl: profile.apiUrl,
      ...(auth ? { auth } : {}),
      ...(iam ? { iam } : {}),
      ...(this.io.fetch ? { fetch: this.io.fetch } : {}),
      ...(this.io.retry ? { retry: this.io.retry } : {}),
      ...(this.io.now ? { now: this.io.now } : {}),
      userAgent: `gatehouse-cli/0.1.0 node/${process.versions.node}`,
      onRetry: (event: RetryEvent) => {
        const why = /^\d+$/.test(event.reason) ? `answered ${event.reason}` : `failed (${event.reason})`;
        this.err(line(`${event.request.method} ${event.request.path} ${why}; retrying in ${(event.delayMs / 1000).toFixed(1)} s…`));
      },
    });
  }

  /** A client with the command's credential; fails (exit 3) when the command needs one and there is none. */
  async authedClient(command: Command): Promise<{ client: GatehouseClient; profile: Profile; g: GlobalOptions }> {
    const g = this.globals(command);
    const profile = await this.profile(g);
    const auth = await this.credential(profile, g);
    if (!auth) {
      throw new GatehouseCredentialsError(
        `No credential for profile ${profile.name}: run \`gatehouse --profile ${profile.name} login\`, pass --api-key, or set GATEHOUSE_API_KEY.`,
      );
    }
    return { client: this.client(profile, auth), profile, g };
  }

  json(value: unknown): void {
    this.out(line(JSON.stringify(value, null, 2)));
  }

  // --- login / logout / whoami / configure ------------------------------------------------------------------

  async login(command: Command, options: { browser: boolean; port?: number; timeout: number }): Promise<void> {
    const g = this.globals(command);
    const profile = await this.profile(g);
    if (!profile.oidc) {
      throw new ConfigurationError(
        `Profile ${profile.name} has no login settings: \`gatehouse configure --profile ${profile.name} --issuer URL --client-id ID\`.`,
      );
    }
    const fetchImpl = this.io.fetch ?? fetch;
    const endpoints =
      profile.oidc.authorizationEndpoint && profile.oidc.tokenEndpoint
        ? { authorizationEndpoint: profile.oidc.authorizationEndpoint, tokenEndpoint: profile.oidc.tokenEndpoint }
        : await discoverEndpoints(profile.oidc.issuer, fetchImpl);
    const config = { ...profile.oidc, ...endpoints };

    const state = randomState();
    const pkce = createPkce();
    const receiver = await startLoopbackReceiver({
      state,
      ...(profile.oidc.callbackUrl ? { redirectUri: profile.oidc.callbackUrl } : {}),
      ...(options.port === undefined ? {} : { port: options.port }),
      timeoutMs: options.timeout * 1000,
    });
    try {
      const url = buildAuthorizeUrl(config, { redirectUri: receiver.redirectUri, state, pkce }).href;
      const openBrowser = options.browser && !this.io.env.GATEHOUSE_NO_BROWSER;
      this.err(
        line(
          openBrowser
            ? `Opening your browser to sign in (profile ${profile.name}). If no browser opens, visit:`
            : `To sign in (profile ${profile.name}), open this URL in a browser:`,
        ) +
          line() +
          line(`  ${url}`) +
          line() +
          line(`Waiting for the sign-in to finish (up to ${formatDuration(options.timeout * 1000)}; Ctrl-C cancels)…`),
      );
      if (openBrowser) this.io.openUrl(url);
      const code = await receiver.code;
      const tokens = await exchangeCode(config, { code, redirectUri: receiver.redirectUri, verifier: pkce.verifier }, {
        fetch: fetchImpl,
        ...(this.io.now ? { now: this.io.now } : {}),
      });
      const username = usernameOf(tokens);
      const file = await saveTokens(this.io.env, profile.name, {
        issuer: config.issuer,
        clientId: config.clientId,
        tokenEndpoint: config.tokenEndpoint,
        ...tokens,
        ...(username ? { username } : {}),
      });
      if (g.json) {
        this.json({ profile: profile.name, username: username ?? null, expiresAt: new Date(tokens.expiresAt).toISOString(), tokenFile: file });
      } else {
        const now = (this.io.now ?? Date.now)();
        this.out(line(`Logged in as ${username ?? 'unknown user'} (profile ${profile.name}).`));
        this.err(
          line(
            `Tokens saved to ${file} (mode 0600); the access token expires in ${formatDuration(tokens.expiresAt - now)}` +
              (tokens.refreshToken ? ' and is refreshed automatically.' : '; log in again then.'),
          ),
        );
      }
    } finally {
      await receiver.close();
    }
  }

  async logout(command: Command): Promise<void> {
    const g = this.globals(command);
    const name = this.profileName(g);
    const file = tokenFile(this.io.env, name);
    const deleted = await deleteTokens(this.io.env, name);
    if (g.json) this.json({ profile: name, loggedOut: deleted });
    else this.out(line(deleted ? `Logged out of profile ${name} (deleted ${file}).` : `Not logged in (profile ${name}); nothing to do.`));
  }

  async whoami(command: Command): Promise<void> {
    const { client, profile, g } = await this.authedClient(command);
    const me: Whoami = await client.whoami();
    if (g.json) {
      this.json(me);
      return;
    }
    this.out(
      fields([
        ['principal', me.principalId],
        ['auth method', me.authMethod],
        ['tenant', me.tenant],
        ['scopes', me.scopes.join(' ') || '(none)'],
        ['key id', me.keyId],
        ['credential', this.credentialLabel],
        ['api', `${profile.apiUrl} (profile ${profile.name})`],
      ]),
    );
  }

  async configure(command: Command, options: ConfigureOptions): Promise<void> {
    const g = this.globals(command);
    const name = this.profileName(g);
    const apiUrl = g.apiUrl;
    if (!apiUrl) throw new UsageError('configure needs --api-url (the ApiUrl output of the stack).');
    if ((options.issuer === undefined) !== (options.clientId === undefined)) throw new UsageError('--issuer and --client-id go together (the login settings).');
    // A Cognito pool deployed by this repository's CDK app: its callback URL and resource-server scopes.
    const cognito = options.issuer !== undefined && isCognitoIssuer(options.issuer);
    const base = options.oauthBaseUrl?.replace(/\/+$/, '');
    const scopes = options.scopes
      ? options.scopes.split(/[\s,]+/).filter(Boolean)
      : cognito
        ? ['openid', ...ALL_SCOPES.map((s) => `${COGNITO_DEFAULTS.resourceServerId}/${s}`)]
        : undefined;
    const callbackUrl = options.callbackUrl ?? (cognito ? COGNITO_DEFAULTS.callbackUrl : undefined);
    const authorizationEndpoint = options.authorizationEndpoint ?? (base ? `${base}/oauth2/authorize` : undefined);
    const tokenEndpoint = options.tokenEndpoint ?? (base ? `${base}/oauth2/token` : undefined);
    const profile: SavedProfile = {
      apiUrl,
      ...(options.issuer ? { issuer: options.issuer } : {}),
      ...(options.clientId ? { clientId: options.clientId } : {}),
      ...(g.region ? { region: g.region } : {}),
      ...(scopes ? { scopes } : {}),
      ...(authorizationEndpoint ? { authorizationEndpoint } : {}),
      ...(tokenEndpoint ? { tokenEndpoint } : {}),
      ...(options.tokenUse ? { tokenUse: options.tokenUse } : {}),
      ...(callbackUrl ? { callbackUrl } : {}),
    };
    const file = await saveProfile(this.io.env, name, profile);
    if (g.json) this.json({ profile: name, ...profile, file });
    else this.out(line(`Saved profile ${name} to ${file}.${profile.issuer ? ` Next: gatehouse --profile ${name} login` : ''}`));
  }

  // --- keys ------------------------------------------------------------------------------------------------

  printNewKey(created: CreatedKey, g: GlobalOptions, extra: readonly (readonly [string, string | undefined])[] = []): void {
    if (g.json) {
      this.json(created);
    } else {
      this.out(
        fields([
          ['id', created.id],
          ['name', created.name],
          ['scopes', created.scopes.join(' ')],
          ['created', formatTime(created.createdAt)],
          ['expires', formatTime(created.expiresAt)],
          ['rotated from', created.rotatedFrom],
          ...extra,
          ['key', created.key],
        ]),
      );
    }
    this.err(line('WARNING: this is the only time the key is shown. Store it now (e.g. in a secret manager); it cannot be retrieved again.'));
  }

  async keysCreate(command: Command, options: { name: string; scopes: Scope[]; expiresAt?: string }): Promise<void> {
    const { client, g } = await this.authedClient(command);
    const created = await client.createKey({ name: options.name, scopes: options.scopes, ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}) });
    this.printNewKey(created, g);
  }

  async keysList(command: Command, options: { limit?: number; nextToken?: string; all?: boolean }): Promise<void> {
    const { client, g } = await this.authedClient(command);
    let keys: KeyView[];
    let nextToken: string | undefined;
    if (options.all) {
      keys = [];
      for await (const key of client.allKeys(options.limit ? { limit: options.limit } : {})) keys.push(key);
    } else {
      const page = await client.listKeys({ ...(options.limit ? { limit: options.limit } : {}), ...(options.nextToken ? { nextToken: options.nextToken } : {}) });
      keys = page.keys;
      nextToken = page.nextToken;
    }
    if (g.json) {
      this.json({ keys, ...(nextToken ? { nextToken } : {}) });
      return;
    }
    if (keys.length === 0) this.out(line('No keys.'));
    else {
      this.out(
        table([
          ['ID', 'NAME', 'STATUS', 'CREATED', 'EXPIRES', 'SCOPES'],
          ...keys.map((k) => [k.id, k.name, k.status, formatTime(k.createdAt), formatTime(k.expiresAt), k.scopes.join(' ')]),
        ]),
      );
    }
    if (nextToken) this.err(line(`More keys: add --next-token ${nextToken} (or use --all).`));
  }

  async keysGet(command: Command, keyId: string): Promise<void> {
    const { client, g } = await this.authedClient(command);
    const key = await client.getKey(keyId);
    if (g.json) {
      this.json(key);
      return;
    }
    this.out(
      fields([
        ['id', key.id],
        ['prefix', key.prefix],
        ['name', key.name],
        ['status', key.status],
        ['scopes', key.scopes.join(' ')],
        ['created', `${formatTime(key.createdAt)} by ${key.createdBy}`],
        ['expires', formatTime(key.expiresAt)],
        ['revoked', key.revokedAt ? formatTime(key.revokedAt) : undefined],
        ['grace until', key.graceUntil ? formatTime(key.graceUntil) : undefined],
        ['rotated to', key.rotatedTo],
        ['rotated from', key.rotatedFrom],
      ]),
    );
  }

  async keysRevoke(command: Command, keyId: string): Promise<void> {
    const { client, g } = await this.authedClient(command);
    await client.revokeKey(keyId);
    if (g.json) this.json({ id: keyId, revoked: true });
    else this.out(line(`Revoked key ${keyId}. It is refused everywhere within 5 s.`));
  }

  async keysRotate(command: Command, keyId: string, options: { gracePeriod?: number }): Promise<void> {
    const { client, g } = await this.authedClient(command);
    const created = await client.rotateKey(keyId, options.gracePeriod === undefined ? {} : { gracePeriodSeconds: options.gracePeriod });
    const grace = options.gracePeriod ?? 0;
    this.printNewKey(created, g, [['old key', grace > 0 ? `${keyId} keeps working for ${formatDuration(grace * 1000)}` : `${keyId} no longer works`]]);
  }

  // --- call ------------------------------------------------------------------------------------------------

  async call(command: Command, method: string, path: string, options: { data?: string; sigv4?: boolean; header?: [string, string][]; include?: boolean }): Promise<void> {
    if (!/^[A-Za-z]+$/.test(method)) throw new UsageError(`"${method}" is not an HTTP method.`);
    if (!path.startsWith('/')) throw new UsageError(`The path must start with / (e.g. /v1/whoami), not "${path}".`);
    const upper = method.toUpperCase();
    const g = this.globals(command);
    const profile = await this.profile(g);
    const route = findRoute(upper, path.split('?')[0] ?? path);

    let body: string | undefined;
    if (options.data !== undefined) {
      const raw =
        options.data === '-'
          ? await this.io.readStdin()
          : options.data.startsWith('@')
            ? await readFile(resolve(this.io.cwd, options.data.slice(1)), 'utf8')
            : options.data;
      try {
        JSON.parse(raw);
      } catch {
        throw new UsageError('--data is not valid JSON.');
      }
      body = raw;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of options.header ?? []) {
      if (['authorization', 'x-api-key'].includes(name.toLowerCase())) {
        throw new UsageError(`Pass credentials with --api-key, GATEHOUSE_API_KEY or login, not -H ${name}.`);
      }
      headers[name] = value;
    }

    const useSigv4 = options.sigv4 === true || route?.auth === 'iam';
    let auth: Authenticator | undefined;
    let iam: Authenticator | undefined;
    if (useSigv4) {
      iam = this.sigv4(profile);
      auth = iam;
    } else if (route?.auth !== 'public') {
      auth = await this.credential(profile, g);
      if (!auth) {
        throw new GatehouseCredentialsError(
          `No credential for profile ${profile.name}: run \`gatehouse --profile ${profile.name} login\`, pass --api-key, or set GATEHOUSE_API_KEY.`,
        );
      }
    }
    const client = this.client(profile, auth, iam);
    const response = await client.request(upper, path, { ...(body === undefined ? {} : { body }), headers, ...(auth ? { authenticator: auth } : {}) });
    if (options.include) {
      this.out(line(`HTTP ${response.status}`));
      response.headers.forEach((value, name) => this.out(line(`${name}: ${value}`)));
      this.out(line());
    }
    if (response.body === undefined) {
      if (!g.json && !options.include) this.err(line(`${response.status} (no content)`));
      return;
    }
    if (typeof response.body === 'string') this.out(line(response.body));
    else this.json(response.body);
  }

  // --- errors ------------------------------------------------------------------------------------------------

  /** Prints what went wrong and what to do next; returns the exit code. */
  report(error: unknown, g: GlobalOptions): number {
    const profile = g.profile ?? this.io.env.GATEHOUSE_PROFILE ?? DEFAULT_PROFILE;
    if (error instanceof GatehouseApiError) {
      const code =
        error.status === 401 || error.status === 403
          ? EXIT.AUTH
          : error.status === 404
            ? EXIT.NOT_FOUND
            : error.status === 429
              ? EXIT.RATE_LIMITED
              : EXIT.ERROR;
      if (g.json) {
        this.err(line(JSON.stringify({ error: error.toJSON() })));
        return code;
      }
      const lines = [`Error: ${error.title} (${error.status} ${error.code}): ${error.detail}`];
      for (const f of error.fieldErrors ?? []) lines.push(`  - ${f.field || '(body)'}: ${f.message}`);
      if (error.status === 401) {
        const refused = this.credentialLabel.includes('API key')
          ? `${this.credentialLabel} was refused (revoked, expired or mistyped keys all look the same).`
          : this.credentialLabel.includes('login')
            ? `${this.credentialLabel} was refused.`
            : `Sent ${this.credentialLabel}.`;
        lines.push(`${refused[0]?.toUpperCase() ?? ''}${refused.slice(1)} Run \`gatehouse --profile ${profile} login\` or pass --api-key (or set GATEHOUSE_API_KEY).`);
      } else if (error.status === 403) {
        if (error.requiredScope) {
          lines.push(`${error.request.method} ${error.request.path} needs scope ${error.requiredScope}, which ${this.credentialLabel} does not grant. Use a credential that holds ${error.requiredScope}.`);
        } else if (error.authError === 'insufficient_scope') {
          lines.push(`The credential (${this.credentialLabel}) lacks a scope this route needs.`);
        } else {
          lines.push(`${this.credentialLabel[0]?.toUpperCase() ?? ''}${this.credentialLabel.slice(1)} is not allowed to do this.`);
        }
      } else if (error.status === 404 && findRoute(error.request.method, error.request.path) === undefined) {
        lines.push(`There is no route ${error.request.method} ${error.request.path}; see \`gatehouse call GET /openapi.json\`.`);
      } else if (error.status === 429) {
        lines.push(`Rate limited: retry after ${error.retryAfterSeconds ?? 1} s.`);
      } else if (error.status >= 500) {
        lines.push(`The service failed${error.retryAfterSeconds !== undefined ? `; retry after ${error.retryAfterSeconds} s` : ''}.`);
      }
      if (error.requestId) lines.push(`(request id ${error.requestId})`);
      this.err(lines.map(line).join(''));
      return code;
    }
    const [code, message] =
      error instanceof CommanderError
        ? [EXIT.USAGE, error.message]
        : error instanceof UsageError || error instanceof ConfigurationError
          ? [EXIT.USAGE, error.message]
          : error instanceof GatehouseCredentialsError
            ? [EXIT.AUTH, error.message]
            : error instanceof OidcError
              ? [EXIT.AUTH, `Login failed: ${error.message}. Run \`gatehouse --profile ${profile} login\` to try again.`]
              : error instanceof GatehouseNetworkError
                ? [EXIT.ERROR, `${error.message}. Is the API running and the profile's API URL right?`]
                : [EXIT.ERROR, error instanceof Error ? error.message : String(error)];
    const safe = redactSecrets(message);
    if (g.json) this.err(line(JSON.stringify({ error: { message: safe, exitCode: code } })));
    else this.err(line(`Error: ${safe}`));
    return code;
  }
}

function buildProgram(cli: Cli): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse from the terminal: log in, manage API keys, call the API (API key, token or SigV4).')
    .version('0.1.0', '-V, --version')
    .option('-p, --profile <name>', 'profile to use ("local" = the local stack); default $GATEHOUSE_PROFILE or "default"')
    .option('--api-url <url>', "the API's base URL (overrides the profile; also $GATEHOUSE_API_URL)")
    .option('--api-key <key>', 'API key to call with (prefer $GATEHOUSE_API_KEY: flags show in the process list)')
    .option('--region <region>', 'AWS region for SigV4 (overrides the profile)')
    .option('--json', 'machine-readable output (errors as JSON on stderr)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EPILOG);

  program
    .command('login')
    .description('sign in through the browser (OIDC authorization code + PKCE) and store the tokens')
    .option('--no-browser', 'only print the sign-in URL')
    .option('--port <port>', "loopback port for the redirect (default: the profile's callback URL, else any free port)", parseNonNegativeInt)
    .option('--timeout <seconds>', 'how long to wait for the sign-in', parseNonNegativeInt, 300)
    .action((options: { browser: boolean; port?: number; timeout: number }, command: Command) => cli.login(command, options));

  program
    .command('logout')
    .description("delete the profile's stored login tokens")
    .action((_options: unknown, command: Command) => cli.logout(command));

  program
    .command('whoami')
    .description('who the API thinks you are (principal, tenant, scopes)')
    .action((_options: unknown, command: Command) => cli.whoami(command));

  program
    .command('configure')
    .description('save a profile from the stack outputs (with --profile NAME --api-url URL)')
    .option('--issuer <url>', 'OIDC issuer (Cognito: https://cognito-idp.<region>.amazonaws.com/<pool id>)')
    .option('--client-id <id>', 'the login app client id')
    .option('--scopes <scopes>', 'scopes to request at login (default "openid"; Cognito: openid and every gatehouse/<scope>)')
    .option('--callback-url <url>', `loopback redirect registered with the client (default http://127.0.0.1:<any port>/callback; Cognito: ${COGNITO_DEFAULTS.callbackUrl})`)
    .option('--oauth-base-url <url>', 'where /oauth2/authorize and /oauth2/token are (the OAuthBaseUrl output); default: issuer discovery')
    .option('--authorization-endpoint <url>', 'default: from --oauth-base-url or the issuer discovery document')
    .option('--token-endpoint <url>', 'default: from --oauth-base-url or the issuer discovery document')
    .addOption(new Option('--token-use <use>', 'which token to send to the API (default access)').choices(['access', 'id']))
    .action((options: ConfigureOptions, command: Command) => cli.configure(command, options));

  const keys = program.command('keys').description('manage API keys of your tenant');
  keys
    .command('create')
    .description('create an API key (its plaintext is printed once)')
    .requiredOption('--name <name>', 'a name to recognise it by')
    .requiredOption('--scopes <scopes>', `comma-separated, a subset of yours: ${ALL_SCOPES.join(',')}`, parseScopes)
    .option('--expires-at <time>', 'ISO 8601 time, e.g. 2030-01-01T00:00:00Z (default: never)')
    .action((options: { name: string; scopes: Scope[]; expiresAt?: string }, command: Command) => cli.keysCreate(command, options));
  keys
    .command('list')
    .description("list your tenant's keys, newest first")
    .option('--limit <n>', 'page size (1-100)', parseNonNegativeInt)
    .option('--next-token <token>', 'the next page')
    .option('--all', 'every page')
    .action((options: { limit?: number; nextToken?: string; all?: boolean }, command: Command) => cli.keysList(command, options));
  keys
    .command('get')
    .description('show one key (never its plaintext)')
    .argument('<keyId>', 'the 12-character key id')
    .action((keyId: string, _options: unknown, command: Command) => cli.keysGet(command, keyId));
  keys
    .command('revoke')
    .description('revoke a key (refused within 5 s)')
    .argument('<keyId>', 'the 12-character key id')
    .action((keyId: string, _options: unknown, command: Command) => cli.keysRevoke(command, keyId));
  keys
    .command('rotate')
    .description('replace a key with a new one (printed once)')
    .argument('<keyId>', 'the 12-character key id')
    .option('--grace-period <seconds>', 'how long the old key keeps working (0-86400, default 0)', parseNonNegativeInt)
    .action((keyId: string, options: { gracePeriod?: number }, command: Command) => cli.keysRotate(command, keyId, options));

  program
    .command('call')
    .description('call any route, e.g. `call GET /v1/items` or `call POST /v1/verify --data \'{"key":"…"}\' --sigv4`')
    .argument('<method>', 'HTTP method')
    .argument('<path>', 'path with an optional query string, e.g. /v1/keys?limit=5')
    .option('-d, --data <json>', 'JSON body; @file reads a file, - reads stdin')
    .option('--sigv4', 'sign with AWS SigV4 (automatic for IAM routes)')
    .option('-H, --header <header>', 'extra header "Name: value" (repeatable)', parseHeader)
    .option('-i, --include', 'print the status and response headers')
    .action((method: string, path: string, options: Parameters<Cli['call']>[3], command: Command) => cli.call(command, method, path, options));

  return program;
}

function configureForIo(command: Command, io: CliIo): void {
  command.exitOverride();
  // Commander's messages may quote an argument: redact anything secret-looking (a key pasted in the wrong place).
  command.configureOutput({ writeOut: io.stdout, writeErr: (text) => io.stderr(redactSecrets(text)), outputError: (text, write) => write(text) });
  for (const sub of command.commands) configureForIo(sub, io);
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: readonly string[], ioOverrides: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = { ...defaultIo(), ...ioOverrides };
  const cli = new Cli(io);
  const program = buildProgram(cli);
  configureForIo(program, io);
  if (argv.length === 0) {
    io.stdout(program.helpInformation());
    io.stdout(EPILOG);
    return EXIT.USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message; --help and --version exit 0, anything else is a usage error.
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    return cli.report(error, program.opts<GlobalOptions>());
  }
}
