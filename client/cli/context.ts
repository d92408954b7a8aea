/**
 * What every command is given (the GitHub CLI's "factory"): the io, the chosen profile, the credential by the
 * documented precedence, and a client built from them. It also remembers which credential was used, so the command
 * can say so and an error can say "the API key from GATEHOUSE_API_KEY was refused" (credential.ts, errors.ts).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';

import { apiKeyAuth, bearerAuth, noAuth, type Authenticator } from '../auth.js';
import { GatehouseClient, type RetryEvent } from '../client.js';
import { ConfigurationError, DEFAULT_PROFILE, loadProfile, loadTokens, saveTokens, type Profile, type StoredTokens } from '../config.js';
import { GatehouseCredentialsError } from '../errors.js';
import { RefreshingTokenProvider, refreshTokens, usernameOf } from '../oidc.js';
import { sigv4Auth } from '../sigv4.js';
import type { ClientTls } from '../tls-fetch.js';
import { UsageError } from './errors.js';
import { credentialNotice, NO_CREDENTIAL, noCredentialMessage, staleLoginMessage, USE_ADMIN_KEY_FLAG, type UsedCredential } from './credential.js';
import type { CliIo } from './io.js';
import type { GlobalOptions } from './options.js';
import { Output } from './output.js';

export const USER_AGENT = `gatehouse-cli/0.1.0 node/${process.versions.node}`;

export class CommandContext {
  /** The credential the command called with, for its notice and its error messages (credential.ts). */
  used: UsedCredential = NO_CREDENTIAL;

  constructor(readonly io: CliIo) {}

  /** The command's options with the global ones, and its output (JSON or not, as `--json` says). */
  start(command: Command): { g: GlobalOptions; out: Output } {
    const g = command.optsWithGlobals<GlobalOptions>();
    return { g, out: this.output(g) };
  }

  output(g: GlobalOptions): Output {
    return new Output(this.io, g.json === true);
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

  /**
   * The credential for key-or-JWT routes, by the documented precedence: --api-key, --use-admin-key, GATEHOUSE_API_KEY,
   * the stored login. Undefined when there is none. The local admin key is never a fallback: a stale login is an
   * error with the next step, not a reason to act as the administrator.
   */
  async credential(profile: Profile, g: GlobalOptions): Promise<Authenticator | undefined> {
    if (g.certificateOnly === true) {
      this.used = { source: 'certificate', label: 'the client certificate only' };
      return undefined;
    }
    if (g.apiKey !== undefined && g.useAdminKey) throw new UsageError(`--api-key and ${USE_ADMIN_KEY_FLAG} are two credentials: pass one.`);
    if (g.apiKey !== undefined) {
      this.used = { source: 'api-key-flag', label: 'the API key from --api-key' };
      return apiKeyAuth(g.apiKey);
    }
    if (g.useAdminKey) {
      if (!profile.adminKey) throw new UsageError(`${USE_ADMIN_KEY_FLAG} is for the local stack (--profile local): profile ${profile.name} has no admin key.`);
      this.used = { source: 'admin-key', label: "the local stack's admin key" };
      return apiKeyAuth(profile.adminKey);
    }
    const tokens = await loadTokens(this.io.env, profile.name);
    const current = profile.oidc;
    const stale = tokens !== undefined && current !== undefined && (tokens.issuer !== current.issuer || tokens.clientId !== current.clientId);
    const envKey = this.io.env.GATEHOUSE_API_KEY;
    if (envKey) {
      const loggedIn = tokens && !stale ? this.loginLabel(profile, tokens) : undefined;
      this.used = { source: 'api-key-env', label: 'the API key from GATEHOUSE_API_KEY', ...(loggedIn ? { outrankedLogin: loggedIn } : {}) };
      return apiKeyAuth(envKey);
    }
    if (tokens && stale) throw new GatehouseCredentialsError(staleLoginMessage(profile.name, tokens.issuer, profile.adminKey !== undefined));
    if (tokens) {
      this.used = { source: 'login', label: this.loginLabel(profile, tokens) };
      return bearerAuth(this.tokenProvider(profile, tokens));
    }
    this.used = NO_CREDENTIAL;
    return undefined;
  }

  private loginLabel(profile: Profile, tokens: StoredTokens): string {
    return `the login of ${tokens.username ?? 'an unknown user'} (profile ${profile.name})`;
  }

  /** A credential the command cannot do without (exit 3 when there is none). */
  async requiredCredential(profile: Profile, g: GlobalOptions): Promise<Authenticator> {
    const auth = await this.credential(profile, g);
    if (!auth && g.certificateOnly === true) {
      if (!this.tlsFiles(profile, g).cert) throw new ConfigurationError('--certificate-only needs a client certificate: --cert and --key, or a profile saved with them.');
      return noAuth;
    }
    if (!auth) throw new GatehouseCredentialsError(noCredentialMessage(profile.name, profile.adminKey !== undefined));
    return auth;
  }

  /** Says which credential the command is about to use (stderr; `--json`: a `credential` event). */
  announceCredential(out: Output): void {
    if (this.used.source === 'none') return;
    out.notice('credential', credentialNotice(this.used), { source: this.used.source });
  }

  sigv4(profile: Profile): Authenticator {
    const region = profile.region ?? profile.iam?.region ?? this.io.env.AWS_REGION ?? this.io.env.AWS_DEFAULT_REGION;
    if (!region) throw new ConfigurationError(`SigV4 needs a region: pass --region, or save one with \`gatehouse configure --profile ${profile.name} --region …\`.`);
    if (profile.iam) {
      const { accessKeyId, secretAccessKey } = profile.iam;
      this.used = { source: 'sigv4', label: "AWS SigV4 with the local stack's IAM user" };
      return sigv4Auth({ region, credentials: { accessKeyId, secretAccessKey } });
    }
    // The provider chain reads process.env itself; keys in this command's environment are used as the chain would.
    const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = this.io.env;
    if (accessKeyId && secretAccessKey) {
      this.used = { source: 'sigv4', label: `AWS SigV4 with AWS_ACCESS_KEY_ID from the environment (${region})` };
      return sigv4Auth({ region, credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } });
    }
    this.used = { source: 'sigv4', label: `AWS SigV4 with the AWS credential chain (${region})` };
    return sigv4Auth({ region });
  }

  /** The mutual-TLS files: flags over the profile's; relative paths from the working directory. */
  tlsFiles(profile: Profile, g: GlobalOptions): { cert?: string; key?: string; ca?: string } {
    const at = (file: string | undefined) => (file === undefined ? undefined : isAbsolute(file) ? file : resolve(this.io.cwd, file));
    const cert = at(g.cert ?? profile.tls?.cert);
    const key = at(g.key ?? (g.cert === undefined ? profile.tls?.key : undefined));
    const ca = at(g.cacert ?? profile.tls?.ca);
    if ((cert === undefined) !== (key === undefined)) throw new ConfigurationError('A client certificate needs its key: give --cert and --key together.');
    return { ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(ca ? { ca } : {}) };
  }

  /** The files' contents, read now (a missing or unreadable file is a configuration error naming it). */
  private clientTls(profile: Profile, g: GlobalOptions): ClientTls | undefined {
    const files = this.tlsFiles(profile, g);
    if (!files.cert && !files.ca) return undefined;
    const read = (file: string) => {
      try {
        return readFileSync(file);
      } catch (error) {
        throw new ConfigurationError(`Cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
      }
    };
    return { ...(files.cert && files.key ? { cert: read(files.cert), key: read(files.key) } : {}), ...(files.ca ? { ca: read(files.ca) } : {}) };
  }

  client(profile: Profile, out: Output, auth: Authenticator | undefined, iam?: Authenticator, g: GlobalOptions = {}): GatehouseClient {
    // A test's injected fetch stands for the network: it gets no TLS settings.
    const tls = this.io.fetch ? undefined : this.clientTls(profile, g);
    return new GatehouseClient({
      baseUrl: profile.apiUrl,
      ...(tls ? { tls } : {}),
      ...(auth ? { auth } : {}),
      ...(iam ? { iam } : {}),
      ...(this.io.fetch ? { fetch: this.io.fetch } : {}),
      ...(this.io.retry ? { retry: this.io.retry } : {}),
      ...(this.io.now ? { now: this.io.now } : {}),
      userAgent: USER_AGENT,
      onRetry: (event: RetryEvent) => {
        const why = /^\d+$/.test(event.reason) ? `answered ${event.reason}` : `failed (${event.reason})`;
        out.notice('retry', `${event.request.method} ${event.request.path} ${why}; retrying in ${(event.delayMs / 1000).toFixed(1)} s…`, {
          attempt: event.attempt,
          delayMs: event.delayMs,
        });
      },
    });
  }

  /**
   * A client with the command's credential, which it announces (unless the command shows it in its own output);
   * fails (exit 3) when there is none.
   */
  async authedClient(command: Command, options: { announce?: boolean } = {}): Promise<{ client: GatehouseClient; profile: Profile; g: GlobalOptions; out: Output }> {
    const { g, out } = this.start(command);
    const profile = await this.profile(g);
    const auth = await this.requiredCredential(profile, g);
    if (options.announce !== false) this.announceCredential(out);
    return { client: this.client(profile, out, auth, undefined, g), profile, g, out };
  }
}
