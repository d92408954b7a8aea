/** `gatehouse configure`: saves a profile for a deployed stack from its outputs. */
import { Option, type Command } from 'commander';

import { ALL_SCOPES } from '../../../lambdas/routes.js';
import { COGNITO_DEFAULTS, isCognitoIssuer, saveProfile, type SavedProfile } from '../../config.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { line } from '../format.js';

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

async function configure(context: CommandContext, command: Command, options: ConfigureOptions): Promise<void> {
  const { g, out } = context.start(command);
  const name = context.profileName(g);
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
  // Mutual TLS: the global --cert/--key/--cacert are saved with the profile (absolute paths; the files are read at
  // each call, so a renewed certificate needs no new configure).
  const tls = context.tlsFiles({ name, apiUrl, source: 'command line' }, g);
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
    ...(tls.cert ? { clientCert: tls.cert } : {}),
    ...(tls.key ? { clientKey: tls.key } : {}),
    ...(tls.ca ? { caCert: tls.ca } : {}),
  };
  const file = await saveProfile(context.io.env, name, profile);
  if (out.json) out.value({ profile: name, ...profile, file });
  else out.out(line(`Saved profile ${name} to ${file}.${profile.issuer ? ` Next: gatehouse --profile ${name} login` : ''}`));
}

export function registerConfigure(program: Command, context: CommandContext): void {
  program
    .command('configure')
    .description('save a profile from the stack outputs: --profile NAME and --api-url URL are required, --region is used for SigV4')
    .usage('--profile NAME --api-url URL [--issuer URL --client-id ID] [--oauth-base-url URL] [--region REGION] [options]')
    .option('--issuer <url>', 'OIDC issuer (Cognito: https://cognito-idp.<region>.amazonaws.com/<pool id>)')
    .option('--client-id <id>', 'the login app client id')
    .option('--scopes <scopes>', 'scopes to request at login (default "openid"; Cognito: openid and every gatehouse/<scope>)')
    .option('--callback-url <url>', `loopback redirect registered with the client (default http://127.0.0.1:<any port>/callback; Cognito: ${COGNITO_DEFAULTS.callbackUrl})`)
    .option('--oauth-base-url <url>', 'where /oauth2/authorize and /oauth2/token are (the OAuthBaseUrl output); default: issuer discovery')
    .option('--authorization-endpoint <url>', 'default: from --oauth-base-url or the issuer discovery document')
    .option('--token-endpoint <url>', 'default: from --oauth-base-url or the issuer discovery document')
    .addOption(new Option('--token-use <use>', 'which token to send to the API (default access)').choices(['access', 'id']))
    .action((options: ConfigureOptions, command: Command) => configure(context, command, options));
}
