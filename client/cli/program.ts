/**
 * The `gatehouse` command tree: global options, help, and one module per command group (commands/). Commander is
 * told never to exit or print on its own: everything goes through the io.
 */
import { Command } from 'commander';

import { redactSecrets } from '../errors.js';
import { registerCall } from './commands/call.js';
import { registerConfigure } from './commands/configure.js';
import { registerKeys } from './commands/keys.js';
import { registerLogin } from './commands/login.js';
import { registerWhoami } from './commands/whoami.js';
import type { CommandContext } from './context.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';

export const EPILOG = `
Profiles:
  --profile local     the local stack (reads .gatehouse/local.json, or $GATEHOUSE_STATE_DIR/local.json)
  --profile NAME      saved with \`gatehouse configure --profile NAME --api-url … --issuer … --client-id …\`
  default profile     $GATEHOUSE_PROFILE, else "default"

Credentials (first that applies; every command says which one it used):
  --api-key KEY, then --use-admin-key (profile local: the local stack's admin key, tenant admin, every
  scope; never used unless asked), then $GATEHOUSE_API_KEY (it outranks your login in every command until
  you \`unset GATEHOUSE_API_KEY\`), then the tokens of \`gatehouse login\`. A login the local stack no longer
  accepts (it restarted) is an error: log in again. IAM routes (POST /v1/verify) and --sigv4 sign with
  SigV4: the local stack's IAM user for --profile local, else the AWS credential chain (AWS_PROFILE, …).

Mutual TLS (a custom domain that requires client certificates, or npm start -- --mtls):
  --cert FILE --key FILE present a client certificate and --cacert FILE trusts a CA, over the profile's
  (saved with \`gatehouse configure … --cert … --key …\`; profile local: the local stack's CA and client
  certificate). --certificate-only sends no key or token: for a certificate-bound principal in
  "certificate" mode, where a credential beside the certificate is refused.

Login without a browser on this machine (SSH, a container):
  \`gatehouse login --no-browser\` prints the sign-in URL; open it in a browser anywhere and sign in. That
  browser ends on a page that does not load (the redirect to this machine's loopback address): paste its
  address (or just the code in it) into the waiting command. A browser on this machine finishes by itself.

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
  gatehouse --profile prod login --no-browser     # over SSH: paste back the URL the browser ends on
  gatehouse --profile local keys create --name ci --scopes items:read,items:write
  GATEHOUSE_API_KEY=gth_… gatehouse --profile local call GET /v1/items   # this command only
  gatehouse --profile local --use-admin-key keys list                    # as the local stack's admin
  gatehouse --profile local call POST /v1/verify --data '{"key":"gth_…"}' --sigv4
`;

export function buildProgram(context: CommandContext): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse from the terminal: log in, manage API keys, call the API (API key, token or SigV4).')
    .version('0.1.0', '-V, --version')
    .option('-p, --profile <name>', 'profile to use ("local" = the local stack); default $GATEHOUSE_PROFILE or "default"')
    .option('--api-url <url>', "the API's base URL (overrides the profile; also $GATEHOUSE_API_URL)")
    .option('--api-key <key>', 'API key to call with (prefer $GATEHOUSE_API_KEY: flags show in the process list)')
    .option('--use-admin-key', "profile local: call with the local stack's admin key (tenant admin, every scope)")
    .option('--region <region>', 'AWS region for SigV4 (overrides the profile)')
    .option('--cert <file>', 'client certificate (PEM) to present: a custom domain with mutual TLS (overrides the profile)')
    .option('--key <file>', "the client certificate's private key (PEM)")
    .option('--cacert <file>', "CA certificate(s) to trust for the API's certificate (PEM), e.g. the local stack's")
    .option('--certificate-only', 'send no API key or token: the client certificate alone is the credential')
    .option('--json', 'machine-readable output: JSON on stdout; on stderr one JSON object per line (notices, the error)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EPILOG)
    // Every subcommand's --help lists these too (configure, for one, needs --profile and --api-url).
    .configureHelp({ showGlobalOptions: true });

  registerLogin(program, context);
  registerWhoami(program, context);
  registerConfigure(program, context);
  registerKeys(program, context);
  registerCall(program, context);
  return program;
}

/**
 * Commander throws instead of exiting, and writes through the io (secret-looking arguments redacted). With
 * `--json`, what it prints on stderr is JSON lines too: its error as `{"error": …}`, help it shows for a bad command
 * line as a `usage` event, without the "run with --help" hint.
 */
export function configureForIo(command: Command, io: CliIo, json: boolean): void {
  command.exitOverride();
  // Commander's messages may quote an argument: redact anything secret-looking (a key pasted in the wrong place).
  command.configureOutput(
    json
      ? {
          writeOut: io.stdout,
          writeErr: (text) => io.stderr(`${JSON.stringify({ event: 'usage', message: redactSecrets(text.trimEnd()) })}\n`),
          outputError: (text) => io.stderr(`${JSON.stringify({ error: { message: redactSecrets(text.trim()), exitCode: EXIT.USAGE } })}\n`),
        }
      : { writeOut: io.stdout, writeErr: (text) => io.stderr(redactSecrets(text)), outputError: (text, write) => write(text) },
  );
  if (json) command.showHelpAfterError(false);
  for (const sub of command.commands) configureForIo(sub, io, json);
}

/** Whether `--json` is on the command line (before a `--`): known before Commander parses it, for its own errors. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}
