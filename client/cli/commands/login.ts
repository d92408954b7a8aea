/**
 * `gatehouse login` and `gatehouse logout`. Login is the OAuth authorization code grant with PKCE (S256) and
 * `state`: the browser signs in, the code comes back to the loopback server — or, when the browser runs on another
 * machine, the person pastes back the address it ended on (authflow.ts) — and the tokens are stored (0600).
 */
import type { Command } from 'commander';

import { ConfigurationError, deleteTokens, saveTokens, tokenFile } from '../../config.js';
import { buildAuthorizeUrl, createPkce, discoverEndpoints, exchangeCode, OidcError, randomState, usernameOf, type OidcClientConfig, type TokenSet } from '../../oidc.js';
import { openCodeSource, waitForCode, type CodeSource } from '../authflow.js';
import type { CommandContext } from '../context.js';
import { formatDuration, line } from '../format.js';
import { parseNonNegativeInt } from '../options.js';
import type { Output } from '../output.js';

interface LoginOptions {
  browser: boolean;
  port?: number;
  timeout: number;
}

/** Tells the person where to sign in and how the login can finish; with --json, one `authorize` event. */
function announce(out: Output, args: { profile: string; url: string; source: CodeSource; openBrowser: boolean; acceptPaste: boolean; timeoutSeconds: number }): void {
  const { source } = args;
  if (source.busy) {
    out.notice('port_in_use', `Note: ${source.busy.description ?? 'the callback port is in use'}, so the sign-in cannot come back to this login by itself: paste it back.`);
  }
  const message = args.openBrowser
    ? `Opening your browser to sign in (profile ${args.profile}). If no browser opens, visit:`
    : `To sign in (profile ${args.profile}), open this URL in a browser:`;
  const paste = args.acceptPaste
    ? line(`A browser on another machine ends on a page that does not load (${source.redirectUri}?code=…):`) +
      line('paste that address here (or just the code in it) and press Enter.')
    : '';
  out.notice(
    'authorize',
    message,
    { url: args.url, redirectUri: source.redirectUri, listening: source.receiver !== undefined, acceptsPaste: args.acceptPaste, timeoutSeconds: args.timeoutSeconds },
    line(message) + line() + line(`  ${args.url}`) + line() + paste + line(`Waiting for the sign-in to finish (up to ${formatDuration(args.timeoutSeconds * 1000)}; Ctrl-C cancels)…`),
  );
}

/** The token endpoint's refusal of a code says little (`invalid_grant`); say what it means here. */
async function redeem(config: OidcClientConfig, params: { code: string; redirectUri: string; verifier: string }, options: { fetch: typeof fetch; now?: () => number }): Promise<TokenSet> {
  try {
    return await exchangeCode(config, params, options);
  } catch (error) {
    if (error instanceof OidcError && error.error === 'invalid_grant') {
      const said = error.description ? `${error.description}: ` : '';
      throw new OidcError('invalid_grant', `${said}the code was refused: it was already used, has expired, or belongs to another sign-in`);
    }
    throw error;
  }
}

async function login(context: CommandContext, command: Command, options: LoginOptions): Promise<void> {
  const { io } = context;
  const { g, out } = context.start(command);
  const profile = await context.profile(g);
  if (!profile.oidc) {
    throw new ConfigurationError(`Profile ${profile.name} has no login settings: \`gatehouse configure --profile ${profile.name} --issuer URL --client-id ID\`.`);
  }
  const fetchImpl = io.fetch ?? fetch;
  const endpoints =
    profile.oidc.authorizationEndpoint && profile.oidc.tokenEndpoint
      ? { authorizationEndpoint: profile.oidc.authorizationEndpoint, tokenEndpoint: profile.oidc.tokenEndpoint }
      : await discoverEndpoints(profile.oidc.issuer, fetchImpl);
  const config = { ...profile.oidc, ...endpoints };

  const state = randomState();
  const pkce = createPkce();
  const timeoutMs = options.timeout * 1000;
  const openBrowser = options.browser && !io.env.GATEHOUSE_NO_BROWSER;
  // Without a browser to open here, the browser is likely elsewhere: accept the redirect pasted back too.
  const acceptPaste = !openBrowser;
  const source = await openCodeSource({
    state,
    ...(profile.oidc.callbackUrl ? { callbackUrl: profile.oidc.callbackUrl } : {}),
    ...(options.port === undefined ? {} : { port: options.port }),
    timeoutMs,
    acceptPaste,
  });
  try {
    const url = buildAuthorizeUrl(config, { redirectUri: source.redirectUri, state, pkce }).href;
    announce(out, { profile: profile.name, url, source, openBrowser, acceptPaste, timeoutSeconds: options.timeout });
    if (openBrowser) io.openUrl(url);
    const { code, via } = await waitForCode({ source, state, timeoutMs, ...(acceptPaste ? { readLines: io.readLines } : {}) });
    const tokens = await redeem(config, { code, redirectUri: source.redirectUri, verifier: pkce.verifier }, { fetch: fetchImpl, ...(io.now ? { now: io.now } : {}) });
    const username = usernameOf(tokens);
    const file = await saveTokens(io.env, profile.name, {
      issuer: config.issuer,
      clientId: config.clientId,
      tokenEndpoint: config.tokenEndpoint,
      ...tokens,
      ...(username ? { username } : {}),
    });
    if (out.json) {
      out.value({ profile: profile.name, username: username ?? null, expiresAt: new Date(tokens.expiresAt).toISOString(), tokenFile: file, via });
    } else {
      const now = (io.now ?? Date.now)();
      out.out(line(`Logged in as ${username ?? 'unknown user'} (profile ${profile.name}).`));
      out.notice(
        'saved',
        `Tokens saved to ${file} (mode 0600); the access token expires in ${formatDuration(tokens.expiresAt - now)}` +
          (tokens.refreshToken ? ' and is refreshed automatically.' : '; log in again then.'),
      );
    }
  } finally {
    await source.receiver?.close();
  }
}

async function logout(context: CommandContext, command: Command): Promise<void> {
  const { g, out } = context.start(command);
  const name = context.profileName(g);
  const file = tokenFile(context.io.env, name);
  const deleted = await deleteTokens(context.io.env, name);
  if (out.json) out.value({ profile: name, loggedOut: deleted });
  else out.out(line(deleted ? `Logged out of profile ${name} (deleted ${file}).` : `Not logged in (profile ${name}); nothing to do.`));
}

export function registerLogin(program: Command, context: CommandContext): void {
  program
    .command('login')
    .description('sign in through the browser (OIDC authorization code + PKCE) and store the tokens')
    .option('--no-browser', 'print the sign-in URL instead of opening a browser; a browser elsewhere (SSH, container): paste back the URL it ends on')
    .option('--port <port>', "loopback port for the redirect (default: the profile's callback URL, else any free port)", parseNonNegativeInt)
    .option('--timeout <seconds>', 'how long to wait for the sign-in', parseNonNegativeInt, 300)
    .action((options: LoginOptions, command: Command) => login(context, command, options));

  program
    .command('logout')
    .description("delete the profile's stored login tokens")
    .action((_options: unknown, command: Command) => logout(context, command));
}
