/** The global options every command sees, and the parsers of option values (a bad value is a usage error). */
import { InvalidArgumentError } from 'commander';

import { isScopeName, type Scope } from '../../lambdas/core/scopes.js';
import { ALL_SCOPES } from '../../lambdas/routes.js';

export interface GlobalOptions {
  profile?: string;
  apiUrl?: string;
  apiKey?: string;
  /** Profile local: call with the local stack's admin key (never chosen unasked). */
  useAdminKey?: boolean;
  region?: string;
  json?: boolean;
  /** Mutual TLS: client certificate and key files, a CA file to trust (override the profile's). */
  cert?: string;
  key?: string;
  cacert?: string;
  /** Send no key or token: the client certificate alone is the credential. */
  certificateOnly?: boolean;
}

export function parseScopes(value: string, previous: Scope[] = []): Scope[] {
  const out = [...previous];
  for (const part of value.split(/[\s,]+/).filter(Boolean)) {
    // The API decides which scopes exist (a team's API declares its own); only the form is checked here.
    if (!isScopeName(part)) throw new InvalidArgumentError(`"${part}" is not a scope name (Gatehouse's own: ${ALL_SCOPES.join(', ')})`);
    if (!out.includes(part)) out.push(part);
  }
  return out;
}

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

export function parseHeader(value: string, previous: [string, string][] = []): [string, string][] {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new InvalidArgumentError('expected "Name: value"');
  return [...previous, [value.slice(0, colon).trim(), value.slice(colon + 1).trim()]];
}
