/**
 * How the console signs a person in: the authorization server's endpoints and the console's public client. Given
 * to the console function by the deployment — CDK sets it in the environment (the Cognito domain and the console's
 * app client, infra/constructs/console.ts), the local stack hands it over (its OIDC provider's console client) —
 * and checked at cold start, so a bad value is a configuration error, never a broken page.
 */
import * as z from 'zod';
import { ConfigError } from '../../core/errors.js';
import type { DeploymentValues } from '../group.js';

export const CONSOLE_SIGN_IN_ENV = 'GATEHOUSE_CONSOLE_SIGN_IN';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https, or http on a loopback host (the local stack): tokens never cross a network in clear text. */
const endpoint = z
  .string()
  .max(2048)
  .refine((value) => {
    const url = URL.parse(value);
    if (!url || url.username || url.password || url.hash || url.search) return false;
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
  }, 'an https URL (http only on a loopback host), without query or fragment');

/** An OAuth scope token (RFC 6749 §3.3). */
const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/);

export const consoleSignInSchema = z
  .object({
    /** Whose endpoints: Cognito's managed login (`/logout?client_id&logout_uri`) or an OIDC provider (end_session). */
    kind: z.enum(['cognito', 'oidc']),
    authorizationEndpoint: endpoint,
    tokenEndpoint: endpoint,
    logoutEndpoint: endpoint,
    clientId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/),
    /** What the console asks for: `openid` and the resource server's scopes people may hold. */
    scopes: z.array(scopeToken).min(1).max(100),
  })
  .strict();

export type ConsoleSignIn = z.output<typeof consoleSignInSchema>;

/** The console's sign-in settings, or null when the deployment gives none (the page then says so). */
export function readConsoleSignIn(values: DeploymentValues = {}): ConsoleSignIn | null {
  const raw = values[CONSOLE_SIGN_IN_ENV] ?? process.env[CONSOLE_SIGN_IN_ENV];
  if (raw === undefined || raw === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(CONSOLE_SIGN_IN_ENV, 'JSON with kind, authorizationEndpoint, tokenEndpoint, logoutEndpoint, clientId and scopes');
  }
  const result = consoleSignInSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(CONSOLE_SIGN_IN_ENV, `valid sign-in settings (${issue ? `${issue.path.join('.') || 'value'}: ${issue.message}` : 'invalid'})`);
  }
  return result.data;
}
