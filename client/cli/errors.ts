/**
 * How a failed command ends: one message saying what went wrong and what to do next, and the exit code for its
 * kind. Messages pass through redactSecrets: a key pasted in the wrong place is never printed back.
 */
import { CommanderError } from 'commander';

import { ConfigurationError } from '../config.js';
import { GatehouseApiError, GatehouseClientError, GatehouseCredentialsError, GatehouseNetworkError, redactSecrets } from '../errors.js';
import { OidcError } from '../oidc.js';
import { findRoute } from '../routes.js';
import type { CommandContext } from './context.js';
import { envKeyHint, type UsedCredential } from './credential.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { line } from './format.js';
import type { GlobalOptions } from './options.js';

/** A bad command line the option parser cannot catch (exit 2). */
export class UsageError extends GatehouseClientError {}

const capitalised = (text: string) => `${text[0]?.toUpperCase() ?? ''}${text.slice(1)}`;

function exitCodeOfStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.AUTH;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 429) return EXIT.RATE_LIMITED;
  return EXIT.ERROR;
}

/** The lines after `Error: …` for an API error: what to do about it. */
function apiErrorHints(error: GatehouseApiError, used: UsedCredential, profile: string): string[] {
  const lines: string[] = [];
  const { label } = used;
  for (const f of error.fieldErrors ?? []) lines.push(`  - ${f.field || '(body)'}: ${f.message}`);
  if (error.status === 401) {
    const refused =
      used.source === 'api-key-flag' || used.source === 'api-key-env' || used.source === 'admin-key'
        ? `${label} was refused (revoked, expired or mistyped keys all look the same).`
        : used.source === 'login'
          ? `${label} was refused.`
          : `Sent ${label}.`;
    // An API key from the environment gets its own way out below.
    const next = used.source === 'api-key-env' ? '' : ` Run \`gatehouse --profile ${profile} login\` or pass --api-key (or set GATEHOUSE_API_KEY).`;
    lines.push(`${capitalised(refused)}${next}`);
  } else if (error.status === 403) {
    if (error.requiredScope) {
      lines.push(`${error.request.method} ${error.request.path} needs scope ${error.requiredScope}, which ${label} does not grant. Use a credential that holds ${error.requiredScope}.`);
    } else if (error.authError === 'insufficient_scope') {
      lines.push(`The credential (${label}) lacks a scope this route needs.`);
    } else {
      lines.push(`${capitalised(label)} is not allowed to do this.`);
    }
  } else if (error.status === 404 && findRoute(error.request.method, error.request.path) === undefined) {
    lines.push(`There is no route ${error.request.method} ${error.request.path}; see \`gatehouse call GET /openapi.json\`.`);
  } else if (error.status === 429) {
    lines.push(`Rate limited: retry after ${error.retryAfterSeconds ?? 1} s.`);
  } else if (error.status >= 500) {
    lines.push(`The service failed${error.retryAfterSeconds !== undefined ? `; retry after ${error.retryAfterSeconds} s` : ''}.`);
  }
  const envKey = error.status === 401 || error.status === 403 ? envKeyHint(used) : undefined;
  if (envKey) lines.push(envKey);
  if (error.requestId) lines.push(`(request id ${error.requestId})`);
  return lines;
}

function classify(error: unknown, profile: string): [ExitCode, string] {
  if (error instanceof CommanderError || error instanceof UsageError || error instanceof ConfigurationError) return [EXIT.USAGE, error.message];
  if (error instanceof GatehouseCredentialsError) return [EXIT.AUTH, error.message];
  if (error instanceof OidcError) return [EXIT.AUTH, `Login failed: ${error.message}. Run \`gatehouse --profile ${profile} login\` to try again.`];
  if (error instanceof GatehouseNetworkError) return [EXIT.ERROR, `${error.message}. Is the API running and the profile's API URL right?`];
  return [EXIT.ERROR, error instanceof Error ? error.message : String(error)];
}

/** Prints what went wrong and what to do next; returns the exit code. */
export function reportError(error: unknown, g: GlobalOptions, context: CommandContext): ExitCode {
  const profile = context.profileName(g);
  const out = context.output(g);
  if (error instanceof GatehouseApiError) {
    const code = exitCodeOfStatus(error.status);
    const lines = [`Error: ${error.title} (${error.status} ${error.code}): ${error.detail}`, ...apiErrorHints(error, context.used, profile)];
    out.error(lines.map(line).join(''), error.toJSON());
    return code;
  }
  const [code, message] = classify(error, profile);
  const safe = redactSecrets(message);
  out.error(line(`Error: ${safe}`), { message: safe, exitCode: code });
  return code;
}
