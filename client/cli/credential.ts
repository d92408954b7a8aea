/**
 * Which credential a command called with, in words. Every command that calls the API says so before its output
 * (a `credential` notice), and its errors say it again with what to do: a newcomer must never act with a credential
 * they did not choose — the local admin key is used only when asked for (`--use-admin-key`), and an API key in
 * GATEHOUSE_API_KEY, which quietly outranks the login, is named together with how to stop using it.
 */

export type CredentialSource = 'api-key-flag' | 'api-key-env' | 'admin-key' | 'login' | 'sigv4' | 'certificate' | 'none';

export interface UsedCredential {
  readonly source: CredentialSource;
  /** For messages: `the login of alice (profile local)`, `the API key from GATEHOUSE_API_KEY`… */
  readonly label: string;
  /** Who is logged in on the profile when another credential outranked the login (GATEHOUSE_API_KEY, a flag). */
  readonly outrankedLogin?: string;
}

export const NO_CREDENTIAL: UsedCredential = { source: 'none', label: 'no credential' };

export const USE_ADMIN_KEY_FLAG = '--use-admin-key';

/** The one way out of an API key left in the environment, for the messages that mention it. */
export const UNSET_ENV_KEY = '`unset GATEHOUSE_API_KEY`';

/** What the credential notice says (one line on stderr; `--json`: a `credential` event with `source`). */
export function credentialNotice(used: UsedCredential): string {
  switch (used.source) {
    case 'api-key-env':
      return used.outrankedLogin
        ? `Using the API key from GATEHOUSE_API_KEY, not ${used.outrankedLogin}: ${UNSET_ENV_KEY} to use the login again.`
        : 'Using the API key from GATEHOUSE_API_KEY.';
    case 'admin-key':
      return `Using the local stack's admin key (${USE_ADMIN_KEY_FLAG}): tenant admin, every scope.`;
    default:
      return `Using ${used.label}.`;
  }
}

/** After a 401 or 403: the line that says which credential it was, when that is the likely cause. */
export function envKeyHint(used: UsedCredential): string | undefined {
  if (used.source !== 'api-key-env') return undefined;
  return `GATEHOUSE_API_KEY is set in this shell and is used before your login by every command: ${UNSET_ENV_KEY} to use the login again (or \`env -u GATEHOUSE_API_KEY gatehouse …\` for one command).`;
}

/** Why there is no credential, and every way to get one. */
export function noCredentialMessage(profile: string, adminKeyAvailable: boolean): string {
  const ways = [`run \`gatehouse --profile ${profile} login\``, 'pass --api-key', 'or set GATEHOUSE_API_KEY'];
  if (adminKeyAvailable) ways.splice(2, 0, `add ${USE_ADMIN_KEY_FLAG} to act as the local stack's admin key (tenant admin, every scope)`);
  return `No credential for profile ${profile}: ${ways.join(', ')}.`;
}

/** A stored login that no longer fits the profile (the local stack restarted): never replaced by a stronger one. */
export function staleLoginMessage(profile: string, issuer: string, adminKeyAvailable: boolean): string {
  const admin = adminKeyAvailable ? `, or add ${USE_ADMIN_KEY_FLAG} to act as the local stack's admin key instead` : '';
  return (
    `The stored login of profile ${profile} is for another issuer or client (${issuer}): the local stack restarted, or the profile changed. ` +
    `Run \`gatehouse --profile ${profile} login\` again${admin}.`
  );
}
